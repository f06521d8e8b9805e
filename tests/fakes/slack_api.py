"""A fake Slack Web API on 127.0.0.1 that the real slack-sdk client talks to (`base_url` points here).

It keeps the messages posted per channel, the files uploaded, and every call made; it can answer 429
(with Retry-After) or be stopped and started again on the same port to stand for an outage. It also
plays Slack's side of Socket Mode: `apps.connections.open` hands out a WebSocket on this server, and
`deliver` pushes an envelope down it and waits for the app's acknowledgement.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"  # Socket Mode: only for apps.connections.open
SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UBOT"


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[Any]
    thread_ts: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        """Everything a person reads in the message: blocks' texts, else the fallback text."""
        texts: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") in ("plain_text", "mrkdwn"):
                    texts.append(node["text"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.blocks)
        return "\n".join(texts) if texts else self.text


class FakeSlack:
    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.users = users or {}
        self.messages: list[Posted] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.ephemeral: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self.file_names: dict[str, str] = {}
        self.rate_limit: list[float] = []  # Retry-After of the next answers, one per call
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.acks: dict[str, dict[str, Any]] = {}  # Socket Mode acknowledgements by envelope id
        self._socket: web.WebSocketResponse | None = None
        self._socket_open = asyncio.Event()

    # -- running -------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/private/{file_id}", self._download)
        app.router.add_get("/socket", self._socket_mode)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- what tests read -----------------------------------------------------------------------

    def in_channel(self, channel: str) -> list[Posted]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts is None]

    def thread(self, channel: str, ts: str) -> list[Posted]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts == ts]

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    # -- the API -------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        """slack-sdk sends JSON, a form or a query string depending on the method: merge all three."""
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update(await request.post())
        for key in ("blocks", "files"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token = APP_TOKEN if method == "apps.connections.open" else TOKEN
        if request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.rate_limit:
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(self.rate_limit.pop(0))}
            )
        params = await self._params(request)
        self.calls.append((method, params))
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        body = handler(params)
        headers = {"x-oauth-scopes": "chat:write,im:history,channels:history"} if method == "auth.test" else None
        return web.json_response(body, headers=headers)

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        self._socket = socket
        self._socket_open.set()
        async for frame in socket:
            if frame.type == WSMsgType.TEXT:
                answer = json.loads(frame.data)
                if "envelope_id" in answer:
                    self.acks[answer["envelope_id"]] = answer
        return socket

    async def deliver(self, kind: str, payload: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Push an `events_api`, `interactive` or `slash_commands` envelope; returns the app's ack."""
        await asyncio.wait_for(self._socket_open.wait(), timeout)
        assert self._socket is not None
        envelope_id = uuid.uuid4().hex
        await self._socket.send_json({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": "",
        })
        async with asyncio.timeout(timeout):
            while envelope_id not in self.acks:
                await asyncio.sleep(0.01)
        return self.acks[envelope_id]

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1", "user": "aftersales"}

    def _post(self, channel: str, params: dict[str, Any], files: list[dict[str, Any]] | None = None) -> Posted:
        posted = Posted(
            channel=channel,
            ts=f"{1700000000 + next(self._ts)}.000100",
            text=str(params.get("text") or params.get("initial_comment") or ""),
            blocks=params.get("blocks") or [],
            thread_ts=params.get("thread_ts") or None,
            files=files or [],
            params=params,
        )
        self.messages.append(posted)
        return posted

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        posted = self._post(params["channel"], params)
        return {"ok": True, "channel": posted.channel, "ts": posted.ts, "message": {"text": posted.text}}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages:
            if message.channel == params["channel"] and message.ts == params["ts"]:
                message.text, message.blocks = str(params.get("text", "")), params.get("blocks") or []
                return {"ok": True, "channel": message.channel, "ts": message.ts}
        return {"ok": False, "error": "message_not_found"}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        self.ephemeral.append(params)
        return {"ok": True, "message_ts": "1.0"}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = params["user"]
        name = self.users.get(user, user.lower())
        return {"ok": True, "user": {"id": user, "name": name, "real_name": name, "profile": {"display_name": name}}}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._file_ids):04d}"
        self.file_names[file_id] = str(params["filename"])
        return {"ok": True, "file_id": file_id, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}"}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK")

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = [{"id": f["id"], "name": self.file_names.get(f["id"], "")} for f in params["files"]]
        self._post(params["channel_id"], params, files)
        return {"ok": True, "files": files}

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params["file"]
        if file_id not in self.uploads:
            return {"ok": False, "error": "file_not_found"}
        url = f"http://127.0.0.1:{self.port}/private/{file_id}"
        return {"ok": True, "file": {"id": file_id, "mimetype": "image/jpeg", "url_private_download": url}}

    async def _download(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=403)
        return web.Response(body=self.uploads[request.match_info["file_id"]], content_type="image/jpeg")

    def add_file(self, data: bytes, name: str) -> str:
        """A file a person uploaded in Slack (it then appears in a message event's `files`)."""
        file_id = f"F{next(self._file_ids):04d}"
        self.uploads[file_id], self.file_names[file_id] = data, name
        return file_id


def signed_headers(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: `v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
