"""Greeting, help menu and opening hours: the smallest useful skill, and the shape of every other."""

from __future__ import annotations

from bots import Context, Skill, SkillConfig, on_command, on_keywords, on_regex


GREETINGS = r"(hi|hello|hey|help|menu|你好|您好|在吗|哈喽|帮助|菜单)"


class Greeting(Skill):
    class Config(SkillConfig):
        shop_name: dict[str, str] = {"zh": "演示小店", "en": "Demo Shop"}
        hours: dict[str, str] = {"zh": "每天 9:00-21:00（北京时间）", "en": "9:00-21:00 every day (Beijing time)"}

    texts = {
        "welcome": {
            "zh": "您好，欢迎来到{shop}！我可以帮您查订单、解答产品使用问题、处理售后。请问有什么可以帮您？",
            "en": "Hi, welcome to {shop}! I can help with orders, product questions and after-sales. What can I do for you?",
        },
        "hours": {"zh": "我们的客服时间：{hours}。机器人客服全天在线。", "en": "Our team is available {hours}. I'm here around the clock."},
        "menu_order": {"zh": "查询订单", "en": "Track my order"},
        "menu_hours": {"zh": "客服时间", "en": "Opening hours"},
        "menu_human": {"zh": "人工客服", "en": "Talk to a person"},
        "welcome_back": {
            "zh": ["不客气！还有其他问题随时找我。", "很高兴能帮到您，祝您使用愉快！"],
            "en": ["You're welcome! I'm here if you need anything else.", "Glad I could help. Enjoy!"],
        },
    }

    @on_command("start")
    @on_regex(rf"(?i)^\s*{GREETINGS}[\s!！。.,，~?？]*(there|呀|啊|哦)?[\s!！。.,，~?？]*$")  # nothing but a greeting
    @on_regex(rf"(?i)^\s*{GREETINGS}", score=0.5)  # a real question in the same message wins
    async def welcome(self, ctx: Context) -> None:
        shop = self.config.shop_name.get(ctx.lang, self.config.shop_name["en"])
        menu = [(ctx.t("menu_order"), "/order"), (ctx.t("menu_hours"), "/hours"), (ctx.t("menu_human"), "/human")]
        await ctx.reply(ctx.t("welcome", shop=shop), menu)

    @on_command("hours")
    @on_keywords(zh=["营业时间", "几点上班", "客服时间", "几点下班"], en=["opening hours", "open hours", "business hours"])
    async def hours(self, ctx: Context) -> None:
        await ctx.reply(ctx.t("hours", hours=self.config.hours.get(ctx.lang, self.config.hours["en"])))

    @on_regex(r"(?i)^\W*(thanks?|thank you|thx|ty|cheers|ok thanks|great,? thanks?)\b|谢谢|感谢|多谢|解决了|好了好了|搞定了", score=0.7)
    async def thanks(self, ctx: Context) -> None:
        await ctx.reply(ctx.t("welcome_back"))
