"""The one HTTP server of `bots run`: every adapter's routes, `/healthz`, `/metrics`, JSON errors.

Client mistakes always get a 4xx with a JSON body `{"error", "message", "message_zh"}`; a 500 only
ever means a bug of ours. Shutdown stops listening, lets in-flight requests finish, flushes the outbox
for a few seconds and keeps whatever is still undelivered stored for the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import metrics
from .config import ConfigError

if TYPE_CHECKING:
    from .bot import Bot

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_TEXT = 4096
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
WEBSOCKETS = web.AppKey("websockets", weakref.WeakSet[web.WebSocketResponse])
BOT = web.AppKey("bot", object)

ERRORS: dict[str, tuple[str, str]] = {
    "bad_json": ("The body is not valid JSON.", "请求体不是有效的 JSON。"),
    "invalid": ("The message does not match the schema.", "消息格式不符合要求。"),
    "text_too_long": (f"The text is longer than {MAX_TEXT} characters.", f"文字超过 {MAX_TEXT} 个字符。"),
    "too_large": (f"The body is larger than {MAX_BODY // 1024} KiB.", f"请求体超过 {MAX_BODY // 1024} KiB。"),
    "unauthorized": ("Missing or wrong signature, or an expired timestamp.", "签名缺失或错误，或时间戳已过期。"),
    "not_configured": ("The webhook secret is not set on the server.", "服务器未设置 webhook 密钥。"),
    "forbidden_origin": ("This website may not use the chat.", "此网站无权使用在线客服。"),
    "rate_limited": ("Too many messages; please wait a moment.", "消息太频繁，请稍候再试。"),
    "not_found": ("No such endpoint.", "没有这个地址。"),
    "method_not_allowed": ("Method not allowed.", "不支持此请求方法。"),
    "unavailable": ("The bot is busy or starting; please retry.", "服务繁忙或正在启动，请稍后重试。"),
    "internal": ("Internal error; the message was not accepted.", "服务器内部错误，消息未被接收。"),
}
_STATUS_CODES = {400: "bad_json", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def error_body(code: str, detail: str = "") -> dict[str, str]:
    """The JSON error shown to a client, in English and Chinese."""
    english, chinese = ERRORS[code]
    body = {"error": code, "message": english, "message_zh": chinese}
    if detail:
        body["detail"] = detail
    return body


def dumps(value: Any) -> str:
    """JSON as sent to clients: Chinese stays readable."""
    return json.dumps(value, ensure_ascii=False)


def json_error(status: int, code: str, detail: str = "", headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(error_body(code, detail), status=status, headers=headers, dumps=dumps)


class HttpSettings(BaseModel):
    """Settings every HTTP adapter accepts: where the shared server listens."""

    model_config = ConfigDict(extra="forbid")

    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)


def listen_address(bot: Bot) -> tuple[str, int]:
    """The (host, port) the adapters ask for; two adapters asking for different ones is a config error."""
    wanted = set()
    for adapter in bot.adapters.values():
        settings = getattr(adapter, "settings", None)
        if isinstance(settings, HttpSettings) and settings.model_fields_set & {"host", "port"}:
            wanted.add((settings.host, settings.port))
    if len(wanted) > 1:
        raise ConfigError(f"bots.yaml: adapters ask for different HTTP addresses {sorted(wanted)}; they share one server")
    return wanted.pop() if wanted else (DEFAULT_HOST, DEFAULT_PORT)


@web.middleware
async def _json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _STATUS_CODES.get(exc.status, "invalid" if exc.status < 500 else "unavailable")
        return json_error(exc.status, code, headers={k: v for k, v in exc.headers.items() if k == "Allow"})
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        metrics.ERRORS.labels("http").inc()
        return json_error(500, "internal")


class WebServer:
    """Hosts the bot over HTTP: start the bot, then listen; stop listening, then stop the bot."""

    def __init__(self, bot: Bot, host: str | None = None, port: int | None = None) -> None:
        self.bot = bot
        configured = listen_address(bot)
        self.host = host if host is not None else configured[0]
        self.port = port if port is not None else configured[1]
        self.ready = False
        self.app = self._build()
        self._runner: web.AppRunner | None = None

    def _build(self) -> web.Application:
        app = web.Application(middlewares=[_json_errors], client_max_size=MAX_BODY)
        app[WEBSOCKETS] = weakref.WeakSet()
        app[BOT] = self.bot
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        for adapter in self.bot.adapters.values():
            app.add_routes(adapter.routes())
        app.on_shutdown.append(_close_websockets)
        return app

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        await self.bot.start()
        metrics.watch_backlog(lambda: self.bot.outbox.backlog)
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=10)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        self.ready = True

    async def stop(self, flush_seconds: float = 5.0) -> None:
        """Finish in-flight requests, try to deliver the outbox, and keep the rest for the next start."""
        self.ready = False
        if self._runner is not None:
            await self._runner.cleanup()
        try:
            await asyncio.wait_for(self.bot.outbox.drain(), flush_seconds)
        except TimeoutError:
            log.warning("%d outbox items kept for the next start", self.bot.outbox.backlog)
        await self.bot.stop()

    async def _healthz(self, request: web.Request) -> web.Response:
        """Ready once storage answers and every adapter has started (load balancers poll this)."""
        if not self.ready:
            return web.json_response({"status": "starting"}, status=503)
        try:
            await self.bot.storage.get("health", "probe")
        except Exception as exc:  # noqa: BLE001  (storage closed or broken: not ready, whatever the reason)
            return web.json_response({"status": "storage unavailable", "detail": type(exc).__name__}, status=503)
        return web.json_response({"status": "ok", "adapters": sorted(self.bot.adapters)})

    async def _metrics(self, request: web.Request) -> web.Response:
        body, content_type = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})


async def _close_websockets(app: web.Application) -> None:
    """Open chat pages reconnect by themselves; close them so shutdown does not wait on them."""
    await asyncio.gather(*(ws.close(code=1001, message=b"server restart") for ws in list(app[WEBSOCKETS])))


def invalid_message(exc: ValidationError) -> tuple[str, str]:
    """The error code and a short field-by-field detail for a body that fails its schema."""
    too_long = any(e["loc"][:1] == ("text",) and e["type"] == "string_too_long" for e in exc.errors())
    detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
    return ("text_too_long" if too_long else "invalid"), detail
