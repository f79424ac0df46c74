"""SIPp (Debian's sip-tester) as the far end of a test call: one scenario, on loopback, for one call."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"
SIPP = shutil.which("sipp")
needs_sipp = pytest.mark.skipif(
    SIPP is None, reason="SIPp (sip-tester) is not installed; scripts/setup.sh test installs it"
)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Sipp:
    """A SIPp UAS on 127.0.0.1 running `scenario` (a file under scenarios/ or a built-in name); `fill` replaces
    `[name]` in the scenario's text before SIPp reads it, `keys` are SIPp's own -key substitutions."""

    def __init__(
        self,
        scenario: str,
        tmp: Path,
        *,
        calls: int = 1,
        keys: dict[str, str] | None = None,
        fill: dict[str, str] | None = None,
        echo: bool = False,
        extra: list[str] | None = None,
    ) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_udp_port()
        self.media_port = free_udp_port() & ~1
        args = [SIPP or "sipp"]
        if scenario.endswith(".xml"):
            path = SCENARIOS / scenario
            if fill:  # SIPp checks a response code when it loads the scenario, so a code cannot be a -key
                text = path.read_text()
                for name, value in fill.items():
                    text = text.replace(f"[{name}]", value)
                path = tmp / scenario
                path.write_text(text)
            args += ["-sf", str(path)]
        else:
            args += ["-sn", scenario]
        args += ["-i", "127.0.0.1", "-p", str(self.port), "-mi", "127.0.0.1", "-mp", str(self.media_port)]
        args += ["-m", str(calls), "-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err"]
        args += ["-error_file", str(tmp / "sipp_errors.log")]
        for key, value in (keys or {}).items():
            args += ["-key", key, value]
        if echo:
            args.append("-rtp_echo")
        args += extra or []
        self.tmp = tmp
        self.process = subprocess.Popen(
            args, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        time.sleep(0.2)  # SIPp binds its socket before it reads the scenario's first message

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def line_settings(self, **sip: object) -> dict[str, object]:
        return {"sip": {"host": "127.0.0.1", "port": self.port, **sip}}

    def wait(self, timeout: float = 15.0) -> int:
        """SIPp's exit code once its calls are done: 0 when every call followed the scenario."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def errors(self) -> str:
        log = self.tmp / "sipp_errors.log"
        stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
        return (log.read_text(errors="replace") if log.exists() else "") + stderr

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
