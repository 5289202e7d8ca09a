"""Passwords: bcrypt hashes in ``auth.users.encrypted_password``, the format Supabase's GoTrue writes.

GoTrue's hashes look like ``$2a$10$...``; bcrypt verifies ``$2a$``, ``$2b$`` and ``$2y$`` alike, so a
Supabase project's existing users sign in with the passwords they already have.
"""
from __future__ import annotations

import bcrypt

from dokani.errors import Invalid

MIN_LENGTH = 10
MAX_BYTES = 72  # bcrypt reads no further; longer passwords are refused rather than silently cut
COST = 10  # GoTrue's cost

# Checked against when an email has no account, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"no account has this password", bcrypt.gensalt(COST)).decode()


def check_new_password(password: str) -> None:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"A password needs at least {MIN_LENGTH} characters.")
    if len(password.encode()) > MAX_BYTES:
        problems.append(f"A password can have at most {MAX_BYTES} bytes (bcrypt ignores the rest).")
    if "\x00" in password:
        problems.append("A password cannot contain a NUL character.")
    if problems:
        raise Invalid(" ".join(problems))


def hash_password(password: str) -> str:
    check_new_password(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(COST)).decode()


def password_matches(password: str, encrypted: str | None) -> bool:
    """True when `password` matches `encrypted`; always takes one bcrypt check, account or not."""
    candidate = password.encode()[:MAX_BYTES]
    target = encrypted if encrypted and encrypted.startswith("$2") else _DUMMY_HASH
    try:
        ok = bcrypt.checkpw(candidate, target.encode())
    except ValueError:  # a malformed stored hash
        bcrypt.checkpw(candidate, _DUMMY_HASH.encode())
        return False
    return ok and target is not _DUMMY_HASH
