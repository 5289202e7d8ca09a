"""Scenario suite files: scripted customer turns with expectations, read and validated. No database here.

The file format (YAML, or JSON which YAML reads too) is documented in ``docs/scenario_suites.md`` with an
example in ``examples/suites/``. Bad files give line-precise errors (``file:line:column: where: problem``):
``parse_suite`` / ``load_suite_file`` raise ``SuiteFileError``. Running a suite is ``suites.run_suite``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dokani import limits
from dokani.lab.intents import INTENTS
from dokani.lab.orders import SimulatedOrder
from dokani.errors import Invalid, NotFound

ROOT = Path(__file__).resolve().parents[2]  # the project folder (examples/ lives there)
EXAMPLES = ROOT / "examples" / "suites"
Recommendation = Literal["auto_approve", "auto_deny", "human_review"]
INTENT_NAMES = tuple(i for i in INTENTS)


# ------------------------------------------------------------------------------------------------------------
# The file format
# ------------------------------------------------------------------------------------------------------------


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class ReturnExpectation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opened: bool = True
    status: str | None = None  # approved | denied | pending_review ...


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intent: Literal[INTENT_NAMES] | None = None  # type: ignore[valid-type]
    reply_contains: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)
    triage: Recommendation | None = None
    return_opened: ReturnExpectation | None = None  # `true`, `false`, or `{status: approved}`
    escalated: bool | None = None
    order_id: str | None = None

    @field_validator("return_opened", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        return {"opened": value} if isinstance(value, bool) else value

    @field_validator("reply_contains", "reply_not_contains", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _as_list(value)


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    say: str = Field(..., min_length=1, max_length=4000)
    expect: Expectation = Field(default_factory=Expectation)


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field("suite.customer@example.com", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    order: str | None = None


class SuiteOrder(SimulatedOrder):
    """A simulated order in a suite file (unknown keys are mistakes here)."""

    model_config = ConfigDict(extra="forbid")


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=120)
    customer: Customer | None = None
    chat_mode: Literal["normal", "messenger", "whatsapp", "shopify", "woocommerce"] | None = None
    orders: list[SuiteOrder] = Field(default_factory=list)
    turns: list[Turn] = Field(..., min_length=1)


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite: str = Field(..., min_length=1, max_length=120)
    description: str | None = None
    policy: str | None = None  # default policy version; the runner's argument wins
    chat_mode: Literal["normal", "messenger", "whatsapp", "shopify", "woocommerce"] = "normal"
    customer: Customer = Field(default_factory=Customer)
    scenarios: list[Scenario] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> "Suite":
        seen: set[str] = set()
        for s in self.scenarios:
            if s.name in seen:
                raise ValueError(f"two scenarios are named {s.name!r}")
            seen.add(s.name)
        return self


class SuiteFileError(Invalid):
    """A suite file that cannot be run; `problems` maps ``line N, column M`` to what is wrong there."""

    def __init__(self, source: str, errors: list[tuple[int, int, str, str]]):
        self.source = source
        self.errors = errors  # (line, column, where, problem), 1-based
        lines = [f"{source}:{ln}:{col}: {where + ': ' if where else ''}{problem}" for ln, col, where, problem in errors]
        super().__init__("The suite file has problems:\n" + "\n".join(lines),
                         {f"line {ln}, column {col}": f"{where + ': ' if where else ''}{problem}"
                          for ln, col, where, problem in errors})
        self.lines = lines


def _positions(root: yaml.Node) -> dict[tuple, tuple[int, int]]:
    """Every path in the document -> (line, column) of its value (keys of mappings point at the key).

    Iterative and bounded: `limits.load_yaml` has already refused documents whose aliases expand beyond its limits.
    """
    out: dict[tuple, tuple[int, int]] = {}
    stack: list[tuple[yaml.Node, tuple]] = [(root, ())]
    while stack and len(out) <= limits.MAX_NODES * 2:
        node, path = stack.pop()
        out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                k = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
                stack.append((value, path + (k,)))
                out[path + (k, "__key__")] = (key.start_mark.line + 1, key.start_mark.column + 1)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, path + (i,)) for i, item in enumerate(node.value))
    return out


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_suite(source_text: str, source: str = "suite") -> Suite:
    """Read and validate a suite; raise `SuiteFileError` naming the line and column of every problem."""
    try:
        data, root = limits.load_yaml(source_text)
    except (yaml.MarkedYAMLError, limits.DocumentTooBig) as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        kind = "refused, the file is" if isinstance(err, limits.DocumentTooBig) else "not valid YAML/JSON:"
        raise SuiteFileError(source, [(line, col, "", f"{kind} {err.problem or err}")]) from None
    except yaml.YAMLError as err:
        raise SuiteFileError(source, [(1, 1, "", f"not valid YAML/JSON: {err}")]) from None
    if not isinstance(data, dict) or root is None:
        raise SuiteFileError(source, [(1, 1, "", "a suite is a mapping with 'suite' and 'scenarios' keys")])
    positions = _positions(root)
    stored = limits.tree_problems(data)  # NUL bytes, 1e999, 20-digit integers: refused here, not by Postgres
    if stored:
        raise SuiteFileError(source, sorted(
            (*(positions.get(path) or (1, 1)), _where(path), problem) for path, problem in stored))
    try:
        return Suite.model_validate(data)
    except ValidationError as err:
        errors = []
        for e in err.errors():
            loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
            # pydantic adds the chosen union member (bool / ReturnExpectation) to the location: drop type names
            problem = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                problem = f"unknown key {loc[-1]!r}" if loc else "unknown key"
                pos = positions.get(loc + ("__key__",)) or positions.get(loc)
            elif e["type"] == "missing":
                pos = None
            else:
                pos = positions.get(loc)
            probe = loc
            while pos is None and probe:
                probe = probe[:-1]
                pos = positions.get(probe)
            line, col = pos or (1, 1)
            errors.append((line, col, _where(loc), problem))
        errors.sort()
        raise SuiteFileError(source, errors) from None


def load_suite_file(path: str | Path) -> Suite:
    p = Path(path)
    try:
        if p.stat().st_size > limits.MAX_DOCUMENT_BYTES:
            raise SuiteFileError(p.name, [(1, 1, "", f"refused, the file is larger than {limits.MAX_DOCUMENT_BYTES // 1024} KiB")])
        content = p.read_text(encoding="utf-8")
    except OSError as err:
        raise NotFound(f"Cannot read suite file {p}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise SuiteFileError(p.name, [(1, 1, "", f"not UTF-8 text (byte {err.start} cannot be read)")]) from None
    return parse_suite(content, p.name)


def example_suites() -> list[Path]:
    return sorted(EXAMPLES.glob("*.y*ml")) + sorted(EXAMPLES.glob("*.json"))
