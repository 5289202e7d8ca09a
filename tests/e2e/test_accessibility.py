"""Accessibility: axe-core (npm, injected by Playwright) finds no serious or critical problem on any page."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from db.demo import user
from tests.e2e.conftest import _browser_required, open_as, wait_for_app

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ["overview", "returns", "policies", "chat", "calls", "risk", "import", "team", "settings"]


def _axe_script() -> str:
    if not AXE.exists():
        message = f"axe-core not installed at {AXE} (npm ci)"
        if _browser_required():
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


def serious_findings(page) -> list[str]:
    """axe's WCAG 2 A/AA rules on the page as it is now: each serious or critical violation, in words."""
    page.add_script_tag(content=_axe_script())
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})")
    found = []
    for v in result["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = []
            for n in v["nodes"][:3]:
                data = next((c.get("data") for c in n.get("any", []) if c.get("data")), None) or {}
                colours = (f" {data.get('fgColor')} on {data.get('bgColor')} = {data.get('contrastRatio')}"
                           if isinstance(data, dict) and data.get("fgColor") else "")
                targets.append(json.dumps(n["target"]) + colours + " " + n.get("html", "")[:80])
            found.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']} — {', '.join(targets)}")
    return found


def test_every_page_has_no_serious_accessibility_findings(app_server, page):
    _axe_script()
    findings: dict[str, list[str]] = {}
    open_as(page, app_server, "overview", user("atlas", "owner"))
    for path in PAGES:
        page.goto(app_server.page_url(path))
        wait_for_app(page)
        page.wait_for_timeout(500)  # charts and tables settle
        problems = serious_findings(page)
        if problems:
            findings[path] = problems
    assert not findings, "\n".join(f"{p}: {line}" for p, lines in findings.items() for line in lines)


def test_the_sign_in_page_has_no_serious_accessibility_findings(app_server, page):
    page.goto(app_server.page_url("sign-in"))
    assert not serious_findings(page)
