"""The server side of bench/webhook_load.py: one of three set-ups on 127.0.0.1, in its own process.

    ceiling  a bare aiohttp endpoint that parses the JSON body and echoes it (what HTTP alone costs)
    echo     the bot with the generic webhook and a one-line echo skill (the framework's overhead:
             signature, routing, duplicate check, durable storage, outbox)
    shop     the bot with the generic webhook and the demo shop's skills

    python bench/webhook_server.py SETUP PORT DATA_DIR      (prints "ready" when listening)
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
from pathlib import Path

import yaml
from aiohttp import web

from bots import Context, Skill, on_regex
from bots.bot import Bot
from bots.server import WebServer

ROOT = Path(__file__).resolve().parent.parent


class Echo(Skill):
    """Answers every message with its own text: no NLP, no dialogue, just the framework."""

    @on_regex(r"(?s).*")
    async def echo(self, ctx: Context) -> None:
        await ctx.reply(ctx.text)


def _config(setup: str, data_dir: Path) -> Path:
    config = data_dir / "skills_config"
    shutil.copytree(ROOT / "skills_config", config)
    settings = yaml.safe_load((config / "bots.yaml").read_text(encoding="utf-8"))
    settings["adapters"] = {"generic": {}}
    if setup == "echo":
        settings["skills"] = ["webhook_server:Echo"]  # this module, importable by that name
    (config / "bots.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return config


async def _ceiling(port: int) -> web.AppRunner:
    async def echo(request: web.Request) -> web.Response:
        return web.json_response(await request.json())

    app = web.Application()
    app.router.add_post("/webhook/generic", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def main(setup: str, port: int, data_dir: Path) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if setup == "ceiling":
        runner = await _ceiling(port)
        print("ready", flush=True)
        await stop.wait()
        await runner.cleanup()
        return
    server = WebServer(Bot.from_config(_config(setup, data_dir), data_dir=data_dir / "data"), "127.0.0.1", port)
    await server.start()
    print("ready", flush=True)
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    sys.modules.setdefault("webhook_server", sys.modules["__main__"])
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])))
