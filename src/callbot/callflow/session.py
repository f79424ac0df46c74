"""One call at run time (通话会话): the pipeline that joins a gateway leg and the dialogue engine.

    leg in ──► listen ──► dialogue ──► say ──► leg out
   (Heard)     (Event)    engine.step  (Actions) (Prompt)

It is the only call loop: the dialer (through `place_call`), `callbot chat` and the tests all run it.
The transports are `CallLeg`s: the sim carrier's leg, the text chat's leg, a SIP leg. Speech sits
between a leg that carries audio and this pipeline: such a leg is wrapped by one that runs VAD and ASR
on what it hears and TTS on what it says (in worker threads or processes, off the event loop) and
offers the same text-level `CallLeg`, so this module does not change for it.

The dialogue step (script and NLU recognition) runs on the event loop: it is a fraction of a
millisecond of pure Python, which a thread could not run any faster under the GIL.

Pure orchestration: no store, no settings. An error inside a live call never unwinds it: the call is
hung up and the outcome says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from callbot.callflow.outcome import INTERRUPTED, CallOutcome, answered, interrupted, unanswered
from callbot.dialogue.engine import (
    Action,
    AnsweredEvent,
    BargeInEvent,
    DialogueEngine,
    DialogueState,
    DtmfEvent,
    Event,
    HangUpAction,
    HangupEvent,
    SayAction,
    SilenceEvent,
    SpeechEvent,
    TransferAction,
)
from callbot.dialogue.script import Script
from callbot.telephony.gateway import (
    CallLeg,
    DialRequest,
    DialStatus,
    Dtmf,
    Gateway,
    Hangup,
    Heard,
    Prompt,
    Speech,
)

__all__ = [
    "INTERRUPTED",
    "CallOutcome",
    "CallSession",
    "SessionEnd",
    "interrupted",
    "place_call",
    "saved_recording",
    "unanswered",
]

log = logging.getLogger(__name__)

StepObserver = Callable[[Event, tuple[Action, ...]], None]


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """How a call session ended: the dialogue's last state, the transfer target if the call was handed
    over, whether the platform cut it short (`cut`: lease lost or `stop()`), whether a fault ended it."""

    state: DialogueState
    transferred_to: str = ""
    cut: bool = False
    failed: bool = False


class CallSession:
    """One answered call, from the answer to the hang-up.

    `held` says whether this process may still act on the call (its lease on the attempt is alive): it is
    asked before every prompt and every listen, and once it says no the call ends before anything more is
    said. `stop()` ends the call the same way, from outside. `on_step` sees every event given to the
    engine with the actions it returned (a chat shows them; a console could follow a call live).

    Every task of the call runs in one task group, named after the call; the leg is always hung up.
    """

    def __init__(
        self,
        leg: CallLeg,
        engine: DialogueEngine,
        state: DialogueState,
        *,
        transfer_to: str = "",
        held: Callable[[], bool] = lambda: True,
        on_step: StepObserver | None = None,
        stop_timeout_s: float = 5.0,
    ) -> None:
        self.leg = leg
        self.engine = engine
        self.state = state
        self.transfer_to = transfer_to
        self.stop_timeout_s = stop_timeout_s
        self._held = held
        self._on_step = on_step
        self._silence_timeout_s = engine.script.settings.silence_timeout_ms / 1000
        self._transferred = ""
        self._cut = False
        self._failed = False
        self._stopping = False
        self._started = False
        self._talk: asyncio.Task[None] | None = None
        self._ended = asyncio.Event()

    @property
    def call_id(self) -> str:
        return self.leg.call_id

    async def run(self) -> SessionEnd:
        """Hold the conversation to its end and hang up. Runs once."""
        if self._started:
            raise RuntimeError(f"call session {self.call_id} runs only once")
        self._started = True
        try:
            if not self._stopping:
                async with asyncio.TaskGroup() as group:
                    self._talk = group.create_task(self._converse(), name=f"dialogue:{self.call_id}")
        finally:
            try:
                await self.leg.hangup()  # a leg's hang-up never hangs (the `CallLeg` contract)
            except Exception:  # a leg that breaks its promise must not keep the call or its caller
                log.exception("call %s: hang-up failed", self.call_id)
            self._ended.set()
        return SessionEnd(self.state, self._transferred, cut=self._cut or self._stopping, failed=self._failed)

    async def stop(self) -> None:
        """End the call: nothing more is said, the leg is hung up, the outcome is interrupted. The call
        gets `stop_timeout_s` to reach its next step; a prompt or listen still going then is cancelled.
        Idempotent, and never hangs: returns once the call has ended (at once if it never started)."""
        self._stopping = True
        if not self._started or self._ended.is_set():
            return
        try:
            async with asyncio.timeout(self.stop_timeout_s):
                await asyncio.shield(self._ended.wait())
            return
        except TimeoutError:
            if self._talk is not None:
                self._talk.cancel()
        await self._ended.wait()

    # --- the pipeline --------------------------------------------------------------------------------

    async def _converse(self) -> None:
        """Say, listen, step, until the engine ends the call; the last step's actions (goodbye, hang-up,
        transfer) are carried out before returning."""
        try:
            actions = self._step(AnsweredEvent(offset_ms=0))
            while True:
                event = await self._perform(actions)
                if self._cut:
                    return
                if self.state.ended or (self.leg.closed and event is None):
                    return
                if event is None:
                    if not self._goes_on():
                        return
                    event = self._hear(await self.leg.listen(self._silence_timeout_s))
                actions = self._step(event)
        except Exception:  # a fault must not unwind the call: hang up and grade what was said
            log.exception("call %s failed mid-conversation", self.call_id)
            self._failed = True

    def _goes_on(self) -> bool:
        """Whether the call may take its next step (a prompt, a listen); once not, it is cut."""
        if self._stopping or not self._held():
            self._cut = True
        return not self._cut

    def _step(self, event: Event) -> tuple[Action, ...]:
        self.state, actions = self.engine.step(self.state, event)
        if self._on_step is not None:
            self._on_step(event, actions)
        return actions

    async def _perform(self, actions: tuple[Action, ...]) -> Event | None:
        """Carry out the engine's actions; returns the event that cut them short (barge-in, hang-up)."""
        leg = self.leg
        for action in actions:
            if leg.closed:
                return HangupEvent(offset_ms=leg.offset_ms()) if leg.ended_by == "customer" else None
            if isinstance(action, SayAction):
                if not self._goes_on():
                    return None
                played = await leg.play(Prompt(action.text, action.audio, action.interruptible))
                if played.status == "hangup":
                    return HangupEvent(offset_ms=leg.offset_ms())
                if played.status == "interrupted":  # barge-in: the rest of this turn is dropped
                    return BargeInEvent(played.heard_text, offset_ms=leg.offset_ms())
            elif isinstance(action, TransferAction):
                target = action.target or self.transfer_to
                if target and await leg.transfer(target):
                    self._transferred = target
            elif isinstance(action, HangUpAction):
                await leg.hangup()
        return None

    def _hear(self, heard: Heard) -> Event:
        offset = self.leg.offset_ms()
        if isinstance(heard, Speech):
            # From real audio, the turn is dated when the customer started speaking (as a recording shows it).
            return SpeechEvent(heard.text, offset_ms=offset if heard.start_ms is None else heard.start_ms)
        if isinstance(heard, Dtmf):
            return DtmfEvent(heard.digit, offset_ms=offset)
        if isinstance(heard, Hangup):
            return HangupEvent(offset_ms=offset)
        return SilenceEvent(offset_ms=offset)


async def place_call(
    gateway: Gateway,
    request: DialRequest,
    engine: DialogueEngine,
    script: Script,
    variables: Mapping[str, object],
    *,
    transfer_to: str = "",
    held: Callable[[], bool] = lambda: True,
) -> CallOutcome:
    """Dial `request` on `gateway` and, when answered, run a `CallSession` to the end; grade the call.

    `held` (see `CallSession`) is also asked before dialling: a call no longer held is not even placed.
    Raises `MissingVariables` before dialling if the customer lacks a variable the script needs.
    """
    if not held():
        return interrupted()
    state = engine.new_state(variables)
    outcome = await gateway.dial(request)
    if outcome.leg is None:
        status = outcome.status.value if outcome.status is not DialStatus.ANSWERED else DialStatus.SYSTEM_ERROR.value
        return unanswered(status, outcome.ring_seconds, outcome.reason)
    leg = outcome.leg
    end = await CallSession(leg, engine, state, transfer_to=transfer_to, held=held).run()
    recordings = await saved_recording(leg)
    return answered(
        script,
        end.state,
        ring_seconds=outcome.ring_seconds,
        talk_seconds=leg.elapsed_s,
        cut=end.cut,
        failed=end.failed,
        ended_by_customer=leg.ended_by == "customer",
        transferred_to=end.transferred_to,
        recordings=recordings,
        transfer_status=str(getattr(leg, "transfer_status", "")),  # legs that can transfer say how it went
    )


async def saved_recording(leg: CallLeg) -> tuple[str, str]:
    """The recording files of an ended call (mixed, customer-only), when its leg records audio (a SIP
    leg's `save_recording`); ("", "") for legs that carry no audio (the sim, a text chat)."""
    save = getattr(leg, "save_recording", None)
    if save is None:
        return ("", "")
    try:
        paths = await save()
    except Exception:  # the record of the call matters more than its recording
        log.exception("call %s: saving the recording failed", leg.call_id)
        return ("", "")
    return (str(paths[0]), str(paths[1]))
