"""Slack staff rooms end to end: real slack-bolt and slack-sdk, a fake Slack Web API on 127.0.0.1,
signed events and button clicks posted to our route over real HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.adapters.slack import PRUNE_JOB, SEEN
from tests.fakes.slack_api import SIGNING_SECRET, TOKEN, FakeSlack, signed_headers
from tests.fakes.slack_world import ONCALL, PHOTO, ROOMS, SlackWorld, thread_message

ALICE = "UALICE"


@pytest.fixture
async def world(fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackWorld]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    w = SlackWorld(tmp_path, fake)
    await w.start()
    yield w
    await w.stop()


async def test_web_chat_customer_escalation_claim_reply_resolve(world: SlackWorld, fake: FakeSlack) -> None:
    await world.customer("webchat", "k1", "DS100234 到哪了")
    await world.customer("webchat", "k1", "我要转人工")
    esc = await world.escalation_of("webchat:k1")
    alert = world.alert(esc)
    assert alert.channel == ROOMS["regular"]
    for shown in ("Cust k1", "Channel: webchat", "Language: zh", "asked for human", "Severity: regular", "我要转人工",
                  "order: DS100234"):
        assert shown in alert.shown
    buttons = [e["text"]["text"] for b in alert.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Claim", "Resolve", "Send to factory liaison", "Return to bot"]

    assert await world.click("esc_claim", esc, ALICE) == 200
    assert "claimed by alice" in world.alert(esc).shown
    assert "alice" in world.received[-1][2].text  # the customer is told who joined

    await world.staff_says(esc, ALICE, "您好，包裹明天到 &lt;放心&gt;")
    reply = world.received[-1][2]
    assert (reply.text, reply.author) == ("您好，包裹明天到 <放心>", "alice")

    await world.staff_says(esc, ALICE, "#note 客户很着急")  # internal: stays in Slack
    assert world.received[-1][2] is reply

    assert await world.customer("webchat", "k1", "好的谢谢") == []  # the bot stays quiet
    assert "好的谢谢" in world.thread(esc)[-1].shown

    await world.click("esc_resolve", esc, ALICE)
    assert "resolved by alice" in world.alert(esc).shown
    assert not [b for b in world.alert(esc).blocks if b["type"] == "actions"]
    assert "欢迎光临" in (await world.customer("webchat", "k1", "你好"))[0].text  # the bot answers again
    assert (await world.bot.desk.get(esc.id)).first_response_at is not None


async def test_slack_dm_customer_gets_the_same_flow(world: SlackWorld, fake: FakeSlack) -> None:
    def dm(text: str) -> dict:
        return {"type": "message", "channel": "DCAROL", "channel_type": "im", "user": "UCUST", "text": text,
                "ts": f"{time.time():.6f}"}

    await world.event(dm("I want a real person"))
    esc = await world.escalation_of("slack:DCAROL")
    assert world.alert(esc).channel == ROOMS["regular"] and "Carol" in world.alert(esc).shown
    assert "team" in fake.in_channel("DCAROL")[-1].text  # told a person is coming, in the DM

    await world.click("esc_claim", esc, ALICE)
    await world.staff_says(esc, ALICE, "Hi Carol, checking now")
    answer = fake.in_channel("DCAROL")[-1]
    assert answer.text == "Hi Carol, checking now" and answer.params.get("username") == "alice"

    await world.event(dm("thanks!"))
    assert "thanks!" in world.thread(esc)[-1].shown
    await world.click("esc_return", esc, ALICE)
    assert "returned to the bot" in world.alert(esc).shown
    await world.event(dm("hello"))
    assert "Welcome!" in fake.in_channel("DCAROL")[-1].shown


async def test_photos_travel_both_ways(world: SlackWorld, fake: FakeSlack) -> None:
    await world.customer("generic", "g1", "我要人工")
    esc = await world.escalation_of("generic:g1")
    await world.customer("generic", "g1", "看这个裂缝", photo="crack.jpg")
    upload = world.thread(esc)[-1]
    assert [f["name"] for f in upload.files] == ["crack.jpg"] and "看这个裂缝" in upload.shown
    assert fake.uploads[upload.files[0]["id"]] == PHOTO

    photo_id = fake.add_file(b"staff photo", "fixed.jpg")
    await world.staff_says(esc, ALICE, "这样装", files=[{"id": photo_id, "name": "fixed.jpg", "mimetype": "image/jpeg"}])
    sent = world.received[-1][2]
    assert sent.text == "这样装" and sent.attachments[0].kind == "image"
    async with world._http.get(sent.attachments[0].url) as response:  # the customer's channel fetches it
        assert response.status == 200 and await response.read() == b"staff photo"
    async with world._http.get(sent.attachments[0].url.split("?")[0] + "?sig=forged") as response:
        assert response.status == 403


async def test_a_dispute_goes_to_the_urgent_room_and_on_to_the_factory(world: SlackWorld, fake: FakeSlack) -> None:
    await world.customer("webchat", "k2", "我要投诉，质量太差")
    urgent = await world.escalation_of("webchat:k2")
    assert world.alert(urgent).channel == ROOMS["urgent"]
    assert "Reason: dispute keyword" in world.alert(urgent).shown and "keyword: 投诉" in world.alert(urgent).shown
    await world.click("esc_forward", urgent, ALICE)
    assert "Forwarded from the urgent room" in fake.in_channel(ROOMS["factory"])[-1].shown
    await world.click("esc_forward", urgent, "UBOB")  # a second click does not post it again
    assert len(fake.in_channel(ROOMS["factory"])) == 1


async def test_sla_breach_is_announced_once_even_across_a_restart(world: SlackWorld, fake: FakeSlack) -> None:
    await world.customer("webchat", "k3", "我要人工")
    esc = await world.escalation_of("webchat:k3")
    await world.advance(minutes=10)
    await world.restart()
    await world.advance(minutes=6)
    breaches = [m for m in world.thread(esc) if "SLA breached" in m.text]
    assert len(breaches) == 1 and breaches[0].text.startswith(ONCALL) and breaches[0].params["reply_broadcast"]
    assert "SLA breached" in world.alert(esc).shown
    await world.advance(minutes=60)
    assert len([m for m in world.thread(esc) if "SLA breached" in m.text]) == 1


async def test_the_daily_report_reaches_the_reports_channel(world: SlackWorld, fake: FakeSlack) -> None:
    await world.customer("webchat", "k3r", "我要人工")
    await world.advance(hours=16)  # past 09:00 in Shanghai
    [report] = fake.in_channel(ROOMS["reports"])
    assert report.text.startswith("Staff report, ") and "Escalations raised: 1 (regular 1)" in report.text
    assert "SLA breached: 1" in report.text


async def test_a_retried_event_is_relayed_once(world: SlackWorld) -> None:
    await world.customer("webchat", "k4", "我要人工")
    event = thread_message(await world.escalation_of("webchat:k4"), ALICE, "马上处理", ts="1800000000.000200")
    await world.event(event, event_id="Ev1")
    retry = lambda body: {**signed_headers(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}  # noqa: E731
    assert await world.event(event, event_id="Ev1", headers=retry) == 200
    assert [r.text for _, _, r in world.received].count("马上处理") == 1


async def test_seen_message_ids_are_kept_a_day_then_pruned(world: SlackWorld) -> None:
    await world.customer("webchat", "k4b", "我要人工")
    event = thread_message(await world.escalation_of("webchat:k4b"), ALICE, "稍等", ts="1800000000.000250")
    await world.event(event, event_id="Ev2")
    await world.advance(hours=3)
    await world.event(event, event_id="Ev2")  # a late redelivery is still recognised
    assert [r.text for _, _, r in world.received].count("稍等") == 1
    assert len(await world.bot.storage.scan(SEEN)) == 1
    await world.restart()  # the prune job is persistent: no pile-up, and it still runs
    await world.advance(hours=30)
    assert await world.bot.storage.scan(SEEN) == []
    assert len([j for _, j in await world.bot.storage.scan("jobs") if j["kind"] == PRUNE_JOB]) == 1


async def test_bad_signature_and_stale_timestamp_are_refused(world: SlackWorld) -> None:
    await world.customer("webchat", "k5", "我要人工")
    esc = await world.escalation_of("webchat:k5")
    ref = esc.ref["regular"]
    event = {"type": "message", "channel": ref["channel"], "channel_type": "channel", "user": ALICE,
             "text": "forged", "ts": "1800000000.000300", "thread_ts": ref["ts"]}
    assert await world.event(event, headers=lambda body: signed_headers(body, secret="wrong")) == 401
    stale = int(time.time()) - 600
    assert await world.event(event, headers=lambda body: signed_headers(body, timestamp=stale)) == 401
    assert "forged" not in [r.text for _, _, r in world.received]


async def test_customer_text_cannot_ping_or_link_in_staff_slack(world: SlackWorld, fake: FakeSlack) -> None:
    await world.customer("webchat", "k6", "<!channel> @here <@UBOSS> <http://evil|x> 我要人工")
    esc = await world.escalation_of("webchat:k6")
    await world.customer("webchat", "k6", "<!here> *bold* <http://evil|click>")
    for message in [world.alert(esc), *world.thread(esc)]:
        for text in (message.shown, message.text):
            for raw in ("<!channel>", "<!here>", "<@UBOSS>", "<http://evil|x>", "<http://evil|click>", "@here"):
                assert raw not in text
        assert message.params.get("mrkdwn") is False
        assert all(t["type"] == "plain_text" for b in message.blocks if b["type"] == "section"
                   for t in [b.get("text", {"type": "plain_text"}), *b.get("fields", [])])
    assert "&lt;!channel&gt;" in world.alert(esc).shown  # shown literally, not acted on


async def test_while_slack_is_down_alerts_wait_then_arrive_once(world: SlackWorld, fake: FakeSlack) -> None:
    await fake.stop()
    for key in ("a", "b", "c"):
        await world.customer("webchat", key, "我要人工")
    await world.customer("webchat", "a", "还在吗")  # relayed into a's thread, after a's alert
    assert world.bot.outbox.backlog == 4 and not fake.messages
    fake.rate_limit = [30]
    await fake.start()  # back, on the same port
    await world.advance(minutes=10)  # past the backoff: one attempt meets a 429 with Retry-After: 30
    waiting = world.bot.outbox.backlog
    assert waiting > 0
    await world.advance(seconds=20)
    assert world.bot.outbox.backlog == waiting  # Retry-After honoured
    await world.advance(seconds=11)
    assert world.bot.outbox.backlog == 0
    alerts = fake.in_channel(ROOMS["regular"])
    assert [m.shown.split("Cust ")[1][0] for m in alerts] == ["a", "b", "c"]  # each once, in order
    first = await world.escalation_of("webchat:a")
    assert [m.shown for m in world.thread(first)] == ["Cust a: 还在吗"]


async def test_a_saved_reply_in_chinese_with_the_order_filled(world: SlackWorld, fake: FakeSlack) -> None:
    await world.customer("webchat", "k7", "DS100234 到哪了")
    await world.customer("webchat", "k7", "我要人工")
    esc = await world.escalation_of("webchat:k7")
    await world.click("esc_claim", esc, ALICE)
    told = await world.command("shipping_delay", ALICE, ROOMS["regular"])  # the one she claimed here
    assert "Sending" in told
    sent = world.received[-1][2]
    assert sent.text.startswith("非常抱歉，您的订单DS100234") and sent.author == "alice"
    assert "shipping_delay" in world.thread(esc)[-1].shown

    assert "no saved reply 'nope'" in await world.command(f"nope {esc.id}", ALICE, ROOMS["regular"])
    await world.customer("webchat", "k8", "我要人工")
    other = await world.escalation_of("webchat:k8")
    before = len(world.received)
    refused = await world.command(f"warranty {other.id}", ALICE, ROOMS["regular"])
    assert "needs order" in refused and len(world.received) == before  # nothing half-filled is sent


async def test_a_mention_in_a_shared_channel_is_a_customer_message(world: SlackWorld, fake: FakeSlack) -> None:
    mention = {"type": "app_mention", "channel": "CSHARED", "user": "UCUST", "text": "<@UBOT> 你好",
               "ts": f"{time.time():.6f}"}
    await world.event(mention)
    answer = fake.in_channel("CSHARED")[-1]
    assert "欢迎光临" in answer.text and "Talk to a person" in answer.shown  # with its button
    staff_mention = {**mention, "channel": ROOMS["regular"], "ts": f"{time.time():.6f}"}
    await world.event(staff_mention)  # mentioning the bot inside a staff room is not a customer
    assert len(fake.in_channel(ROOMS["regular"])) == 0
