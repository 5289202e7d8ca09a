"""Domain errors that the UI turns into clear messages (never tracebacks)."""


class DokaniError(Exception):
    """Base class: the message is written for the person at the console."""


class Conflict(DokaniError):
    """The data changed since it was read (another reviewer decided, another admin saved)."""


class NotAllowed(DokaniError):
    """The acting user may not do this (role, tenancy, an illegal status transition)."""


class Invalid(DokaniError):
    """The input is wrong; `problems` lists field -> message for field-level display."""

    def __init__(self, message: str, problems: dict[str, str] | None = None):
        super().__init__(message)
        self.problems = problems or {}


class NotFound(DokaniError):
    """Nothing visible to this user under that id."""


class DatabaseUnavailable(DokaniError):
    """The database cannot be reached."""


def field_problems(err, whole: str) -> dict[str, str]:
    """A pydantic ValidationError as {dotted.field: message}, first message per field; `whole` names the root."""
    problems: dict[str, str] = {}
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or whole
        problems.setdefault(field, e["msg"].removeprefix("Value error, "))
    return problems
