"""What a value from outside may be, checked where it enters (files, forms, searches, the CLI) - one place.

Postgres refuses what its columns cannot hold (a NUL byte in text, an integer beyond 32/64 bits, NaN or
infinity in a number, dates past year 9999) and Python refuses some of it too (``int`` of thousands of digits,
``date.max + 1 day``). Rather than letting those reach the database and come back as a generic banner or a
traceback, every entry point runs its values through these checks and refuses with an ``Invalid`` message.
Structured files (suite YAML/JSON, policy JSON) are parsed here with limits on size, nesting depth and YAML
aliases, so a tiny hostile file cannot exhaust memory or the recursion limit.
"""
from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import yaml

from dokani.errors import Invalid

MAX_TEXT = 20_000  # one text value (a reason, a chat message, a note)
MAX_SEARCH = 200  # a search box
MAX_DOCUMENT_BYTES = 1 * 2**20  # a suite file or a policy's JSON
MAX_DEPTH = 32  # nesting of mappings/lists in a document
MAX_ALIASES = 10  # YAML *aliases per document (anchors are rare in suites; a few are fine)
MAX_NODES = 100_000  # values in a document once its aliases are expanded
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
MAX_DECIMAL = 1e12  # money and thresholds: far above any order, far below what numeric/float columns hold
EARLIEST = date(1970, 1, 1)  # dates outside [EARLIEST, LATEST] are typos, not returns
LATEST = date(2100, 12, 31)
CLOCK_SKEW = timedelta(minutes=5)  # a creation date this far ahead of the server's clock is still "now"
NAME_MAX = 60  # persona names and policy version names
_NAME = re.compile(r"^[\w][\w .,'&()/+#:@-]*$")  # letters/digits first; no braces, markup or control characters
_SURROGATE = re.compile(r"[\ud800-\udfff]")


# ------------------------------------------------------------------------------------------------------------
# Scalars: each `*_problem` returns a message or None (for reports listing every problem); `check_*` raises.
# ------------------------------------------------------------------------------------------------------------


def text_problem(value: str, max_len: int = MAX_TEXT) -> str | None:
    if "\x00" in value:
        return "contains a NUL character (\\x00), which cannot be stored"
    if _SURROGATE.search(value):
        return "contains a character that is not valid Unicode"
    if len(value) > max_len:
        return f"is longer than {max_len:,} characters"
    return None


def check_text(value: Any, field: str, max_len: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text.", {field: "must be text"})
    problem = text_problem(value, max_len)
    if problem:
        raise Invalid(f"{field} {problem}.", {field: problem})
    return value


def int_problem(value: int, bits: int = 32) -> str | None:
    low, high = INT32 if bits == 32 else INT64
    return None if low <= value <= high else f"{value if len(str(value)) < 25 else str(value)[:20] + '…'} is out of range ({low:,} to {high:,})"


def parse_int(raw: str, bits: int = 32) -> tuple[int | None, str | None]:
    """A whole number from text (no thousands of digits ever reach ``int``)."""
    s = raw.strip().replace("_", "x")  # int() accepts 1_000; a file should not
    if not re.fullmatch(r"[+-]?\d{1,20}", s):
        return None, f"not a whole number: {raw[:30]!r}"
    value = int(s)
    return (None, problem) if (problem := int_problem(value, bits)) else (value, None)


def decimal_problem(value: float, low: float = 0.0, high: float = MAX_DECIMAL) -> str | None:
    if not math.isfinite(value):
        return f"must be a finite number, not {value}"
    if value < low:
        return "must not be negative" if low == 0 else f"must be at least {low:g}"
    if value > high:
        return f"must be at most {high:,.0f}"
    return None


def parse_decimal(raw: str, low: float = 0.0, high: float = MAX_DECIMAL) -> tuple[float | None, str | None]:
    """A finite number from text: ``nan``, ``inf``, ``1e400`` and friends are refused."""
    s = raw.strip().replace(",", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?", s) or len(s) > 40:
        return None, f"not a number: {raw[:30]!r}"
    value = float(s)
    if math.isinf(value):
        return None, f"too large to be a number: {raw[:30]!r}"
    return (None, problem) if (problem := decimal_problem(value, low, high)) else (value, None)


def check_decimal(value: Any, field: str, low: float = 0.0, high: float = MAX_DECIMAL) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"{field} must be a number.", {field: "must be a number"})
    if isinstance(value, int) and not (INT64[0] <= value <= INT64[1]):
        raise Invalid(f"{field} is out of range.", {field: "out of range"})
    problem = decimal_problem(float(value), low, high)
    if problem:
        raise Invalid(f"{field} {problem}.", {field: problem})
    return float(value)


def utc_naive(value: datetime) -> datetime:
    """Every timestamp of the schema is naive UTC: an offset is converted to UTC (not to the server's zone)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def timestamp_problem(value: datetime, *, not_future: bool = False, now: datetime | None = None) -> str | None:
    """``value`` naive UTC (see `utc_naive`)."""
    if not (EARLIEST <= value.date() <= LATEST):
        return f"must be between {EARLIEST} and {LATEST}"
    if not_future and value > (now or datetime.now(timezone.utc).replace(tzinfo=None)) + CLOCK_SKEW:
        return "is in the future"
    return None


def parse_timestamp(raw: str, *, not_future: bool = False, now: datetime | None = None) -> tuple[datetime | None, str | None]:
    """An ISO 8601 date/time as naive UTC; edges (year 1, year 9999 with an offset) are refused, not overflowed."""
    s = raw.strip()
    try:
        value = datetime.fromisoformat(s)
    except ValueError:
        return None, f"not a date/time (use ISO 8601, e.g. 2026-11-20 14:30): {raw[:40]!r}"
    if not (EARLIEST - timedelta(days=2) <= value.date() <= LATEST + timedelta(days=2)):
        return None, f"must be between {EARLIEST} and {LATEST}"
    value = utc_naive(value)  # safe now: far from datetime.min/max
    problem = timestamp_problem(value, not_future=not_future, now=now)
    return (None, problem) if problem else (value, None)


def check_date(value: date | None, field: str) -> date | None:
    """A date a filter may ask for (so that ``date + 1 day`` and the SQL comparison never overflow)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not (EARLIEST <= value <= LATEST):
        raise Invalid(f"{field} must be between {EARLIEST} and {LATEST}.", {field: f"between {EARLIEST} and {LATEST}"})
    return value


def name_problem(value: str) -> str | None:
    """Persona names and policy version names: one limit, checked when the name is saved."""
    if not value:
        return "must not be empty"
    if len(value) > NAME_MAX:
        return f"at most {NAME_MAX} characters"
    if not _NAME.match(value):
        return ("letters, digits, spaces and . , ' & ( ) / + # : @ - only (starting with a letter or digit; "
                "no braces, brackets or markup)")
    return None


def check_name(value: Any, field: str, what: str) -> str:
    name = (value or "").strip() if isinstance(value, str) else ""
    problem = name_problem(name)
    if problem:
        raise Invalid(f"The {what} is not valid: {problem}.", {field: problem})
    return name


# ------------------------------------------------------------------------------------------------------------
# Documents: JSON and YAML with limits, then every value checked (text, integers, numbers).
# ------------------------------------------------------------------------------------------------------------


def tree_problems(data: Any, where: str = "") -> list[tuple[tuple, str]]:
    """Every value Postgres/JSONB cannot hold, as (path, problem); iterative, depth-limited."""
    problems: list[tuple[tuple, str]] = []
    stack: list[tuple[tuple, Any]] = [((), data)]
    seen = 0
    while stack and len(problems) < 50:
        path, value = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            problems.append(((), f"more than {MAX_NODES:,} values"))
            break
        if len(path) > MAX_DEPTH:
            problems.append((path, f"nested deeper than {MAX_DEPTH} levels"))
            continue
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    k = str(k)
                if (p := text_problem(k, 200)) is not None:
                    problems.append((path + (k[:20],), f"key {p}"))
                    continue
                stack.append((path + (k,), v))
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in enumerate(value))
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if (p := int_problem(value, 64)) is not None:
                problems.append((path, p))
        elif isinstance(value, float):
            if not math.isfinite(value):
                problems.append((path, f"must be a finite number, not {value}"))
        elif isinstance(value, str):
            if (p := text_problem(value)) is not None:
                problems.append((path, p))
    return sorted(problems, key=lambda x: str(x[0]))


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


def _json_depth(text_: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text_:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _json_int(raw: str) -> int:
    if len(raw.lstrip("-")) > 20:
        raise ValueError(f"the number {raw[:20]}… has too many digits")
    return int(raw)


def _json_constant(raw: str) -> float:
    raise ValueError(f"{raw} is not a number JSON allows")


def load_json(text_: str, what: str = "the JSON") -> Any:
    """JSON with limits; `Invalid` (problem under "json") for anything too big, deep or not storable."""
    if len(text_) > MAX_DOCUMENT_BYTES:
        raise Invalid(f"{what} is larger than {MAX_DOCUMENT_BYTES // 1024} KiB.", {"json": "too large"})
    if _json_depth(text_) > MAX_DEPTH:
        raise Invalid(f"{what} is nested deeper than {MAX_DEPTH} levels.", {"json": f"nested deeper than {MAX_DEPTH} levels"})
    try:
        data = json.loads(text_, parse_int=_json_int, parse_constant=_json_constant)
    except json.JSONDecodeError as err:
        raise Invalid(f"{what} is malformed.", {"json": f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}"}) from None
    except (ValueError, RecursionError) as err:
        raise Invalid(f"{what} cannot be read.", {"json": str(err)}) from None
    check_tree(data, what)
    return data


def check_tree(data: Any, what: str = "the document") -> Any:
    problems = tree_problems(data)
    if problems:
        raise Invalid(f"{what} holds values that cannot be stored.", {dotted(p): m for p, m in problems})
    return data


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader whose integers are length-checked before ``int`` sees them and whose errors are all YAMLErrors."""

    def construct_yaml_int(self, node):
        if len(node.value) > 24:
            raise yaml.constructor.ConstructorError(None, None, "this integer has too many digits", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as err:
            raise yaml.constructor.ConstructorError(None, None, f"not a valid date: {err}", node.start_mark) from None


_LimitedLoader.add_constructor("tag:yaml.org,2002:int", _LimitedLoader.construct_yaml_int)
_LimitedLoader.add_constructor("tag:yaml.org,2002:timestamp", _LimitedLoader.construct_yaml_timestamp)


class DocumentTooBig(yaml.YAMLError):
    """A YAML document beyond the limits; carries the place where the limit was hit."""

    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.problem = message
        self.problem_mark = mark
        self.context_mark = None


def _check_events(text_: str) -> None:
    """Depth and aliases from the event stream (iterative: no recursion, no node built yet)."""
    depth = aliases = 0
    for event in yaml.parse(text_, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise DocumentTooBig(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise DocumentTooBig(f"more than {MAX_ALIASES} aliases (*name); write the values out", event.start_mark)


def _check_expanded(root: yaml.Node) -> None:
    """The document as the reader will see it (aliases expanded) stays within MAX_NODES values and MAX_DEPTH."""
    stack = [(root, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise DocumentTooBig(f"more than {MAX_NODES:,} values once its aliases are expanded", node.start_mark)
        if depth > MAX_DEPTH:
            raise DocumentTooBig(f"nested deeper than {MAX_DEPTH} levels once its aliases are expanded", node.start_mark)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)


def load_yaml(text_: str) -> tuple[Any, yaml.Node | None]:
    """(data, composed root node) of a YAML (or JSON) document within the limits.

    Raises ``yaml.YAMLError`` (``MarkedYAMLError`` / `DocumentTooBig` with a mark where known) for anything
    malformed or beyond the limits; the caller turns it into its own line-precise message.
    """
    if len(text_) > MAX_DOCUMENT_BYTES:
        raise DocumentTooBig(f"larger than {MAX_DOCUMENT_BYTES // 1024} KiB")
    if "\x00" in text_:
        raise DocumentTooBig("contains a NUL character (\\x00)")
    _check_events(text_)
    root = yaml.compose(text_, Loader=yaml.SafeLoader)
    if root is None:
        return None, None
    _check_expanded(root)
    try:
        data = yaml.load(text_, Loader=_LimitedLoader)  # noqa: S506 - a SafeLoader subclass
    except (ValueError, OverflowError, TypeError, RecursionError) as err:
        raise DocumentTooBig(f"a value cannot be read: {err}") from None
    return data, root
