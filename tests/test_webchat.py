"""The web chat's public endpoint as a browser uses it: token, WebSocket, pushes, limits, origins."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.server import WebServer
from tests.test_server import serve


async def new_token(http: aiohttp.ClientSession, server: WebServer, token: str = "", **headers: str) -> str:
    async with http.post(f"{server.url}webchat/session", json={"token": token}, headers=headers) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["token"]


def ws_url(server: WebServer, token: str) -> str:
    return f"{server.url.replace('http', 'ws', 1)}webchat/ws?token={token}"


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame = await asyncio.wait_for(ws.receive_json(), 5)
        if frame["type"] == kind:
            return frame


async def test_a_visitor_chats_presses_a_button_and_finds_the_conversation_again(
    tmp_path: Path, demo_config: Path
) -> None:
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        async with http.get(server.url) as page:
            assert page.status == 200 and "/webchat/chat.js" in await page.text()
        token = await new_token(http, server)
        async with http.ws_connect(ws_url(server, token)) as ws:
            assert (await next_of(ws, "history"))["items"] == []
            await ws.send_json({"type": "message", "id": "a1", "text": "你好"})
            assert (await next_of(ws, "ack"))["id"] == "a1"
            welcome = await next_of(ws, "reply")
            assert "欢迎" in welcome["text"] and welcome["buttons"][0]["value"] == "/order"
            await ws.send_json({"type": "message", "id": "a2", "text": "/order", "label": "查询订单"})
            assert "订单号" in (await next_of(ws, "reply"))["text"]
        assert await new_token(http, server, token) == token  # the reloaded page keeps its visitor
        async with http.ws_connect(ws_url(server, token)) as ws:
            items = (await next_of(ws, "history"))["items"]
        assert [(i["role"], i["text"][:4]) for i in items] == [
            ("customer", "你好"), ("bot", welcome["text"][:4]), ("customer", "查询订单"), ("bot", "请发送您")
        ]


async def test_staff_replies_reach_an_open_page_without_the_visitor_writing(tmp_path: Path, demo_config: Path) -> None:
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        token = await new_token(http, server)
        async with http.ws_connect(ws_url(server, token)) as ws:
            await next_of(ws, "history")
            await ws.send_json({"type": "message", "id": "h1", "text": "I want a human"})
            await next_of(ws, "ack")
            await next_of(ws, "reply")  # the hand-off notice
            conversation = await server.bot.conversations.load(f"webchat:{token.split('.')[0]}")
            assert conversation is not None and conversation.escalation_id
            await server.bot.desk.staff_reply(conversation.escalation_id, "Wang", "Hi, Wang here.")
            joined = await next_of(ws, "reply")
            assert "Wang" in joined["text"]  # the customer is told who joined
            pushed = await next_of(ws, "reply")
            assert (pushed["text"], pushed["role"]) == ("Hi, Wang here.", "staff")


async def test_bad_tokens_foreign_origins_and_bad_messages_are_refused_clearly(
    tmp_path: Path, demo_config: Path
) -> None:
    adapters = {"webchat": {"allowed_origins": ["https://shop.example"]}}
    async with serve(tmp_path, demo_config, adapters) as server, aiohttp.ClientSession() as http:
        async with http.get(ws_url(server, "forged.0123")) as response:
            assert response.status == 401 and (await response.json())["error"] == "unauthorized"
        async with http.post(f"{server.url}webchat/session", headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403 and (await response.json())["error"] == "forbidden_origin"
        token = await new_token(http, server, Origin="https://shop.example")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url(server, token), origin="https://evil.example")
        assert refused.value.status == 403
        async with http.ws_connect(ws_url(server, token), origin="https://shop.example") as ws:
            await next_of(ws, "history")
            await ws.send_str("{not json")
            assert (await next_of(ws, "error"))["error"] == "bad_json"
            await ws.send_json({"id": "long", "text": "字" * 4097})
            error = await next_of(ws, "error")
            assert (error["error"], error["id"]) == ("text_too_long", "long") and error["message_zh"]
            await ws.send_json({"id": "ok", "text": "营业时间", "unknown": 1})
            assert (await next_of(ws, "ack"))["id"] == "ok"  # the socket survived the bad ones


async def test_a_flooding_visitor_is_rate_limited(tmp_path: Path, demo_config: Path) -> None:
    adapters = {"webchat": {"visitor_messages_per_minute": 6}}
    async with serve(tmp_path, demo_config, adapters) as server, aiohttp.ClientSession() as http:
        token = await new_token(http, server)
        async with http.ws_connect(ws_url(server, token)) as ws:
            await next_of(ws, "history")
            outcomes = []
            for n in range(7):
                await ws.send_json({"id": f"f{n}", "text": "hello"})
                while (frame := await asyncio.wait_for(ws.receive_json(), 5))["type"] == "reply":
                    pass
                outcomes.append(frame["type"] if frame["type"] == "ack" else frame["error"])
        assert outcomes[:5] == ["ack"] * 5 and outcomes[-1] == "rate_limited"


@pytest.mark.parametrize("path", ["/webchat/widget.js", "/webchat/chat.css"])
async def test_the_widget_files_are_served(tmp_path: Path, demo_config: Path, path: str) -> None:
    async with serve(tmp_path, demo_config) as server, aiohttp.ClientSession() as http:
        response = await http.get(server.url.rstrip("/") + path)
        assert response.status == 200 and len(await response.text()) > 100
