"""Two RTP streams on loopback pointed at each other (G.711 both ways), one for the robot and one for
the customer, on one media clock: a phone line with nothing simulated in between."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import numpy as np

from callbot.media.clock import MediaClock
from callbot.media.stream import RtpStream


@dataclass
class Line:
    robot: RtpStream
    customer: RtpStream
    clock: MediaClock
    heard_by_customer: list[tuple[float, float]] = field(default_factory=list)  # (loop time, dBFS)


@asynccontextmanager
async def rtp_pair(codec: str = "PCMU", *, record: bool = True) -> AsyncIterator[Line]:
    """`record`: the customer side keeps (arrival loop time, loudness) of each robot frame it hears."""
    clock = MediaClock()
    payload_type = 0 if codec == "PCMU" else 8
    robot = await RtpStream.open(clock, "127.0.0.1", 0, codec=codec, payload_type=payload_type)
    customer = await RtpStream.open(clock, "127.0.0.1", 0, codec=codec, payload_type=payload_type)
    robot.set_media(customer.local_address, codec, payload_type, 101)
    customer.set_media(robot.local_address, codec, payload_type, 101)
    for stream in (robot, customer):
        stream.answered = True
        stream.start_sending()
    line = Line(robot, customer, clock)
    loop = asyncio.get_running_loop()
    opened = loop.time() - customer.elapsed_s

    async def listen() -> None:
        async for frame in customer.frames():
            samples = frame.pcm.astype(np.float64)
            power = float(np.mean(samples**2)) / 32768.0**2
            line.heard_by_customer.append((opened + frame.at, 10 * np.log10(max(power, 1e-12))))

    task = asyncio.ensure_future(listen()) if record else None
    try:
        yield line
    finally:
        robot.close()
        customer.close()
        if task is not None:
            task.cancel()
        await clock.close()
