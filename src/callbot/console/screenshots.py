"""Screenshots of the console's main pages, for the documentation: `python -m callbot.console.screenshots`
(or `make screenshots`).

Provisions the demo tenant in a scratch data folder, runs its task to the end on the simulated carrier at
full speed, serves the console on a free loopback port and photographs the pages with the system Chromium
(Playwright, from the dev dependencies; no browser is downloaded).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
PAGES = [
    ("dashboard", "/"),
    ("tasks", "/tasks"),
    ("task", "/tasks/{task_id}"),
    ("records", "/records"),
    ("record", "/records/{record_id}"),
    ("script", "/scripts/{script_id}"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def take(out: Path) -> list[Path]:
    import uvicorn

    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:  # a dev dependency
        raise SystemExit("screenshots need playwright: pip install -e '.[dev]' (and Debian's chromium)") from exc
    from callbot.app import create_app
    from callbot.cli.demo import provision
    from callbot.config import Settings
    from callbot.dialer.loop import Dialer, DialerOptions
    from callbot.record import service as record_service
    from callbot.runtime import open_store
    from callbot.telephony.gateway import GatewayRegistry
    from callbot.telephony.sim import SimGateway
    from callbot.tenant import service as tenant_service

    with tempfile.TemporaryDirectory(prefix="callbot-screenshots-") as data:
        store = await open_store(Settings(data_dir=Path(data)))
        try:
            info = await provision(store, Path(data))
            dialer = Dialer(store, GatewayRegistry(SimGateway(clock=store.clock, speed=0, seed=7)), DialerOptions())
            await dialer.run_until_idle()
            async with store.transaction() as tx:
                tenant = await tenant_service.get_tenant(tx, int(info["tenant"]["id"]))
                answered = await record_service.list_records_before(
                    tx, tenant, record_service.RecordFilter(), limit=200
                )
                record = max(answered, key=lambda r: len(r.transcript))
            ids = {"task_id": info["task_id"], "script_id": info["script_id"], "record_id": record.id}
            port = _free_port()
            server = uvicorn.Server(
                uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
            )
            serving = asyncio.create_task(server.serve(), name="screenshots-server")
            while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
                await asyncio.sleep(0.05)
            base = f"http://127.0.0.1:{port}"
            shots = []
            try:
                async with async_playwright() as pw:
                    browser = await pw.chromium.launch(
                        executable_path=CHROMIUM,
                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                              "--disable-component-update", "--no-first-run"],
                    )  # fmt: skip
                    page = await browser.new_page(viewport={"width": 1366, "height": 820}, locale="zh-CN")
                    await page.goto(f"{base}/login")
                    await page.fill("input[name=username]", info["console_user"]["username"])
                    await page.fill("input[name=password]", info["console_user"]["password"])
                    await page.click("button.primary")
                    await page.wait_for_url(f"{base}/")
                    for name, path in PAGES:
                        await page.goto(base + path.format(**ids))
                        await page.wait_for_timeout(1200)  # charts animate in
                        target = out / f"{name}.png"
                        await page.screenshot(path=str(target), full_page=False)
                        shots.append(target)
                    await browser.close()
            finally:
                server.should_exit = True
                await serving
            return shots
        finally:
            await store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshots of the console's main pages")
    parser.add_argument("--out", type=Path, default=Path("docs/console"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(take(args.out)):
        print(path)


if __name__ == "__main__":
    main()
