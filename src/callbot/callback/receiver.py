"""A small local callback receiver, for trying callbacks out and for tests and benchmarks: it answers
every POST with a fixed status and body and counts what it received by idempotency id.

    callbot callback listen --port 9000 [--body success]
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

ID_HEADERS = ("x-callbot-event-id",)


@dataclass
class Received:
    """What arrived: bodies in order and a count per idempotency id."""

    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    by_id: Counter[str] = field(default_factory=Counter)

    def json(self) -> list[Any]:
        return [json.loads(b) for b in self.bodies]


class CallbackReceiver:
    """HTTP/1.1 with keep-alive over asyncio streams: enough for callbacks, with no framework."""

    def __init__(self, *, status: int = 200, body: bytes = b"success", keep_bodies: bool = True) -> None:
        self.status = status
        self.body = body
        self.keep_bodies = keep_bodies
        self.received = Received()
        self.count = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.count += 1
                event_id = next((headers[h] for h in ID_HEADERS if h in headers), "")
                if not event_id:
                    event_id = _id_from_body(body)
                self.received.by_id[event_id] += 1
                if self.keep_bodies:
                    self.received.bodies.append(body)
                    self.received.headers.append(headers)
                reason = "OK" if self.status < 400 else "Error"
                writer.write(
                    f"HTTP/1.1 {self.status} {reason}\r\nContent-Type: text/plain\r\n"
                    f"Content-Length: {len(self.body)}\r\n\r\n".encode()
                    + self.body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


def _id_from_body(body: bytes) -> str:
    """Receivers without our header de-duplicate by the ids in the payload (callRecordId, sn...)."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    inner = data.get("data", data) if isinstance(data, dict) else {}
    for key in ("callRecordId", "robotCallJobId", "sn", "dial_task_main_sn", "id"):
        if isinstance(inner, dict) and key in inner:
            return f"{key}:{inner[key]}"
    return ""
