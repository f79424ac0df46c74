"""The documentation pages in a real browser, the system Chromium, with every request to another host
refused: Swagger UI lists the native API's operations and switches to a dialect's document, ReDoc renders.
Skipped where Playwright or Chromium is not installed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn

from callbot.app import create_app
from callbot.kit.db import Store

CHROMIUM = Path("/usr/bin/chromium")
async_api = pytest.importorskip("playwright.async_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="the system Chromium is not installed"),
]


@pytest.fixture
async def base_url(store: Store) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve(), name="docs-server")
    for _ in range(600):
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, timeout=30)


async def test_the_docs_render_offline_in_chromium(base_url: str) -> None:
    elsewhere: list[str] = []
    blocked: list[str] = []
    async with async_api.async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            page = await browser.new_page()

            async def local_only(route: object) -> None:
                url = route.request.url  # type: ignore[attr-defined]
                if urlsplit(url).hostname != "127.0.0.1" and not url.startswith("data:"):
                    elsewhere.append(url)
                    await route.abort()  # type: ignore[attr-defined]
                else:
                    await route.continue_()  # type: ignore[attr-defined]

            await page.route("**/*", local_only)
            # What the page's Content-Security-Policy stopped before it reached the network.
            page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
            await page.goto(f"{base_url}/docs")
            await page.wait_for_selector(".opblock", timeout=60_000)
            assert await page.locator(".opblock").count() > 40
            choices = await page.locator(".topbar select option").all_inner_texts()
            assert len(choices) == 3 and any("Yiwise" in c for c in choices), choices
            await page.locator(".topbar select").select_option(index=1)
            await page.wait_for_selector('[data-path="/apiOpen/v1/task/createTask"]', timeout=60_000)
            await page.goto(f"{base_url}/redoc/digelao")
            await page.wait_for_selector("text=addJsonOfAsync", timeout=60_000)
        finally:
            await browser.close()
    assert elsewhere == []
    # Only ReDoc's CDN logo is refused by the policy; the pages themselves need nothing from elsewhere.
    assert all("cdn.redoc.ly" in message for message in blocked), blocked
