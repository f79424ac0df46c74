"""SIP benchmark on loopback against SIPp (Debian's sip-tester).

(a) Held calls: `--calls` answered calls at once, G.711 both ways (callbot sends 20 ms frames on its
    one media clock, SIPp echoes them back), for `--hold` seconds; reports the p99 lateness of the
    clock's ticks (RTP send pacing) and the CPU callbot used, in % of one core (its event loop is one
    thread, so it never uses more than one core). SIPp runs pinned to the second core when there is one.
(b) Set-ups: `--setups` calls answered and hung up at once (INVITE/180/200/ACK/BYE), `--concurrency`
    at a time, callbot → SIPp UAS, then a SIPp UAC → the same kind of UAS in the same run; their ratio.

    .venv/bin/python bench/sip.py [--calls 500] [--hold 10] [--setups 1000] [--concurrency 50] [--nice -10] [--record]

`--record` records every held call (both directions tapped every tick, as a server with a recordings
folder does), to see what recording costs.

On a shared machine the pacing figure measures the scheduler as much as callbot: a media process
that waits for a core behind others misses its deadlines whatever its own CPU use; `--nice` runs it
at a higher priority, as a media worker should run beside ASR/TTS.

Last line: calls=N p99_lateness_ms=X cpu_pct=Y setups_per_s=A sipp_setups_per_s=B ratio=R
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from callbot.telephony.gateway import DialOutcome, DialRequest, DialStatus
from callbot.telephony.sip.gateway import SipGateway, SipLeg

ROOT = Path(__file__).resolve().parent.parent
ANSWER = ROOT / "tests" / "telephony" / "sip" / "scenarios" / "uas_answer.xml"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pin(cpu: int) -> list[str]:
    """A taskset prefix that pins SIPp to `cpu`, when there is more than one CPU."""
    return ["taskset", "-c", str(cpu)] if (os.cpu_count() or 1) > 1 and shutil.which("taskset") else []


def sipp_uas(port: int, media_port: int, calls: int, workdir: Path, *, scenario: list[str]) -> subprocess.Popen[bytes]:
    args = [*pin(1), "sipp", *scenario, "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1"]
    args += ["-mp", str(media_port), "-m", str(calls), "-nostdin", "-timeout", "300s", "-max_socket", "65000"]
    process = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return process


def request(port: int, n: int, ring_timeout_s: float = 10.0) -> DialRequest:
    return DialRequest(
        call_id=f"bench-{n}",
        caller="02150001234",
        callee=f"138{n:08d}",
        line_settings={"sip": {"host": "127.0.0.1", "port": port}},
        ring_timeout_s=ring_timeout_s,
    )


async def held_calls(calls: int, hold: float, workdir: Path, record: bool = False) -> tuple[int, float, float]:
    port, media = free_port(), free_port() & ~1
    sipp = sipp_uas(port, media, calls, workdir, scenario=["-sf", str(ANSWER), "-rtp_echo"])
    recordings = workdir / "recordings" if record else None  # every call taps both directions, as in production
    gateway = SipGateway(sip_port=0, inactivity_timeout_s=3600, recordings_dir=recordings)
    try:
        gate = asyncio.Semaphore(50)

        async def one(n: int) -> DialOutcome:
            async with gate:
                return await gateway.dial(request(port, n))

        outcomes = await asyncio.gather(*(one(n) for n in range(calls)))
        legs = [o.leg for o in outcomes if isinstance(o.leg, SipLeg)]
        failed = [o for o in outcomes if o.status is not DialStatus.ANSWERED]
        if failed:
            example = f"{failed[0].status} {failed[0].reason}"
            print(f"held: {len(failed)} calls not answered, e.g. {example}", file=sys.stderr)
        await asyncio.sleep(1.0)  # settle: the set-up burst is not what this part measures
        gateway.clock.lateness.clear()
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(hold)
        cpu1, wall1 = time.process_time(), time.monotonic()
        lateness = np.array(gateway.clock.lateness) * 1000
        received = sum(leg.audio.stats.received for leg in legs)
        sent = sum(leg.audio.stats.sent for leg in legs)
        skipped = gateway.clock.skipped_ticks
        print(
            f"held: {len(legs)} calls, sent {sent} frames, {received} came back; {skipped} ticks skipped",
            file=sys.stderr,
        )
        for leg in legs:
            await leg.hangup()
        await asyncio.to_thread(sipp.wait, 60)
        p99 = float(np.percentile(lateness, 99)) if len(lateness) else float("nan")
        return len(legs), p99, 100 * (cpu1 - cpu0) / (wall1 - wall0)
    finally:
        await gateway.close()
        if sipp.poll() is None:
            sipp.kill()


async def callbot_setups(setups: int, concurrency: int, workdir: Path) -> float:
    port, media = free_port(), free_port() & ~1
    sipp = sipp_uas(port, media, setups, workdir, scenario=["-sn", "uas"])
    gateway = SipGateway(sip_port=0)
    try:
        gate = asyncio.Semaphore(concurrency)
        answered = 0

        async def one(n: int) -> None:
            nonlocal answered
            async with gate:
                outcome = await gateway.dial(request(port, n))
                if outcome.leg is not None:
                    answered += 1
                    await outcome.leg.hangup()

        started = time.monotonic()
        await asyncio.gather(*(one(n) for n in range(setups)))
        elapsed = time.monotonic() - started
        if answered != setups:
            print(f"setups: only {answered} of {setups} answered", file=sys.stderr)
        await asyncio.to_thread(sipp.wait, 60)
        return answered / elapsed
    finally:
        await gateway.close()
        if sipp.poll() is None:
            sipp.kill()


def sipp_setups(setups: int, concurrency: int, workdir: Path) -> float:
    port, media = free_port(), free_port() & ~1
    uas = sipp_uas(port, media, setups, workdir, scenario=["-sn", "uas"])
    try:
        args = [*pin(0), "sipp", "-sn", "uac", f"127.0.0.1:{port}", "-i", "127.0.0.1", "-p", str(free_port())]
        args += ["-m", str(setups), "-l", str(concurrency), "-r", "10000", "-d", "0", "-nostdin", "-timeout", "120s"]
        started = time.monotonic()
        code = subprocess.run(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        elapsed = time.monotonic() - started
        if code != 0:
            print(f"sipp uac exited {code}", file=sys.stderr)
        return setups / elapsed
    finally:
        uas.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--hold", type=float, default=10.0)
    parser.add_argument("--setups", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--record", action="store_true", help="record the held calls (recordings_dir set)")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling niceness of callbot (negative needs root): media before the rest",
    )
    args = parser.parse_args()
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    if shutil.which("sipp") is None:
        sys.exit("sipp not found: scripts/setup.sh test installs Debian's sip-tester")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        calls, p99, cpu = asyncio.run(held_calls(args.calls, args.hold, workdir, args.record))
        ours = asyncio.run(callbot_setups(args.setups, args.concurrency, workdir))
        theirs = sipp_setups(args.setups, args.concurrency, workdir)
    print(
        f"calls={calls} p99_lateness_ms={p99:.1f} cpu_pct={cpu:.0f} "
        f"setups_per_s={ours:.0f} sipp_setups_per_s={theirs:.0f} ratio={ours / theirs:.2f}"
    )


if __name__ == "__main__":
    main()
