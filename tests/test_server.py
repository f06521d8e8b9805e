"""The shared HTTP server: health, metrics, JSON errors, and nothing acknowledged lost across a restart."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bots.adapters.generic import signed_headers
from bots.bot import Bot
from bots.server import WebServer

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-do-not-use"
HEAVY_SKILLS = ("faq", "troubleshoot")


@pytest.fixture(autouse=True)
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOTS_WEBHOOK_SECRET", SECRET)


async def post_raw(
    http: aiohttp.ClientSession, server: WebServer, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{server.url}webhook/generic", data=body, headers=headers) as response:
        return response.status, await response.json()


async def post_signed(http: aiohttp.ClientSession, server: WebServer, message: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A message to the generic webhook, signed as the seller's system signs it."""
    body = json.dumps(message).encode()
    return await post_raw(http, server, body, signed_headers(SECRET, time.time(), body))


def shop_config(tmp_path: Path, demo_config: Path, adapters: dict[str, Any]) -> Path:
    """The demo shop's configuration (greeting, orders, hand-off) with the given adapters."""
    config = tmp_path / "skills_config"
    if not config.exists():
        shutil.copytree(demo_config, config)
    settings = yaml.safe_load((demo_config / "bots.yaml").read_text(encoding="utf-8"))
    settings["adapters"] = adapters
    # the knowledge-base skills load a model (about a second per bot) and are not what these tests are about
    settings["skills"] = [name for name in settings["skills"] if name not in HEAVY_SKILLS]
    (config / "bots.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return config


@asynccontextmanager
async def serve(
    tmp_path: Path, demo_config: Path, adapters: dict[str, Any] | None = None
) -> AsyncIterator[WebServer]:
    """A real bot on a real TinyDB store behind the real server, listening on 127.0.0.1, any free port."""
    config = shop_config(tmp_path, demo_config, adapters if adapters is not None else {"webchat": {}, "generic": {}})
    server = WebServer(Bot.from_config(config, data_dir=tmp_path / "data"), "127.0.0.1", 0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(flush_seconds=1)


async def test_healthz_is_ready_only_while_running(tmp_path: Path, demo_config: Path) -> None:
    config = shop_config(tmp_path, demo_config, {"webchat": {}})
    server = WebServer(Bot.from_config(config, data_dir=tmp_path / "data"), "127.0.0.1", 0)
    assert (await server._healthz(None)).status == 503  # type: ignore[arg-type]
    await server.start()
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}healthz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"
    await server.stop()
    assert (await server._healthz(None)).status == 503  # type: ignore[arg-type]


async def test_unknown_paths_and_methods_get_json_errors(tmp_path: Path, demo_config: Path) -> None:
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}nope") as response:
            assert response.status == 404
            assert (await response.json())["error"] == "not_found"
        async with http.get(f"{server.url}webhook/generic") as response:
            assert response.status == 405
            body = await response.json()
            assert body["message"] and body["message_zh"]


async def test_metrics_count_messages_latency_and_backlog(tmp_path: Path, demo_config: Path) -> None:
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}metrics") as response:
            before = await response.text()
        status, _ = await post_signed(http, server, {"id": "m1", "conversation_id": "c1", "user": {"id": "u1"},
                                                      "text": "我要人工"})
        assert status == 200
        async with http.get(f"{server.url}metrics") as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            after = await response.text()
    assert _value(after, 'bots_messages_in_total{channel="generic"}') == _value(before, 'bots_messages_in_total{channel="generic"}') + 1
    assert _value(after, "bots_handle_seconds_count") == _value(before, "bots_handle_seconds_count") + 1
    assert _value(after, 'bots_escalations_total{severity="regular"}') >= 1
    assert "bots_outbox_backlog" in after and "bots_errors_total" in after


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


async def test_an_acknowledged_message_survives_a_restart(tmp_path: Path, demo_config: Path) -> None:
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        status, body = await post_signed(http, server, {"id": "m1", "conversation_id": "c9", "user": {"id": "u9"},
                                                         "text": "where is my order?"})
        assert status == 200 and "order number" in body["replies"][0]["text"]
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        status, body = await post_signed(http, server, {"id": "m2", "conversation_id": "c9", "user": {"id": "u9"},
                                                         "text": "DS100234"})
        assert status == 200 and "SF1234567890" in body["replies"][0]["text"]  # the dialogue continued
        status, body = await post_signed(http, server, {"id": "m1", "conversation_id": "c9", "user": {"id": "u9"},
                                                         "text": "where is my order?"})
        assert body["duplicate"] is True and body["replies"] == []


async def test_shutdown_under_load_loses_no_acknowledged_message(tmp_path: Path, demo_config: Path) -> None:
    config = shop_config(tmp_path, demo_config, {"generic": {}})
    server = WebServer(Bot.from_config(config, data_dir=tmp_path / "data"), "127.0.0.1", 0)
    await server.start()

    async def one(http: aiohttp.ClientSession, n: int) -> str | None:
        try:
            status, _ = await post_signed(http, server, {"id": f"s{n}", "conversation_id": f"c{n % 8}",
                                                         "user": {"id": "u"}, "text": "营业时间"})
        except aiohttp.ClientError:
            return None  # refused while stopping: not acknowledged, the sender retries
        return f"s{n}" if status == 200 else None

    async with aiohttp.ClientSession() as http:
        sending = [asyncio.create_task(one(http, n)) for n in range(40)]
        await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)  # traffic is flowing: stop now
        await server.stop()
        acknowledged = [mid for mid in await asyncio.gather(*sending) if mid]
    assert acknowledged
    bot = Bot.from_config(config, data_dir=tmp_path / "data")
    await bot.start(background=False)
    try:
        for mid in acknowledged:
            conversation = await bot.conversations.load(f"generic:c{int(mid[1:]) % 8}")
            assert conversation is not None and conversation.has_seen(mid), mid
    finally:
        await bot.stop()


def test_bots_run_prints_the_chat_url_and_serves_the_page(tmp_path: Path, demo_config: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(demo_config, project / "skills_config")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BOTS_WEBHOOK_SECRET", None)  # the quick start: no tokens at all
    process = subprocess.Popen([sys.executable, "-m", "bots.cli", "run", "--port", "0"], cwd=project, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = ""
        deadline = time.monotonic() + 30
        while not url and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("Web chat: "):
                url = line.split()[2]
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.poll() is not None else "no URL"
        with urllib.request.urlopen(url, timeout=10) as page:
            assert "chat.js" in page.read().decode()
        with urllib.request.urlopen(url + "healthz", timeout=10) as health:
            assert json.load(health)["status"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0  # SIGTERM is a graceful stop
