"""The storage interface every engine implements.

Deliberately small, so a server-backed engine (Redis, PostgreSQL) can replace the embedded TinyDB one:
namespaced JSON documents with an atomic "insert if absent" and an atomic "take" (delete that reports
whether it removed something), plus append-only streams for history. Every call returns only once the
change is durable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

Doc = dict[str, Any]


class StorageError(RuntimeError):
    """A storage engine cannot do what was asked (bad document, store in use, ...)."""


class Storage(ABC):
    """Durable, namespaced key/document store plus append-only streams."""

    async def open(self) -> None:
        """Acquire files or connections; called once before use."""

    async def close(self) -> None:
        """Flush and release; called once at shutdown."""

    @abstractmethod
    async def get(self, namespace: str, key: str) -> Doc | None:
        """The document stored under `key`, or None. The caller owns the returned copy."""

    @abstractmethod
    async def put(self, namespace: str, key: str, doc: Doc) -> None:
        """Store (insert or replace) a JSON-compatible document."""

    @abstractmethod
    async def put_if_absent(self, namespace: str, key: str, doc: Doc) -> bool:
        """Store only if the key is new; True when stored. Atomic: of two racing callers one wins."""

    @abstractmethod
    async def delete(self, namespace: str, key: str) -> bool:
        """Remove the key; True if it existed. Atomic, so it doubles as "take exactly once"."""

    @abstractmethod
    async def scan(self, namespace: str) -> list[tuple[str, Doc]]:
        """Every (key, document) of a namespace, sorted by key. Meant for small or rare listings."""

    @abstractmethod
    async def append(self, stream: str, record: Doc) -> None:
        """Append a record to an append-only stream (message history, audit)."""

    @abstractmethod
    def read_stream(self, stream: str) -> AsyncIterator[Doc]:
        """Every record of a stream, oldest first."""


def check_name(name: str, what: str) -> str:
    """Namespaces and streams become file or table names: keep them to a safe alphabet."""
    if not name or not all(c.isalnum() or c in "-_.:" for c in name) or name.startswith("."):
        raise StorageError(f"invalid {what} name {name!r}: use letters, digits, '-', '_', '.', ':'")
    return name
