"""The default, embedded engine: TinyDB files made durable by a journal with group commit.

TinyDB rewrites its whole file on every write, and an fsync costs milliseconds here, so writing TinyDB
files per message would make each message slower as the store grows and cap throughput at the disk's
fsync rate. Instead:

- live state is a small TinyDB file per key (a conversation, a job, an outbox item; the file name is a
  hash of the key), changed in memory at once; recently used files stay cached, the rest are re-read
  when needed, so memory and the cost of a write stay flat however many conversations there are;
- every change is appended to a journal (`state/journal-N.jsonl`); one committer writes and fsyncs the
  journal for all the writers that arrived meanwhile (group commit), and only then do they return;
- history streams are append-only JSON-lines files, one per day, committed the same way;
- every so many changes a checkpoint writes the files changed since the last one (temporary file, then
  rename, so a file is always the old or the new version, never half of one), off the event loop, and
  drops the journals it covers. Its cost follows the number of changes, not the size of the store.

After a crash, start-up loads the bucket files and replays the journals. Single process only: a lock
file refuses a second process; use a server-backed engine to run several.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import hashlib
from concurrent.futures import ThreadPoolExecutor
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage as TinyStorage
from tinydb.table import Document

from .base import Doc, Storage, StorageError, check_name

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 20_000  # journal entries between checkpoints
CACHED_FILES = 20_000  # unchanged files kept in memory
_SYNC_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bots-sync")


class _MemoryFirstStorage(TinyStorage):
    """TinyDB storage that keeps the data in memory; the committer makes it durable."""

    def __init__(self, path: Path, exists: bool) -> None:
        self.path = path
        self.data: dict[str, Any] | None = None if exists else {}
        self.dirty = False

    def read(self) -> dict[str, Any] | None:
        if self.data is None:
            self.data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        return self.data

    def write(self, data: dict[str, Any]) -> None:
        self.data = data
        self.dirty = True

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """A copy the checkpoint thread can serialise while the loop goes on changing the data.

        Shallow is enough: a stored value is never mutated, only replaced (`get` hands out copies).
        """
        self.dirty = False
        return {name: dict(table) for name, table in (self.data or {}).items()}


class _Bucket:
    """One small TinyDB file holding the document(s) whose key hashes to its name.

    Next to TinyDB's documents it keeps each document's JSON text, so a read is one `json.loads`
    (a fresh copy for the caller) instead of a deep copy.
    """

    def __init__(self, path: Path, exists: bool) -> None:
        self.path = path
        self.db = TinyDB(path, exists=exists, storage=_MemoryFirstStorage)
        self.table = self.db.table("docs", cache_size=0)
        self.ids: dict[str, int] = {doc["k"]: doc.doc_id for doc in self.table.all()}
        self.texts: dict[str, str] = {}

    @property
    def storage(self) -> _MemoryFirstStorage:
        return self.db.storage  # type: ignore[return-value]

    @property
    def dirty(self) -> bool:
        return self.storage.dirty

    def get(self, key: str) -> Doc | None:
        text = self.texts.get(key)
        if text is None:
            doc_id = self.ids.get(key)
            found = self.table.get(doc_id=doc_id) if doc_id is not None else None
            if found is None:
                return None
            text = self.texts[key] = json.dumps(found["v"], ensure_ascii=False)
        return json.loads(text)

    def put(self, key: str, value: Doc, text: str | None = None) -> None:
        doc_id = self.ids.get(key)
        if doc_id is None:
            doc_id = max(self.ids.values(), default=0) + 1
            self.ids[key] = doc_id
        self.table.upsert(Document({"k": key, "v": value}, doc_id=doc_id))
        if text is None:
            self.texts.pop(key, None)
        else:
            self.texts[key] = text

    def delete(self, key: str) -> bool:
        doc_id = self.ids.pop(key, None)
        if doc_id is None:
            return False
        self.table.remove(doc_ids=[doc_id])
        self.texts.pop(key, None)
        return True

    def items(self) -> list[tuple[str, Doc]]:
        return [(key, doc) for key in self.ids if (doc := self.get(key)) is not None]


@dataclass
class Checkpoint:
    writes: list[tuple[Path, dict[str, Any]]]
    removals: list[Path]


def _encode(doc: Doc) -> str:
    """JSON text of a document; fails now (not at commit) on anything JSON cannot hold."""
    try:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StorageError(f"document is not JSON-compatible: {exc}") from exc


def _read_lines(path: Path) -> Iterator[Doc]:
    """JSON lines of a file; a torn last line (a crash mid-append, maybe mid-character) is skipped."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            try:
                yield json.loads(line)
            except ValueError:  # bad JSON or a cut UTF-8 sequence
                log.warning("skipping a torn line %s:%d", path, number)


def _append_durably(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fdatasync(fh.fileno())


class _Listing:
    """Which files exist, per folder (read once), so opening a new key costs no `stat` call."""

    def __init__(self) -> None:
        self._folders: dict[str, set[str]] = {}

    def _names(self, folder: str) -> set[str]:
        names = self._folders.get(folder)
        if names is None:
            try:
                names = set(os.listdir(folder))
            except FileNotFoundError:
                names = set()
            self._folders[folder] = names
        return names

    def exists(self, path: str) -> bool:
        folder, name = os.path.split(path)
        return name in self._names(folder)

    def record(self, path: str, present: bool) -> None:
        folder, name = os.path.split(path)
        names = self._names(folder)
        if present:
            names.add(name)
        else:
            names.discard(name)


class TinyDBStorage(Storage):
    """Embedded storage in a directory: `state/` (TinyDB buckets and journals) and `history/`."""

    def __init__(
        self,
        path: str | Path,
        checkpoint_every: int = CHECKPOINT_EVERY,
        cached_files: int = CACHED_FILES,
        *,
        read_only: bool = False,
    ) -> None:
        self.root = Path(path)
        self.read_only = read_only  # for reports while the bot runs: no lock, no writes, no checkpoints
        self.checkpoint_every = checkpoint_every
        self.cached_files = cached_files
        self._open: OrderedDict[str, _Bucket] = OrderedDict()
        self._in_flight: set[str] = set()  # written by the running checkpoint: not evictable yet
        self._next_evict = 0
        self._folders: dict[str, str] = {}
        self._made: set[str] = set()
        self._listing = _Listing()
        self._streams: dict[tuple[str, date], Path] = {}
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
        if self.read_only:
            for journal in self._journals():
                for entry in _read_lines(journal):
                    self._apply(entry)
            return
        self._state.mkdir(parents=True, exist_ok=True)
        (self.root / "history").mkdir(parents=True, exist_ok=True)
        self._lock()
        for leftover in self._state.glob("*/*/*.tmp"):
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
        if self.read_only:
            return
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
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=10).hexdigest()
        return self._cached(os.path.join(self._namespace_dir(namespace), digest[:2], digest[2:] + ".json"))

    def _namespace_dir(self, namespace: str) -> str:
        found = self._folders.get(namespace)
        if found is None:
            found = self._folders[namespace] = os.path.join(self._state, check_name(namespace, "namespace"))
        return found

    def _cached(self, path: str) -> _Bucket:
        found = self._open.get(path)
        if found is not None:
            self._open.move_to_end(path)
            return found
        if len(self._open) >= max(self.cached_files, self._next_evict):
            self._evict()  # before adding: the new file is about to change, it must stay
        folder = os.path.dirname(path)
        if folder not in self._made and not self.read_only:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        found = self._open[path] = _Bucket(Path(path), self._listing.exists(path))
        return found

    def _evict(self) -> None:
        """Forget the least recently used unchanged files (their content is on disk), down to 80 % of
        the cache, so the scan over the cache is paid once per many new files, not for each one."""
        excess = len(self._open) - int(self.cached_files * 0.8)
        evictable = []
        for path, bucket in self._open.items():
            if len(evictable) >= excess:
                break
            if not bucket.dirty and path not in self._in_flight:
                evictable.append(path)
        for path in evictable:
            del self._open[path]
        # Changed files wait for a checkpoint; if too few could go, try again only after some growth.
        self._next_evict = len(self._open) + max(100, self.cached_files // 10)

    def _apply(self, entry: Doc, text: str | None = None) -> None:
        bucket = self._bucket(entry["n"], entry["k"])
        if entry["o"] == "put":
            bucket.put(entry["k"], entry["v"], text)
        else:
            bucket.delete(entry["k"])

    async def _change(self, entry: Doc, line: str, text: str | None = None) -> None:
        if self.read_only:
            raise StorageError(f"{self.root} is open read-only")
        self._apply(entry, text)
        self._pending_journal.append(line)
        await self._durable()

    async def get(self, namespace: str, key: str) -> Doc | None:
        return self._bucket(namespace, key).get(key)

    async def put(self, namespace: str, key: str, doc: Doc) -> None:
        text = _encode(doc)
        entry = {"o": "put", "n": namespace, "k": key, "v": json.loads(text)}  # a private copy
        line = f'{{"o":"put","n":{json.dumps(namespace)},"k":{json.dumps(key, ensure_ascii=False)},"v":{text}}}\n'
        await self._change(entry, line, text)

    async def put_if_absent(self, namespace: str, key: str, doc: Doc) -> bool:
        if key in self._bucket(namespace, key).ids:
            return False
        await self.put(namespace, key, doc)
        return True

    async def delete(self, namespace: str, key: str) -> bool:
        if key not in self._bucket(namespace, key).ids:
            return False
        entry = {"o": "del", "n": namespace, "k": key}
        await self._change(entry, _encode(entry) + "\n")
        return True

    async def scan(self, namespace: str) -> list[tuple[str, Doc]]:
        folder = self._namespace_dir(namespace)
        on_disk = {str(p) for p in Path(folder).glob("*/*.json")}
        in_memory = {p for p in self._open if os.path.dirname(os.path.dirname(p)) == folder}
        items = [item for path in on_disk | in_memory for item in self._cached(path).items()]
        return sorted(items, key=lambda kv: kv[0])

    # -- streams -------------------------------------------------------------------------------

    async def append(self, stream: str, record: Doc) -> None:
        day = datetime.now(UTC).date()
        path = self._streams.get((stream, day))
        if path is None:
            path = self.root / "history" / check_name(stream, "stream") / f"{day:%Y-%m-%d}.jsonl"
            self._streams[(stream, day)] = path
        self._pending_lines.setdefault(path, []).append(_encode(record) + "\n")
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
        """Append to the journal and the history files, syncing them in parallel (a sync is slow)."""
        appends = [(journal_path, journal)] if journal else []
        for path, chunk in lines.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            appends.append((path, "".join(chunk)))
        if len(appends) == 1:
            _append_durably(*appends[0])
        else:
            list(_SYNC_POOL.map(lambda item: _append_durably(*item), appends))

    def _start_checkpoint(self) -> None:
        """Switch to a new journal, then write the changed files in the background."""
        covered = self._journals()
        self._journal_seq += 1
        self._journal_entries = 0
        checkpoint = self._dirty_snapshots()
        self._in_flight = {str(path) for path, _ in checkpoint.writes}
        self._checkpointer = asyncio.create_task(self._checkpoint(checkpoint, covered))

    async def _checkpoint(self, checkpoint: Checkpoint, journals: list[Path]) -> None:
        try:
            await asyncio.to_thread(self._checkpoint_files, checkpoint, journals)
        except OSError:
            log.exception("checkpoint of %s failed; the journals are kept and replayed at start-up", self.root)
        finally:
            self._in_flight = set()
            self._next_evict = 0  # what was written can go now

    def _journals(self) -> list[Path]:
        return sorted(self._state.glob("journal-*.jsonl"))

    def _dirty_snapshots(self) -> Checkpoint:
        """What the next checkpoint writes and removes; the listing already shows its outcome."""
        writes, removals = [], []
        for path, bucket in self._open.items():
            if not bucket.dirty:
                continue
            data = bucket.storage.snapshot()
            if any(data.values()):
                writes.append((bucket.path, data))
            elif self._listing.exists(path):
                removals.append(bucket.path)
            self._listing.record(path, any(data.values()))
        return Checkpoint(writes, removals)

    @staticmethod
    def _checkpoint_files(checkpoint: Checkpoint, journals: list[Path]) -> None:
        """Replace changed files atomically; one filesystem sync instead of an fsync per file."""
        for path, data in checkpoint.writes:
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            path.with_name(path.name + ".tmp").write_text(text, encoding="utf-8")
        os.sync()
        for path, _ in checkpoint.writes:
            os.replace(path.with_name(path.name + ".tmp"), path)
        for path in checkpoint.removals:
            path.unlink(missing_ok=True)
        os.sync()
        for journal in journals:
            journal.unlink()
