"""The default, embedded engine: TinyDB files made durable by a journal with group commit.

TinyDB rewrites its whole file on every write, and an fsync costs milliseconds here, so writing TinyDB
files per message would make each message slower as the store grows and cap throughput at the disk's
fsync rate. Instead:

- live state is split into many small TinyDB files (a document lives in the bucket its key hashes to),
  held in memory and changed there at once;
- every change is appended to a journal (`state/journal-N.jsonl`); one committer writes and fsyncs the
  journal for all the writers that arrived meanwhile (group commit), and only then do they return;
- history streams are append-only JSON-lines files, one per day, committed the same way;
- every so many changes a checkpoint writes the changed buckets (temporary file, then rename, so a file
  is always the old or the new version, never half of one) and drops the journals it covers.

After a crash, start-up loads the bucket files and replays the journals. Single process only: a lock
file refuses a second process; use a server-backed engine to run several.
"""

from __future__ import annotations

import asyncio
import copy
import fcntl
import json
import logging
import os
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage as TinyStorage
from tinydb.table import Document

from .base import Doc, Storage, StorageError, check_name

log = logging.getLogger(__name__)

BUCKETS = 1024
CHECKPOINT_EVERY = 20_000  # journal entries between checkpoints


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


def _dumps(record: Doc) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _read_lines(path: Path) -> Iterator[Doc]:
    """JSON lines of a file; a torn last line (a crash mid-append) is skipped."""
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                log.warning("skipping a torn line %s:%d", path, number)


def _append_durably(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fdatasync(fh.fileno())


class TinyDBStorage(Storage):
    """Embedded storage in a directory: `state/` (TinyDB buckets and journals) and `history/`."""

    def __init__(self, path: str | Path, buckets: int = BUCKETS, checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        self.root = Path(path)
        self.buckets = buckets
        self.checkpoint_every = checkpoint_every
        self._open: dict[tuple[str, int], _Bucket] = {}
        self._journal_seq = 0
        self._journal_entries = 0
        self._pending_journal: list[str] = []
        self._pending_lines: dict[Path, list[str]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._committer: asyncio.Task[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._lock_fd: int | None = None

    def __repr__(self) -> str:
        return f"TinyDBStorage({str(self.root)!r})"

    @property
    def _state(self) -> Path:
        return self.root / "state"

    async def open(self) -> None:
        self._state.mkdir(parents=True, exist_ok=True)
        (self.root / "history").mkdir(parents=True, exist_ok=True)
        self._lock()
        for leftover in self._state.glob("*/*.tmp"):
            leftover.unlink()  # an interrupted checkpoint: the journal still covers what it held
        journals = self._journals()
        for journal in journals:
            for entry in _read_lines(journal):
                self._apply(entry)
        self._journal_seq = int(journals[-1].stem.split("-")[1]) + 1 if journals else 0
        if journals:
            await asyncio.to_thread(self._checkpoint_files, self._dirty_snapshots(), journals)

    def _lock(self) -> None:
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

    async def close(self) -> None:
        if self._committer is not None:
            await asyncio.shield(self._committer)
        if self._checkpointer is not None:
            await asyncio.shield(self._checkpointer)
        journals = self._journals()
        if journals:
            await asyncio.to_thread(self._checkpoint_files, self._dirty_snapshots(), journals)
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- documents -----------------------------------------------------------------------------

    def _bucket(self, namespace: str, key: str) -> _Bucket:
        index = zlib.crc32(key.encode("utf-8")) % self.buckets
        found = self._open.get((namespace, index))
        if found is None:
            folder = self._state / check_name(namespace, "namespace")
            folder.mkdir(exist_ok=True)
            found = self._open[(namespace, index)] = _Bucket(folder / f"{index:04x}.json")
        return found

    def _apply(self, entry: Doc) -> None:
        bucket = self._bucket(entry["n"], entry["k"])
        if entry["o"] == "put":
            bucket.put(entry["k"], entry["v"])
        else:
            bucket.delete(entry["k"])

    async def _change(self, entry: Doc) -> None:
        self._apply(entry)
        self._pending_journal.append(_dumps(entry))
        await self._durable()

    async def get(self, namespace: str, key: str) -> Doc | None:
        return self._bucket(namespace, key).get(key)

    async def put(self, namespace: str, key: str, doc: Doc) -> None:
        await self._change({"o": "put", "n": namespace, "k": key, "v": _json_copy(doc)})

    async def put_if_absent(self, namespace: str, key: str, doc: Doc) -> bool:
        if key in self._bucket(namespace, key).ids:
            return False
        await self.put(namespace, key, doc)
        return True

    async def delete(self, namespace: str, key: str) -> bool:
        if key not in self._bucket(namespace, key).ids:
            return False
        await self._change({"o": "del", "n": namespace, "k": key})
        return True

    async def scan(self, namespace: str) -> list[tuple[str, Doc]]:
        folder = self._state / check_name(namespace, "namespace")
        for path in folder.glob("*.json") if folder.exists() else []:
            index = int(path.stem, 16)
            if (namespace, index) not in self._open:
                self._open[(namespace, index)] = _Bucket(path)
        items = [item for (ns, _), bucket in self._open.items() if ns == namespace for item in bucket.items()]
        return sorted(items, key=lambda kv: kv[0])

    # -- streams -------------------------------------------------------------------------------

    async def append(self, stream: str, record: Doc) -> None:
        path = self.root / "history" / check_name(stream, "stream") / f"{datetime.now(UTC):%Y-%m-%d}.jsonl"
        self._pending_lines.setdefault(path, []).append(_dumps(_json_copy(record)))
        await self._durable()

    async def read_stream(self, stream: str) -> AsyncIterator[Doc]:
        folder = self.root / "history" / check_name(stream, "stream")
        for path in sorted(folder.glob("*.jsonl")) if folder.exists() else []:
            for record in _read_lines(path):
                yield record

    # -- group commit and checkpoints ----------------------------------------------------------

    async def _durable(self) -> None:
        """Return once this change is on disk; concurrent callers share one commit."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_loop())
        await waiter

    async def _commit_loop(self) -> None:
        while self._waiters:
            waiters, self._waiters = self._waiters, []
            journal, self._pending_journal = "".join(self._pending_journal), []
            lines, self._pending_lines = self._pending_lines, {}
            path = self._state / f"journal-{self._journal_seq:08d}.jsonl"
            try:
                await asyncio.to_thread(self._commit_files, path, journal, lines)
            except OSError as exc:
                for waiter in waiters:
                    waiter.set_exception(StorageError(f"could not write {self.root}: {exc}"))
                continue
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._journal_entries += journal.count("\n")
            if self._journal_entries >= self.checkpoint_every and (
                self._checkpointer is None or self._checkpointer.done()
            ):
                self._start_checkpoint()

    @staticmethod
    def _commit_files(journal_path: Path, journal: str, lines: dict[Path, list[str]]) -> None:
        if journal:
            _append_durably(journal_path, journal)
        for path, chunk in lines.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            _append_durably(path, "".join(chunk))

    def _start_checkpoint(self) -> None:
        """Switch to a new journal, then write the changed buckets in the background."""
        covered = self._journals()
        self._journal_seq += 1
        self._journal_entries = 0
        self._checkpointer = asyncio.create_task(
            asyncio.to_thread(self._checkpoint_files, self._dirty_snapshots(), covered)
        )

    def _journals(self) -> list[Path]:
        return sorted(self._state.glob("journal-*.jsonl"))

    def _dirty_snapshots(self) -> list[tuple[Path, str]]:
        return [(b.path, b.storage.snapshot()) for b in self._open.values() if b.storage.dirty]

    @staticmethod
    def _checkpoint_files(snapshots: list[tuple[Path, str]], journals: list[Path]) -> None:
        """Replace bucket files atomically; one filesystem sync instead of an fsync per file."""
        for path, text in snapshots:
            path.with_name(path.name + ".tmp").write_text(text, encoding="utf-8")
        os.sync()
        for path, _ in snapshots:
            os.replace(path.with_name(path.name + ".tmp"), path)
        os.sync()
        for journal in journals:
            journal.unlink()
