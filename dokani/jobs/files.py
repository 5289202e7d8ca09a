"""``job_files``: a file handed to a job (an accepted import) or made by one (an export), stored in chunks of at
most ``CHUNK_BYTES`` (revision 0017, row-level security by business). Every call runs in the member's unit of work
and names the business; nothing here commits."""
from __future__ import annotations

import hashlib
from typing import Iterable, Iterator

from pydantic import BaseModel
from sqlalchemy import text

from db.uow import UnitOfWork
from dokani.errors import NotFound

CHUNK_BYTES = 1024 * 1024


class JobFile(BaseModel):
    id: int
    purpose: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str | None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(uow: UnitOfWork, purpose: str, file_name: str, content: bytes | Iterable[bytes], *,
          content_type: str = "application/octet-stream") -> JobFile:
    """Store a file (bytes, or pieces of any size: they are regrouped into chunks) in the caller's transaction."""
    b, user = uow.actor.business_id, uow.actor.user_id
    file_id = uow.session.execute(text(
        "INSERT INTO job_files (business_id, purpose, file_name, content_type, created_by) "
        "VALUES (:b, :p, :n, :t, :u) RETURNING id"),
        {"b": b, "p": purpose, "n": file_name[:255] or "file", "t": content_type, "u": user}).scalar_one()
    digest, size, seq, pending = hashlib.sha256(), 0, 0, bytearray()

    def write(piece: bytes) -> None:
        nonlocal seq
        uow.session.execute(text(
            "INSERT INTO job_file_chunks (file_id, seq, business_id, created_by, data) VALUES (:f, :s, :b, :u, :d)"),
            {"f": file_id, "s": seq, "b": b, "u": user, "d": piece})
        seq += 1

    for piece in ([content] if isinstance(content, (bytes, bytearray)) else content):
        digest.update(piece)
        size += len(piece)
        pending += piece
        while len(pending) >= CHUNK_BYTES:
            write(bytes(pending[:CHUNK_BYTES]))
            del pending[:CHUNK_BYTES]
    if pending or seq == 0:
        write(bytes(pending))
    uow.session.execute(text("UPDATE job_files SET size_bytes = :s, sha256 = :h WHERE id = :f AND business_id = :b"),
                        {"s": size, "h": digest.hexdigest(), "f": file_id, "b": b})
    return info(uow, file_id)


def info(uow: UnitOfWork, file_id: int) -> JobFile:
    row = uow.session.execute(text(
        "SELECT id, purpose, file_name, content_type, size_bytes, sha256 FROM job_files "
        "WHERE id = :f AND business_id = :b"), {"f": file_id, "b": uow.actor.business_id}).mappings().first()
    if row is None:
        raise NotFound(f"File #{file_id} is no longer stored in this business.")
    return JobFile(**row)


def chunks(uow: UnitOfWork, file_id: int) -> Iterator[bytes]:
    """The file's bytes, one chunk per round trip (a download never holds the whole file)."""
    info(uow, file_id)
    seq = -1
    while True:
        row = uow.session.execute(text(
            "SELECT seq, data FROM job_file_chunks WHERE file_id = :f AND business_id = :b AND seq > :s "
            "ORDER BY seq LIMIT 1"), {"f": file_id, "b": uow.actor.business_id, "s": seq}).first()
        if row is None:
            return
        seq = row.seq
        yield bytes(row.data)


def read(uow: UnitOfWork, file_id: int) -> bytes:
    return b"".join(chunks(uow, file_id))


def delete(uow: UnitOfWork, file_id: int) -> None:
    uow.session.execute(text("DELETE FROM job_files WHERE id = :f AND business_id = :b"),
                        {"f": file_id, "b": uow.actor.business_id})
