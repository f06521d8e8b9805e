"""Socket Mode, for sellers without a public URL: the real slack-bolt handler connects out to a fake
Slack on 127.0.0.1 (apps.connections.open, then a WebSocket) and takes events and clicks from it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.slack_api import APP_TOKEN, TOKEN, FakeSlack
from tests.fakes.slack_world import SlackWorld, button_click, event_callback, thread_message

ALICE = "UALICE"


@pytest.fixture
async def world(fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackWorld]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    w = SlackWorld(tmp_path, fake, mode="socket")
    await w.start()
    yield w
    await w.stop()


async def test_claim_and_thread_reply_arrive_over_the_socket(world: SlackWorld, fake: FakeSlack) -> None:
    await world.customer("webchat", "s1", "我要人工")
    esc = await world.escalation_of("webchat:s1")
    assert fake.count("apps.connections.open") == 1

    ack = await fake.deliver("interactive", button_click("esc_claim", esc, ALICE, world.url))
    await world.settle()
    assert "envelope_id" in ack and "claimed by alice" in world.alert(esc).shown

    await fake.deliver("events_api", event_callback(thread_message(esc, ALICE, "您好，我是 Alice")))
    await world.settle()
    reply = world.received[-1][2]
    assert (reply.text, reply.author) == ("您好，我是 Alice", "alice")


async def test_a_redelivered_socket_event_is_relayed_once(world: SlackWorld, fake: FakeSlack) -> None:
    await world.customer("webchat", "s2", "我要人工")
    esc = await world.escalation_of("webchat:s2")
    message = thread_message(esc, ALICE, "马上处理")
    for _ in range(2):
        await fake.deliver("events_api", event_callback(message, event_id="EvSame"))
        await world.settle()
    assert [r.text for _, _, r in world.received].count("马上处理") == 1


async def test_no_http_event_route_in_socket_mode(world: SlackWorld) -> None:
    assert await world.event({"type": "message", "channel": "C1", "user": ALICE, "text": "x", "ts": "1.1"}) == 404
