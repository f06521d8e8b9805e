"""The web chat page in a real headless browser (Debian's chromium), on a phone-sized screen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bots.message import Attachment, Reply
from tests.test_server import serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/eL9GtQAAAABJRU5ErkJggg=="

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent (apt-get install chromium)")


async def test_a_customer_chats_presses_a_button_sees_an_image_and_reloads(tmp_path: Path, demo_config: Path) -> None:
    async_api = pytest.importorskip("playwright.async_api")
    async with serve(tmp_path, demo_config) as server, async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            page.set_default_timeout(8000)
            await page.goto(f"{server.url}?lang=zh")
            await async_api.expect(page.locator("#status")).to_have_text("在线")
            await page.fill("#input", "你好")
            await page.press("#input", "Enter")
            await async_api.expect(page.locator(".msg.bot").last).to_contain_text("欢迎")
            await page.get_by_role("button", name="查询订单").click()
            await async_api.expect(page.locator(".msg.bot").last).to_contain_text("订单号")
            await page.fill("#input", "DS100234")
            await page.click("#send")
            await async_api.expect(page.locator(".msg.bot").last).to_contain_text("SF1234567890")

            visitor = (await page.evaluate("localStorage.getItem('bots.webchat.token')")).split(".")[0]
            async with server.bot.conversations.locked(f"webchat:{visitor}") as conversation:  # a proactive message
                await server.bot.send(conversation, Reply(text="您的发票", attachments=[Attachment(url=PIXEL)]))
            image = page.locator(".msg.bot img").last
            await async_api.expect(image).to_be_visible()
            assert await image.evaluate("img => img.naturalWidth") == 1

            await page.reload()
            await async_api.expect(page.locator(".msg")).to_have_count(7)
            texts = await page.locator(".msg").all_inner_texts()
            assert texts[0] == "你好" and texts[2] == "查询订单" and "SF1234567890" in texts[5]
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits the phone
        finally:
            await browser.close()
