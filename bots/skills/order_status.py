"""Order tracking as a two-turn dialogue: ask for the order number, then answer from the shop's data.

Shows slot filling whose state survives a restart (the dialogue is stored with the conversation).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from bots import Context, Skill, SkillConfig, on_command, on_regex, on_step

ORDER_NO = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{0,3}\d{6,20})(?![A-Za-z0-9])")


class Order(BaseModel):
    status: str  # a key of the skill's texts: processing, shipped, delivered
    carrier: str = ""
    tracking: str = ""


class OrderStatus(Skill):
    priority = 1  # it can look the order up: better than a general answer about shipping
    class Config(SkillConfig):
        orders: dict[str, Order] = {}  # demo data; a real shop plugs its order system in here
        max_attempts: int = 2

    texts = {
        "ask_number": {"zh": "请发送您的订单号（例如 DS100234）。", "en": "Please send me your order number (e.g. DS100234)."},
        "not_a_number": {"zh": "这看起来不像订单号，请再发一次，例如 DS100234。", "en": "That doesn't look like an order number. Could you send it again, e.g. DS100234?"},
        "unknown": {"zh": "没有找到订单 {number}，请核对后再试，或输入“人工”联系客服。", "en": "I couldn't find order {number}. Please check it, or type \"agent\" to reach a person."},
        "processing": {"zh": "订单 {number} 正在备货，通常 48 小时内发货。", "en": "Order {number} is being prepared and usually ships within 48 hours."},
        "shipped": {"zh": "订单 {number} 已由{carrier}发出，运单号 {tracking}。", "en": "Order {number} has shipped with {carrier}, tracking number {tracking}."},
        "delivered": {"zh": "订单 {number} 已签收。如有问题请告诉我。", "en": "Order {number} has been delivered. Let me know if anything is wrong."},
    }

    @on_command("order")
    @on_regex(ORDER_NO.pattern)  # an order number alone: look it up
    @on_regex(
        r"(?i)where('?s| is| are) my (order|parcel|package|stuff)|track(ing)? (my |the )?(order|parcel|package)|"
        r"order status|到哪了|查(一下)?(订单|物流|快递)|订单状态|物流(信息|状态|到哪)|快递(到哪|在哪|怎么还没)"
    )
    async def start(self, ctx: Context) -> None:
        found = ORDER_NO.search(ctx.text)
        if found:
            await self._answer(ctx, found.group(1).upper())
        else:
            await ctx.ask(ctx.t("ask_number"), step="order_number")

    @on_step("order_number")
    async def got_number(self, ctx: Context) -> None:
        found = ORDER_NO.search(ctx.text)
        if found:
            await self._answer(ctx, found.group(1).upper())
            return
        attempts = ctx.slots.get("attempts", 0) + 1
        if attempts >= self.config.max_attempts:
            ctx.end_dialog()
            await ctx.fallback()
            return
        await ctx.ask(ctx.t("not_a_number"), step="order_number", slots={"attempts": attempts})

    async def _answer(self, ctx: Context, number: str) -> None:
        ctx.end_dialog()
        ctx.remember("order", number)
        order = self.config.orders.get(number)
        if order is None:
            await ctx.reply(ctx.t("unknown", number=number))
            return
        await ctx.reply(ctx.t(order.status, number=number, carrier=order.carrier, tracking=order.tracking))
