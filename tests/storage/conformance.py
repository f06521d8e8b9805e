"""The behaviour every storage engine must show. Subclass `StorageConformance` and provide `make_storage`.

The TinyDB engine runs it in test_tinydb.py; a server-backed engine runs the same class.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bots.storage import Storage, StorageError

MakeStorage = Callable[[Path], Storage]


class StorageConformance:
    make_storage: MakeStorage

    @pytest.fixture
    async def storage(self, tmp_path: Path) -> AsyncIterator[Storage]:
        store = self.make_storage(tmp_path)
        await store.open()
        yield store
        await store.close()

    async def reopen(self, storage: Storage, tmp_path: Path) -> Storage:
        await storage.close()
        again = self.make_storage(tmp_path)
        await again.open()
        return again

    async def test_put_then_get_returns_an_equal_private_copy(self, storage: Storage) -> None:
        doc = {"text": "耳机连不上 ✓", "n": 3, "nested": {"list": [1, 2]}}
        await storage.put("conversations", "web:1", doc)
        got = await storage.get("conversations", "web:1")
        assert got == doc
        got["nested"]["list"].append(3)
        assert (await storage.get("conversations", "web:1"))["nested"]["list"] == [1, 2]

    async def test_missing_key_is_none(self, storage: Storage) -> None:
        assert await storage.get("conversations", "nope") is None

    async def test_namespaces_do_not_share_keys(self, storage: Storage) -> None:
        await storage.put("skill.faq", "k", {"v": 1})
        await storage.put("skill.orders", "k", {"v": 2})
        assert (await storage.get("skill.faq", "k"))["v"] == 1
        assert (await storage.get("skill.orders", "k"))["v"] == 2

    async def test_put_replaces(self, storage: Storage) -> None:
        await storage.put("ns", "k", {"v": 1})
        await storage.put("ns", "k", {"v": 2})
        assert await storage.get("ns", "k") == {"v": 2}
        assert len(await storage.scan("ns")) == 1

    async def test_put_if_absent_has_exactly_one_winner(self, storage: Storage) -> None:
        results = await asyncio.gather(*(storage.put_if_absent("ns", "job", {"by": i}) for i in range(20)))
        assert results.count(True) == 1
        winner = results.index(True)
        assert await storage.get("ns", "job") == {"by": winner}

    async def test_delete_takes_once(self, storage: Storage) -> None:
        await storage.put("jobs", "j1", {"x": 1})
        results = await asyncio.gather(*(storage.delete("jobs", "j1") for _ in range(10)))
        assert results.count(True) == 1
        assert await storage.get("jobs", "j1") is None
        assert await storage.delete("jobs", "never") is False

    async def test_scan_lists_a_namespace_sorted_by_key(self, storage: Storage) -> None:
        for key in ["b", "a", "c"]:
            await storage.put("outbox", key, {"key": key})
        await storage.put("other", "z", {})
        assert [key for key, _ in await storage.scan("outbox")] == ["a", "b", "c"]
        assert await storage.scan("empty") == []

    async def test_streams_keep_order(self, storage: Storage) -> None:
        await asyncio.gather(*(storage.append("messages", {"n": i}) for i in range(50)))
        records = [r async for r in storage.read_stream("messages")]
        assert [r["n"] for r in records] == list(range(50))
        assert [r async for r in storage.read_stream("nothing")] == []

    async def test_concurrent_writers_all_land(self, storage: Storage) -> None:
        await asyncio.gather(*(storage.put("conversations", f"c{i}", {"i": i}) for i in range(200)))
        assert len(await storage.scan("conversations")) == 200

    async def test_everything_survives_a_reopen(self, storage: Storage, tmp_path: Path) -> None:
        await storage.put("conversations", "web:1", {"mode": "human"})
        await storage.append("messages", {"text": "你好"})
        await storage.put("jobs", "gone", {})
        await storage.delete("jobs", "gone")
        again = await self.reopen(storage, tmp_path)
        try:
            assert await again.get("conversations", "web:1") == {"mode": "human"}
            assert [r async for r in again.read_stream("messages")] == [{"text": "你好"}]
            assert await again.get("jobs", "gone") is None
        finally:
            await again.close()
            await storage.open()  # the fixture closes it again

    async def test_a_document_json_cannot_hold_is_refused_clearly(self, storage: Storage) -> None:
        with pytest.raises(StorageError, match="JSON"):
            await storage.put("ns", "k", {"when": object()})
        assert await storage.get("ns", "k") is None

    async def test_bad_namespace_names_are_refused(self, storage: Storage) -> None:
        with pytest.raises(StorageError, match="namespace"):
            await storage.put("../escape", "k", {})
