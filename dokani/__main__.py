"""Command line: ``python -m dokani migrate | seed | triage | test-persona ...``.

Each command is a small function registered in ``COMMANDS``; services do the work.
"""
from __future__ import annotations

import argparse
import sys

from dokani import cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dokani", description="Dokani console tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for register in cli.COMMANDS:
        register(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
