"""`callbot serve` (the API, with the dialer and callback delivery beside it) and `callbot worker` (the
dialer and callback delivery only, for scaling out on PostgreSQL).

`callbot serve` runs the workers in a child process (`callbot worker`), not on the API's event loop: calls
are CPU work (the dialogue engine, NLU, writing records) and so is answering the API, and in one process
(one GIL) a burst of API reads starved the calls. Two processes let the operating system share the cores
between them, exactly as a scaled-out deployment (`serve --role api` + `worker`) does. The child lives and
dies with its parent: it is told to stop when the server stops, and it exits at once if the parent dies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from callbot.config import Settings

log = logging.getLogger("callbot")


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment of a worker process that sees exactly these settings (including ones set in code)."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        env[f"CALLBOT_{name.upper()}"] = str(value)
    return env


async def run_server(settings: Settings, host: str, port: int, *, workers: bool = True) -> int:
    """Serve the API until a signal; with `workers`, run `callbot worker` beside it. Returns the exit status:
    1 when the worker died and took the server down with it."""
    import uvicorn

    from callbot.app import create_app
    from callbot.runtime import open_store

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises the stop signal as soon as the API has stopped, which would end this process
            # before its worker has finished the calls in flight; here the signal only stops the server.
            original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    store = await open_store(settings)  # migrated before the worker starts, so only one process migrates
    app = create_app(
        store, public_url=settings.public_url or f"http://{host}:{port}", recordings_dir=settings.recordings_path()
    )
    server = Server(uvicorn.Config(app, host=host, port=port, log_level=settings.log_level, lifespan="on"))
    stopping, worker_died = False, False

    async def watch(worker: asyncio.subprocess.Process) -> None:
        nonlocal worker_died
        code = await worker.wait()
        if not stopping:  # a worker that dies on its own stops callbot whole, rather than serve without calls
            log.error("the worker process (dialer and callbacks) exited with status %s: stopping callbot", code)
            worker_died = True
            server.should_exit = True

    worker: asyncio.subprocess.Process | None = None
    watcher: asyncio.Task[None] | None = None
    try:
        if workers:
            env = worker_environment(settings.model_copy(update={"host": host, "port": port}))
            worker = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "callbot", "worker", "--exit-with-parent", env=env, stdin=asyncio.subprocess.PIPE
            )
            watcher = asyncio.create_task(watch(worker), name="worker-watch")
        await server.serve()
    finally:
        stopping = True
        if worker is not None and watcher is not None:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)  # it finishes its calls in flight, then exits
            await watcher
        await store.dispose()
    return 1 if worker_died else 0


def _exit_with_parent() -> None:
    """Exit at once when the parent's end of our stdin closes: the parent died (even by kill -9), and a
    dialer without its server must not go on calling alone beside the one a restart brings up."""

    def watch() -> None:
        # os.read, not sys.stdin: a daemon thread must not hold the buffered reader's lock at exit.
        while os.read(sys.stdin.fileno(), 4096):
            pass
        os._exit(70)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


async def run_worker(settings: Settings) -> None:
    from callbot.runtime import open_store, run_workers

    store = await open_store(settings)
    log.info("callbot worker on %s: dialer and callback delivery running", store.dialect)
    if store.dialect == "sqlite":
        log.info("on SQLite run one worker (or serve) per data folder; scale out on PostgreSQL")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run_workers(store, settings, stop)
    finally:
        await store.dispose()


@click.command()
@click.option("--host", default=None, help="address to listen on [default: 127.0.0.1, or CALLBOT_HOST]")
@click.option("--port", type=int, default=None, help="port [default: 8000, or CALLBOT_PORT]")
@click.option(
    "--role",
    type=click.Choice(["all", "api"]),
    default="all",
    show_default=True,
    help="all: API, dialer and callbacks; api: the API only (run `callbot worker` processes beside it)",
)
def serve(host: str | None, port: int | None, role: str) -> None:
    """Run callbot: the native API at /api/v1 (docs at /docs), the dialer and callback delivery."""
    from callbot.config import Settings

    settings = Settings()
    setup_logging(settings)
    sys.exit(asyncio.run(run_server(settings, host or settings.host, port or settings.port, workers=role == "all")))


@click.command()
@click.option("--exit-with-parent", is_flag=True, hidden=True, help="exit when stdin closes (started by serve)")
def worker(exit_with_parent: bool) -> None:
    """Run the dialer and callback delivery without the API (scale out beside `callbot serve --role api`)."""
    from callbot.config import Settings

    if exit_with_parent:
        _exit_with_parent()
    settings = Settings()
    setup_logging(settings)
    asyncio.run(run_worker(settings))
