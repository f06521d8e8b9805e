"""The generic webhook as a seller's system uses it: real signed HTTP requests to a real server."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bots.adapters.generic import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signed_headers
from tests.test_server import SECRET, post_raw, post_signed, serve, webhook_secret  # noqa: F401


def message(text: str = "where is my order DS100234?", **extra: Any) -> dict[str, Any]:
    return {"id": "m-1", "conversation_id": "c-1", "user": {"id": "u-1", "name": "Li"}, "text": text, **extra}


async def test_a_signed_message_is_answered_in_the_response_and_redelivery_is_ignored(
    tmp_path: Path, demo_config: Path
) -> None:
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        status, body = await post_signed(http, server, message())
        assert status == 200 and body["duplicate"] is False
        assert "SF1234567890" in body["replies"][0]["text"]
        status, body = await post_signed(http, server, message(locale="en-US"))
        assert status == 200 and body == {"accepted": True, "duplicate": True, "replies": []}
        status, body = await post_signed(http, server, message("你好", id="m-2", conversation_id="c-2"))
        assert "欢迎" in body["replies"][0]["text"]
        assert [b["value"] for b in body["replies"][0]["buttons"]] == ["/order", "/hours", "/human"]


def _signed(body: bytes, age: float = 0) -> dict[str, str]:
    return signed_headers(SECRET, time.time() - age, body)


VALID = json.dumps(message()).encode()
BAD_INPUT = {
    "malformed JSON": (b'{"id": "m-1", "text": ', _signed, 400, "bad_json"),
    "no signature": (VALID, lambda body: {"Content-Type": "application/json"}, 401, "unauthorized"),
    "wrong signature": (VALID, lambda body: {**_signed(body), SIGNATURE_HEADER: "sha256=" + "0" * 64}, 401, "unauthorized"),
    "signed with another secret": (
        VALID, lambda body: {TIMESTAMP_HEADER: str(int(time.time())), SIGNATURE_HEADER: sign("guess", str(int(time.time())), body)},
        401, "unauthorized",
    ),
    "replayed after 6 minutes": (VALID, lambda body: _signed(body, age=360), 401, "unauthorized"),
    "body over 64 KiB": (json.dumps(message("x" * 70_000)).encode(), _signed, 413, "too_large"),
    "text over 4096 characters": (json.dumps(message("长" * 4097)).encode(), _signed, 422, "text_too_long"),
    "missing user": (json.dumps({"id": "m-1", "conversation_id": "c-1", "text": "hi"}).encode(), _signed, 422, "invalid"),
    "not an object": (b"[1, 2]", _signed, 422, "invalid"),
}


async def test_every_bad_input_gets_a_clear_json_error_and_nothing_is_stored(tmp_path: Path, demo_config: Path) -> None:
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        for case, (body, headers, expected_status, expected_error) in BAD_INPUT.items():
            status, answer = await post_raw(http, server, body, headers(body))
            assert (status, answer["error"]) == (expected_status, expected_error), case
            assert answer["message"] and answer["message_zh"], case
        assert await server.bot.conversations.load("generic:c-1") is None
        # after all that, the same message properly signed is accepted and answered
        status, answer = await post_signed(http, server, message())
        assert status == 200 and answer["replies"]


async def test_unknown_fields_are_ignored(tmp_path: Path, demo_config: Path) -> None:
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        extra = message("营业时间", shop_internal={"vip": True}, user={"id": "u-1", "level": 3},
                        attachments=[{"kind": "image", "url": "https://img.example/1.jpg", "size": 10}])
        status, body = await post_signed(http, server, extra)
        assert status == 200 and "9:00-21:00" in body["replies"][0]["text"]


async def test_a_missing_secret_refuses_requests_instead_of_accepting_them(
    tmp_path: Path, demo_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOTS_WEBHOOK_SECRET")
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        status, body = await post_raw(http, server, VALID, _signed(VALID))
        assert (status, body["error"]) == (503, "not_configured")


class Receiver:
    """The seller's callback endpoint on 127.0.0.1: fails the first `failures` calls with 503."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.delivered: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers[TIMESTAMP_HEADER]
        assert request.headers[SIGNATURE_HEADER] == sign(SECRET, stamp, body)  # signed the same way
        self.calls += 1
        if self.calls <= self.failures:
            return web.Response(status=503, headers={"Retry-After": "0"})
        self.delivered.append(json.loads(body))
        self.arrived.set()
        return web.Response(status=204)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/callback", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/callback"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def test_callback_mode_retries_a_failing_receiver_and_delivers_exactly_once(
    tmp_path: Path, demo_config: Path
) -> None:
    async with Receiver(failures=2) as receiver:
        adapters = {"generic": {"reply_mode": "callback", "callback_url": receiver.url}}
        async with serve(tmp_path, demo_config, adapters) as server, aiohttp.ClientSession() as http:
            status, body = await post_signed(http, server, message())
            assert status == 202 and body == {"accepted": True, "duplicate": False}
            await asyncio.wait_for(receiver.arrived.wait(), 5)
            await asyncio.sleep(0.5)  # time for a wrong second delivery to show up
        assert receiver.calls == 3
        assert len(receiver.delivered) == 1
        delivered = receiver.delivered[0]
        assert delivered["conversation_id"] == "c-1" and delivered["user_id"] == "u-1"
        assert "SF1234567890" in delivered["reply"]["text"]


async def test_sync_mode_sends_only_what_the_response_did_not_carry_to_the_callback(
    tmp_path: Path, demo_config: Path
) -> None:
    async with Receiver() as receiver:
        adapters = {"generic": {"callback_url": receiver.url}}
        async with serve(tmp_path, demo_config, adapters) as server, aiohttp.ClientSession() as http:
            status, body = await post_signed(http, server, message())
            answered = body["replies"][0]["text"]
            status, body = await post_signed(http, server, message("我要人工", id="m-2"))
            assert status == 200
            conversation = await server.bot.conversations.load("generic:c-1")
            assert conversation is not None and conversation.escalation_id
            await server.bot.desk.staff_reply(conversation.escalation_id, "Wang", "您好，我是客服小王")
            for _ in range(50):
                if any(d["reply"]["author"] == "Wang" for d in receiver.delivered):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
        texts = [d["reply"]["text"] for d in receiver.delivered]
        assert answered not in texts  # returned synchronously: never sent twice
        assert texts[-1] == "您好，我是客服小王" and receiver.delivered[-1]["reply"]["author"] == "Wang"
        assert len(texts) == len(set(texts))
