"""A customer who asks for a person gets one: the explicit hand-off request."""

from __future__ import annotations

from bots import Context, Skill, on_command, on_keywords


class Handoff(Skill):
    priority = 10  # asking for a person beats every other reading of the message

    @on_command("human")
    @on_keywords(
        zh=["转人工", "人工客服", "人工", "真人", "找客服"],
        en=["human", "agent", "real person", "talk to a person", "representative"],
        interrupts=True,
    )
    async def to_person(self, ctx: Context) -> None:
        await ctx.escalate("asked_for_human", "regular", evidence={"message": ctx.text})
