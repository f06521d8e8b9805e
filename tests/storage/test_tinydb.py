"""The TinyDB engine: the conformance suite, plus what is particular to files on disk."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bots.storage import StorageError, TinyDBStorage

from .conformance import StorageConformance


class TestTinyDBConformance(StorageConformance):
    make_storage = staticmethod(lambda path: TinyDBStorage(path / "store"))


async def test_a_second_process_on_the_same_store_is_refused(tmp_path: Path) -> None:
    first = TinyDBStorage(tmp_path)
    await first.open()
    try:
        with pytest.raises(StorageError, match="another bots process"):
            await TinyDBStorage(tmp_path).open()
    finally:
        await first.close()


async def test_files_are_plain_tinydb_json(tmp_path: Path) -> None:
    store = TinyDBStorage(tmp_path)
    await store.open()
    await store.put("conversations", "web:1", {"language": "zh"})
    await store.close()
    [path] = (tmp_path / "state" / "conversations").glob("*/*.json")
    data = json.loads(path.read_text())
    assert list(data["docs"].values()) == [{"k": "web:1", "v": {"language": "zh"}}]


async def test_a_torn_last_history_line_is_skipped(tmp_path: Path) -> None:
    store = TinyDBStorage(tmp_path)
    await store.open()
    await store.append("messages", {"n": 1})
    [path] = (tmp_path / "history" / "messages").glob("*.jsonl")
    with open(path, "a") as fh:
        fh.write('{"n": 2, "te')  # what a crash mid-append leaves
    assert [r async for r in store.read_stream("messages")] == [{"n": 1}]
    await store.close()


async def test_a_write_costs_one_journal_line_however_big_the_store(tmp_path: Path) -> None:
    store = TinyDBStorage(tmp_path)
    await store.open()
    await asyncio.gather(*(store.put("conversations", f"c{i}", {"padding": "x" * 200}) for i in range(3000)))
    await store.close()  # checkpoint: every bucket written
    await store.open()
    buckets = {p: p.stat().st_mtime_ns for p in (tmp_path / "state" / "conversations").glob("*/*.json")}
    await store.put("conversations", "c1", {"padding": "y"})
    [journal] = (tmp_path / "state").glob("journal-*.jsonl")
    assert journal.read_text().count("\n") == 1
    assert {p: p.stat().st_mtime_ns for p in buckets} == buckets  # no bucket rewritten on the hot path
    assert len(buckets) == 3000 and max(p.stat().st_size for p in buckets) < 1_000  # a small file per key
    await store.close()


async def test_a_checkpoint_replaces_the_journals(tmp_path: Path) -> None:
    store = TinyDBStorage(tmp_path, checkpoint_every=50)
    await store.open()
    for i in range(120):
        await store.put("conversations", f"c{i}", {"i": i})
    await store._checkpointer
    assert len(list((tmp_path / "state").glob("journal-*.jsonl"))) <= 2
    await store.close()
    again = TinyDBStorage(tmp_path)
    await again.open()
    assert len(await again.scan("conversations")) == 120
    await again.close()


async def test_memory_is_bounded_and_evicted_files_read_back(tmp_path: Path) -> None:
    store = TinyDBStorage(tmp_path, checkpoint_every=100, cached_files=50)
    await store.open()
    for i in range(400):
        await store.put("conversations", f"c{i}", {"i": i})
    await store._checkpointer
    await store.put("conversations", "one-more", {"i": -1})
    assert len(store._open) <= 50 + 100  # cached files, plus changes not yet checkpointed
    assert await store.get("conversations", "c3") == {"i": 3}
    assert len(await store.scan("conversations")) == 401
    await store.close()


async def test_deleted_keys_leave_no_files_behind(tmp_path: Path) -> None:
    store = TinyDBStorage(tmp_path)
    await store.open()
    for i in range(20):
        await store.put("outbox", f"o{i}", {"i": i})
    await store.close()
    await store.open()
    for i in range(20):
        await store.delete("outbox", f"o{i}")
    await store.close()
    assert list((tmp_path / "state" / "outbox").glob("*/*.json")) == []


async def test_a_read_only_view_works_beside_the_running_writer(tmp_path: Path) -> None:
    writer = TinyDBStorage(tmp_path)
    await writer.open()
    await writer.put("skill.faq", "gap:1", {"count": 3})
    reader = TinyDBStorage(tmp_path, read_only=True)
    await reader.open()  # no lock conflict
    assert await reader.scan("skill.faq") == [("gap:1", {"count": 3})]
    with pytest.raises(StorageError, match="read-only"):
        await reader.put("skill.faq", "x", {})
    await reader.close()
    await writer.close()
