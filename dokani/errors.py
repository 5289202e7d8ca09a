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
