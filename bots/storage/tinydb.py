"""The default, embedded engine: TinyDB files written atomically with group commit.

TinyDB rewrites its whole file on every write, so one big file makes each message cost more as the
store grows. Here every namespace is split into many small TinyDB files (a document lives in the
bucket its key hashes to), so a write rewrites a few kilobytes whatever the history holds. Writes
update TinyDB in memory at once; a single committer then writes every dirty bucket to a temporary file,
fsyncs it and renames it over the old one (a crash leaves the old or the new file, never half of one),
and appends history lines with one fsync for all the writers that arrived meanwhile (group commit).
History streams are append-only JSON-lines files, one per day, never rewritten.

Single process only: a lock file refuses a second process. Use a server-backed engine to run several.
"""

from __future__ import annotations

import asyncio
import copy
import fcntl
import json
import logging
import os
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage as TinyStorage
from tinydb.table import Document

from .base import Doc, Storage, StorageError, check_name

log = logging.getLogger(__name__)

BUCKETS = 4096


class _MemoryFirstStorage(TinyStorage):
    """TinyDB storage that keeps the data in memory; the committer makes it durable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] | None = None
        self.dirty = False

    def read(self) -> dict[str, Any] | None:
        if self.data is None and self.path.exists():
            self.data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        return self.data

    def write(self, data: dict[str, Any]) -> None:
        self.data = data
        self.dirty = True

    def snapshot(self) -> str:
        self.dirty = False
        return json.dumps(self.data or {}, ensure_ascii=False, separators=(",", ":"))


class _Bucket:
    """One small TinyDB file holding the documents whose keys hash to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = TinyDB(path, storage=_MemoryFirstStorage)
        self.table = self.db.table("docs", cache_size=0)
        self.ids: dict[str, int] = {doc["k"]: doc.doc_id for doc in self.table.all()}

    @property
    def storage(self) -> _MemoryFirstStorage:
        return self.db.storage  # type: ignore[return-value]

    def get(self, key: str) -> Doc | None:
        doc_id = self.ids.get(key)
        if doc_id is None:
            return None
        found = self.table.get(doc_id=doc_id)
        return copy.deepcopy(found["v"]) if found else None

    def put(self, key: str, value: Doc) -> None:
        doc_id = self.ids.get(key)
        if doc_id is None:
            doc_id = max(self.ids.values(), default=0) + 1
            self.ids[key] = doc_id
        self.table.upsert(Document({"k": key, "v": value}, doc_id=doc_id))

    def delete(self, key: str) -> bool:
        doc_id = self.ids.pop(key, None)
        if doc_id is None:
            return False
        self.table.remove(doc_ids=[doc_id])
        return True

    def items(self) -> list[tuple[str, Doc]]:
        return [(doc["k"], copy.deepcopy(doc["v"])) for doc in self.table.all()]


def _json_copy(doc: Doc) -> Doc:
    """Store a private copy, and fail now (not at commit) on anything JSON cannot hold."""
    try:
        return json.loads(json.dumps(doc, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise StorageError(f"document is not JSON-compatible: {exc}") from exc


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class TinyDBStorage(Storage):
    """Embedded storage in a directory: `state/<namespace>/<bucket>.json` and `history/<stream>/<day>.jsonl`."""

    def __init__(self, path: str | Path, buckets: int = BUCKETS) -> None:
        self.root = Path(path)
        self.buckets = buckets
        self._open: dict[tuple[str, int], _Bucket] = {}
        self._pending_buckets: dict[Path, _Bucket] = {}
        self._pending_lines: dict[Path, list[str]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._committer: asyncio.Task[None] | None = None
        self._lock_fd: int | None = None

    async def open(self) -> None:
        (self.root / "state").mkdir(parents=True, exist_ok=True)
        (self.root / "history").mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.root / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise StorageError(
                f"storage {self.root} is used by another bots process; the TinyDB engine is "
                "single-process (use a server-backed engine to run several processes)"
            ) from None
        for leftover in self.root.glob("state/*/*.tmp"):
            leftover.unlink()  # an interrupted commit: the real file still holds the last good state

    async def close(self) -> None:
        if self._committer is not None:
            await asyncio.shield(self._committer)
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- documents -----------------------------------------------------------------------------

    def _bucket(self, namespace: str, key: str) -> _Bucket:
        index = zlib.crc32(key.encode("utf-8")) % self.buckets
        found = self._open.get((namespace, index))
        if found is None:
            folder = self.root / "state" / check_name(namespace, "namespace")
            folder.mkdir(exist_ok=True)
            found = self._open[(namespace, index)] = _Bucket(folder / f"{index:04x}.json")
        return found

    async def get(self, namespace: str, key: str) -> Doc | None:
        return self._bucket(namespace, key).get(key)

    async def put(self, namespace: str, key: str, doc: Doc) -> None:
        bucket = self._bucket(namespace, key)
        bucket.put(key, _json_copy(doc))
        await self._durable(bucket)

    async def put_if_absent(self, namespace: str, key: str, doc: Doc) -> bool:
        bucket = self._bucket(namespace, key)
        if key in bucket.ids:
            return False
        bucket.put(key, _json_copy(doc))
        await self._durable(bucket)
        return True

    async def delete(self, namespace: str, key: str) -> bool:
        bucket = self._bucket(namespace, key)
        removed = bucket.delete(key)
        if removed:
            await self._durable(bucket)
        return removed

    async def scan(self, namespace: str) -> list[tuple[str, Doc]]:
        folder = self.root / "state" / check_name(namespace, "namespace")
        for path in folder.glob("*.json") if folder.exists() else []:
            index = int(path.stem, 16)
            if (namespace, index) not in self._open:
                self._open[(namespace, index)] = _Bucket(path)
        items = [
            item
            for (ns, _), bucket in self._open.items()
            if ns == namespace
            for item in bucket.items()
        ]
        return sorted(items, key=lambda kv: kv[0])

    # -- streams -------------------------------------------------------------------------------

    async def append(self, stream: str, record: Doc) -> None:
        folder = self.root / "history" / check_name(stream, "stream")
        path = folder / f"{datetime.now(UTC):%Y-%m-%d}.jsonl"
        line = json.dumps(_json_copy(record), ensure_ascii=False, separators=(",", ":"))
        self._pending_lines.setdefault(path, []).append(line + "\n")
        await self._durable(None)

    async def read_stream(self, stream: str) -> AsyncIterator[Doc]:
        folder = self.root / "history" / check_name(stream, "stream")
        for path in sorted(folder.glob("*.jsonl")) if folder.exists() else []:
            with open(path, encoding="utf-8") as fh:
                for number, line in enumerate(fh, 1):
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:
                        # Only a crash mid-append can leave this, and only on the last line.
                        log.warning("skipping a torn line %s:%d", path, number)

    # -- group commit --------------------------------------------------------------------------

    async def _durable(self, bucket: _Bucket | None) -> None:
        """Return once this change is on disk; concurrent callers share one commit."""
        if bucket is not None:
            self._pending_buckets[bucket.path] = bucket
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_loop())
        await waiter

    async def _commit_loop(self) -> None:
        while self._waiters:
            waiters, self._waiters = self._waiters, []
            files = [(path, b.storage.snapshot()) for path, b in self._pending_buckets.items()]
            lines, self._pending_lines = self._pending_lines, {}
            self._pending_buckets = {}
            try:
                await asyncio.to_thread(self._write, files, lines)
            except OSError as exc:
                for waiter in waiters:
                    waiter.set_exception(StorageError(f"could not write {self.root}: {exc}"))
                continue
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    @staticmethod
    def _write(files: list[tuple[Path, str]], lines: dict[Path, list[str]]) -> None:
        folders = set()
        for path, text in files:
            _write_atomically(path, text)
            folders.add(path.parent)
        for path, chunk in lines.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write("".join(chunk))
                fh.flush()
                os.fsync(fh.fileno())
            folders.add(path.parent)
        for folder in folders:
            _fsync_dir(folder)
