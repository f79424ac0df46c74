"""The dialogue engine (对话引擎): a pure state machine, event in, actions out.

`DialogueEngine.step(state, event)` returns the next state and the actions for the call session
(say, hang up, transfer). The engine reads no clock, does no I/O and draws no random numbers, and
its state is a small JSON-able value, so a call can be replayed in a test or resumed in another
process. Recognition is delegated to any object with `recognize(text, context)` (the NLU package).

The rules are those of `docs/script-format.md`; what the spec leaves open is decided here:
- a customer turn is resolved in the order: node `branches`, `global`, `faq`, the built-in
  `repeat` intent (没听清: say the prompt again, not counted as a miss), node `default`, then a
  miss: the first miss repeats the node, the second ends the call politely (`settings.goodbye`);
- a silence takes the node's `silence` branch or repeats the prompt; `max_silences` consecutive
  silences end the call through `on_max_silence` (node, then settings) or a plain hang-up;
- one robot turn (round) is one response to one customer event, even when an FAQ answer and the
  repeated question are two prompts; when `max_rounds` turns were spoken, a turn that would keep the
  call going is replaced by the polite goodbye (end `max_rounds`); turns that end the call still run;
- a variant list rotates per node (and per FAQ entry) across every time it is said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, TypeAlias

from callbot.dialogue.script_model import FaqEntry, Node, Script
from callbot.errors import ValidationFailed

__all__ = [
    "Action",
    "AnsweredEvent",
    "BargeInEvent",
    "DialogueEngine",
    "DialogueState",
    "DtmfEvent",
    "EndReason",
    "Event",
    "HangUpAction",
    "HangupEvent",
    "MissingVariables",
    "Recognizer",
    "SayAction",
    "SilenceEvent",
    "SpeechEvent",
    "TransferAction",
    "Turn",
    "render",
]

EndReason: TypeAlias = Literal["hangup", "transfer", "customer_hangup", "silence", "max_rounds"]
END_REASONS: tuple[str, ...] = ("hangup", "transfer", "customer_hangup", "silence", "max_rounds")


class RecognitionResult(Protocol):
    @property
    def intent(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def evidence(self) -> str: ...


class Recognizer(Protocol):
    """What the engine needs from NLU: one intent id for a reply, given the robot's last prompt."""

    def recognize(self, text: str, context: str | None = None) -> RecognitionResult: ...


class MissingVariables(ValidationFailed):
    """The customer lacks variables the script's prompts use."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(
            "missing variable" + ("s " if len(names) > 1 else " ") + ", ".join(names),
            problems=[(f"variables.{n}", "no value for a variable the script uses") for n in names],
        )
        self.names = names


# --------------------------------------------------------------------------- events and actions


@dataclass(frozen=True, slots=True)
class AnsweredEvent:
    """The customer picked up: the robot says the start node."""

    offset_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SpeechEvent:
    """The customer said `text` after the prompt (ASR result). Empty text counts as a silence."""

    text: str
    offset_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SilenceEvent:
    """No speech within `silence_timeout_ms` after the robot stopped talking."""

    offset_ms: int | None = None


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """The customer pressed a keypad key (0-9, *, #)."""

    digit: str
    offset_ms: int | None = None


@dataclass(frozen=True, slots=True)
class BargeInEvent:
    """The customer spoke over the prompt (插话). With `text` (what was said) it is also a reply.

    On an interruptible prompt the turn is marked interrupted and `text` is handled as a reply; on a
    non-interruptible one the event is ignored (the session keeps playing the prompt).
    """

    text: str = ""
    offset_ms: int | None = None


@dataclass(frozen=True, slots=True)
class HangupEvent:
    """The customer hung up."""

    offset_ms: int | None = None


Event: TypeAlias = AnsweredEvent | SpeechEvent | SilenceEvent | DtmfEvent | BargeInEvent | HangupEvent


@dataclass(frozen=True, slots=True)
class SayAction:
    """Play `text` (or the recording `audio`, whose transcript `text` is); `node` is where it belongs."""

    text: str
    node: str
    audio: str | None = None
    interruptible: bool = True


@dataclass(frozen=True, slots=True)
class HangUpAction:
    """End the call (after the prompts before it have been played)."""


@dataclass(frozen=True, slots=True)
class TransferAction:
    """Hand the call to `target` (None: the task's default transfer target)."""

    target: str | None


Action: TypeAlias = SayAction | HangUpAction | TransferAction


# --------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Turn:
    """One line of the transcript. `kind`: prompt, faq, repeat, goodbye, speech, silence, dtmf."""

    speaker: Literal["ROBOT", "PERSON"]
    text: str
    node: str | None
    kind: str
    intent: str | None = None
    confidence: float | None = None
    evidence: str | None = None
    offset_ms: int | None = None
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "text": self.text,
            "node": self.node,
            "kind": self.kind,
            "intent": self.intent,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "offset_ms": self.offset_ms,
            "interrupted": self.interrupted,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Turn:
        return cls(**{k: data.get(k, v) for k, v in _TURN_DEFAULTS.items()})


_TURN_DEFAULTS: dict[str, Any] = {
    "speaker": "ROBOT", "text": "", "node": None, "kind": "prompt", "intent": None, "confidence": None,
    "evidence": None, "offset_ms": None, "interrupted": False,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DialogueState:
    """Everything a call's dialogue needs to continue, and the facts used to grade it.

    `status`: ready (not answered yet), listening (waiting for the customer), ended.
    `intents` counts each recognised intent (in the order first seen); `said` counts how often each
    node / FAQ entry was spoken, for variant rotation.
    """

    variables: Mapping[str, str]
    status: Literal["ready", "listening", "ended"] = "ready"
    node: str | None = None
    misses: int = 0
    silences: int = 0
    rounds: int = 0
    said: Mapping[str, int] = field(default_factory=dict)
    visited: tuple[str, ...] = ()
    intents: Mapping[str, int] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    transcript: tuple[Turn, ...] = ()
    end: EndReason | None = None
    last_prompt: str | None = None

    @property
    def ended(self) -> bool:
        return self.status == "ended"

    def to_dict(self) -> dict[str, Any]:
        return {
            "variables": dict(self.variables),
            "status": self.status,
            "node": self.node,
            "misses": self.misses,
            "silences": self.silences,
            "rounds": self.rounds,
            "said": dict(self.said),
            "visited": list(self.visited),
            "intents": dict(self.intents),
            "tags": list(self.tags),
            "transcript": [t.to_dict() for t in self.transcript],
            "end": self.end,
            "last_prompt": self.last_prompt,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DialogueState:
        return cls(
            variables=dict(data.get("variables", {})),
            status=data.get("status", "ready"),
            node=data.get("node"),
            misses=int(data.get("misses", 0)),
            silences=int(data.get("silences", 0)),
            rounds=int(data.get("rounds", 0)),
            said=dict(data.get("said", {})),
            visited=tuple(data.get("visited", ())),
            intents=dict(data.get("intents", {})),
            tags=tuple(data.get("tags", ())),
            transcript=tuple(Turn.from_dict(t) for t in data.get("transcript", ())),
            end=data.get("end"),
            last_prompt=data.get("last_prompt"),
        )


def render(text: str, variables: Mapping[str, str]) -> str:
    """Fill `{var}` placeholders. The script was validated, so every placeholder is a plain name."""
    if "{" not in text:
        return text
    out: list[str] = []
    pos = 0
    while (open_at := text.find("{", pos)) != -1:
        close_at = text.find("}", open_at)
        out.append(text[pos:open_at])
        out.append(variables[text[open_at + 1 : close_at]])
        pos = close_at + 1
    out.append(text[pos:])
    return "".join(out)


# --------------------------------------------------------------------------- the engine


@dataclass(frozen=True, slots=True)
class _Goto:
    node: str
    faq: FaqEntry | None = None
    end: EndReason | None = None  # overrides the reason a hang-up node gives (silence ends)


@dataclass(frozen=True, slots=True)
class _Repeat:
    kind: str  # miss, silence, repeat, faq
    faq: FaqEntry | None = None


@dataclass(frozen=True, slots=True)
class _End:
    reason: EndReason
    goodbye: bool


_Decision: TypeAlias = _Goto | _Repeat | _End


class _Work:
    """The mutable copy of a state during one step; frozen again at the end."""

    def __init__(self, state: DialogueState) -> None:
        self.variables = state.variables
        self.status = state.status
        self.node = state.node
        self.misses = state.misses
        self.silences = state.silences
        self.rounds = state.rounds
        self.said = dict(state.said)
        self.visited = list(state.visited)
        self.intents = dict(state.intents)
        self.tags = list(state.tags)
        self.transcript = list(state.transcript)
        self.end: EndReason | None = state.end
        self.last_prompt = state.last_prompt
        self.actions: list[Action] = []

    def freeze(self) -> DialogueState:
        return DialogueState(
            variables=self.variables,
            status=self.status,
            node=self.node,
            misses=self.misses,
            silences=self.silences,
            rounds=self.rounds,
            said=self.said,
            visited=tuple(self.visited),
            intents=self.intents,
            tags=tuple(self.tags),
            transcript=tuple(self.transcript),
            end=self.end,
            last_prompt=self.last_prompt,
        )


class DialogueEngine:
    """Runs one script. Holds only immutable things (script, recognizer), so one engine serves all calls."""

    def __init__(self, script: Script, recognizer: Recognizer) -> None:
        self.script = script
        self.recognizer = recognizer

    def new_state(self, variables: Mapping[str, object]) -> DialogueState:
        """The state of a call not yet answered. Raises `MissingVariables` naming what the prompts lack."""
        missing = self.script.missing_variables(variables)
        if missing:
            raise MissingVariables(missing)
        needed = self.script.required_variables
        return DialogueState(variables={k: str(v) for k, v in variables.items() if k in needed})

    def step(self, state: DialogueState, event: Event) -> tuple[DialogueState, tuple[Action, ...]]:
        """Apply one event; returns the new state and the actions to perform, in order."""
        if state.status == "ended":
            return state, ()
        if state.status == "ready" and not isinstance(event, AnsweredEvent | HangupEvent):
            return state, ()  # nothing can be heard before the call is answered
        work = _Work(state)
        decision: _Decision | None
        if isinstance(event, AnsweredEvent):
            if state.status != "ready":
                return state, ()
            decision = _Goto(self.script.start)
        elif isinstance(event, HangupEvent):
            work.status = "ended"
            work.end = "customer_hangup"
            decision = None
        elif isinstance(event, SilenceEvent):
            decision = self._silence(work, event.offset_ms)
        elif isinstance(event, SpeechEvent):
            decision = self._speech(work, event.text, event.offset_ms)
        elif isinstance(event, DtmfEvent):
            decision = self._dtmf(work, event.digit, event.offset_ms)
        else:
            if not self._interruptible(work):
                return state, ()
            for index in range(len(work.transcript) - 1, -1, -1):
                turn = work.transcript[index]
                if turn.speaker == "ROBOT":
                    work.transcript[index] = replace(turn, interrupted=True)
                    break
            decision = self._speech(work, event.text, event.offset_ms) if event.text.strip() else None
        if decision is not None:
            self._execute(work, decision, event.offset_ms)
        return work.freeze(), tuple(work.actions)

    # ---- customer events -> decisions

    def _current(self, work: _Work) -> Node:
        assert work.node is not None
        return self.script.nodes[work.node]

    def _interruptible(self, work: _Work) -> bool:
        node = self._current(work)
        return node.interruptible if node.interruptible is not None else self.script.settings.interruptible

    def _silence(self, work: _Work, offset_ms: int | None) -> _Decision:
        node = self._current(work)
        work.silences += 1
        work.transcript.append(Turn("PERSON", "", node.id, "silence", offset_ms=offset_ms))
        if work.silences >= self.script.settings.max_silences:
            target = node.on_max_silence or self.script.settings.on_max_silence
            if target is None:
                return _End("silence", goodbye=False)
            return _Goto(target, end="silence")
        if "silence" in node.branches:
            return _Goto(node.branches["silence"])
        return _Repeat("silence")

    def _speech(self, work: _Work, text: str, offset_ms: int | None) -> _Decision:
        if not text.strip():
            return self._silence(work, offset_ms)
        node = self._current(work)
        result = self.recognizer.recognize(text, work.last_prompt)
        intent = result.intent
        work.silences = 0
        work.intents[intent] = work.intents.get(intent, 0) + 1
        work.transcript.append(
            Turn("PERSON", text, node.id, "speech", intent, result.confidence, result.evidence, offset_ms)
        )
        script = self.script
        if intent in node.branches:
            return _Goto(node.branches[intent])
        if intent in script.global_:
            return _Goto(script.global_[intent])
        entry = script.faq_for(intent)
        if entry is not None:
            return _Goto(entry.then, faq=entry) if entry.then else _Repeat("faq", faq=entry)
        if intent == "repeat":
            return _Repeat("repeat")
        return self._miss(work, node)

    def _dtmf(self, work: _Work, digit: str, offset_ms: int | None) -> _Decision:
        node = self._current(work)
        work.silences = 0
        work.transcript.append(Turn("PERSON", f"[按键 {digit}]", node.id, "dtmf", offset_ms=offset_ms))
        if digit in node.dtmf:
            return _Goto(node.dtmf[digit])
        return self._miss(work, node)

    def _miss(self, work: _Work, node: Node) -> _Decision:
        if "default" in node.branches:
            return _Goto(node.branches["default"])
        work.misses += 1
        if work.misses >= 2:
            return _End("hangup", goodbye=True)
        return _Repeat("miss")

    # ---- decisions -> actions

    def _execute(self, work: _Work, decision: _Decision, offset_ms: int | None) -> None:
        script = self.script
        keeps_listening = isinstance(decision, _Repeat) or (
            isinstance(decision, _Goto) and script.nodes[decision.node].listens
        )
        if keeps_listening and work.rounds >= script.settings.max_rounds:
            decision = _End("max_rounds", goodbye=True)
        if isinstance(decision, _End):
            if decision.goodbye:
                work.rounds += 1
                self._say(work, script.settings.goodbye, None, "goodbye", offset_ms, None)
            work.actions.append(HangUpAction())
            work.status = "ended"
            work.end = decision.reason
            return
        work.rounds += 1
        if decision.faq is not None:
            entry = decision.faq
            work.tags.extend(t for t in entry.tags if t not in work.tags)
            self._say(
                work,
                self._variant(work, f"faq:{entry.index}", entry.say),
                entry.audio,
                "faq",
                offset_ms,
                None,
            )
        if isinstance(decision, _Repeat):
            node = self._current(work)
            self._say(work, self._variant(work, node.id, node.say), node.audio, "repeat", offset_ms, node)
            return
        node = script.nodes[decision.node]
        work.node = node.id
        work.misses = 0
        work.visited.append(node.id)
        work.tags.extend(t for t in node.tags if t not in work.tags)
        self._say(work, self._variant(work, node.id, node.say), node.audio, "prompt", offset_ms, node)
        if node.end is None:
            work.status = "listening"
            return
        work.status = "ended"
        if node.end == "transfer":
            work.actions.append(TransferAction(node.transfer_to))
            work.end = "transfer"
        else:
            work.actions.append(HangUpAction())
            work.end = decision.end or "hangup"

    def _variant(self, work: _Work, key: str, variants: tuple[str, ...]) -> str:
        count = work.said.get(key, 0)
        work.said[key] = count + 1
        return variants[count % len(variants)]

    def _say(
        self,
        work: _Work,
        template: str,
        audio: str | None,
        kind: str,
        offset_ms: int | None,
        node: Node | None,
    ) -> None:
        text = render(template, work.variables)
        node_id = node.id if node is not None else (work.node or self.script.start)
        current = node or (self.script.nodes.get(work.node) if work.node else None)
        interruptible = self.script.settings.interruptible
        if current is not None and current.interruptible is not None:
            interruptible = current.interruptible
        work.actions.append(SayAction(text, node_id, audio, interruptible))
        work.transcript.append(Turn("ROBOT", text, node_id, kind, offset_ms=offset_ms))
        work.last_prompt = text
