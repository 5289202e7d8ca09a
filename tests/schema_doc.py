"""Read the schema document itself (docs/schema_document.md, a copy of shared/seed/000_*.txt).

Tests compare the database against the document's own words, not against our migration's spec.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "schema_document.md"
SHARED_DOC = ROOT.parent / "shared" / "seed" / "000_9ac5c67499763e0e.txt"

PG_TYPES = {
    "uuid": "uuid", "text": "text", "timestamp": "timestamp without time zone", "boolean": "boolean",
    "jsonb": "jsonb", "numeric": "numeric", "integer": "integer", "bigint": "bigint", "bytea": "bytea",
    "array": "ARRAY",
}


@dataclass
class DocColumn:
    name: str
    type: str
    line: str

    @property
    def pg_type(self) -> str:
        return PG_TYPES[self.type]

    @property
    def not_null(self) -> bool:
        return "NOT NULL" in self.line or "PRIMARY KEY" in self.line

    @property
    def default(self) -> str | None:
        m = re.search(r"DEFAULT (.+?)(?: UNIQUE| CHECK| NOT NULL| REFERENCES|$)", self.line)
        return m.group(1).strip() if m else None

    @property
    def references(self) -> str | None:
        m = re.search(r"REFERENCES ([\w.]+)\((\w+)\)", self.line)
        return f"{m.group(1)}.{m.group(2)}" if m else None

    @property
    def check(self) -> str | None:
        m = re.search(r"CHECK \((.+)\)\s*$", self.line)
        return m.group(1) if m else None


@dataclass
class DocTable:
    schema: str
    name: str
    columns: list[DocColumn] = field(default_factory=list)


def parse(text: str | None = None) -> list[DocTable]:
    text = text if text is not None else DOC.read_text()
    tables: list[DocTable] = []
    for m in re.finditer(r"### `([\w.]+)`.*?```sql\n(.*?)```", text, re.S):
        qualified = m.group(1)
        schema, name = qualified.split(".") if "." in qualified else ("public", qualified)
        table = DocTable(schema, name)
        for line in m.group(2).strip().splitlines():
            line = line.strip()
            col, type_ = line.split()[:2]
            table.columns.append(DocColumn(col, type_, line))
        tables.append(table)
    return tables


def as_ddl(tables: list[DocTable]) -> str:
    """Plain CREATE TABLE statements, as a Supabase project built from the document would have them."""
    out = []
    for t in tables:
        cols = []
        for c in t.columns:
            line = c.line.replace(" array", " text[]").replace("'{...}'", "'{}'")
            if t.name == "profiles" and c.name == "business_id":
                line += " UNIQUE"  # every business_id foreign key needs it
            cols.append(line)
        out.append(f"CREATE TABLE {t.schema}.{t.name} (\n  " + ",\n  ".join(cols) + "\n);")
    return "\n".join(out)
