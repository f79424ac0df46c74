"""Inbound calls at run time: the SIP gateway hands each new INVITE here; the line's script answers it
through the product's one call loop (`callflow.session.CallSession`) and the call is written as a record.

    INVITE ──► find the line (404) ──► take a seat (486) ──► 180, 200 ──► CallSession ──► record

The listening socket is bound once a line takes inbound calls (checked every `check_every_s`), so a
process whose lines only dial out binds nothing. Leases of calls in progress are renewed like the
dialer's, so another worker never closes a live inbound call as interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass

from callbot.callflow.outcome import CallOutcome, answered, unanswered
from callbot.callflow.session import CallSession
from callbot.campaign import service as campaign
from callbot.campaign.service import FinishedAttempt, Lease
from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import build_recognizer
from callbot.dialogue.script import Script as ScriptDocument
from callbot.inbound import service
from callbot.kit.db import Store, Tx
from callbot.models import Tenant
from callbot.models.enums import CallResult
from callbot.script import service as script_service
from callbot.telephony.sip.gateway import IncomingCall, SipGateway

__all__ = ["InboundCalls", "InboundOptions"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundOptions:
    lease_seconds: float = 120.0
    transfer_to: str = ""
    check_every_s: float = 30.0  # how often to look for lines that take inbound calls (before listening)
    write_tries: int = 5


@dataclass
class _Script:
    document: ScriptDocument
    engine: DialogueEngine
    script_id: int
    version: int


class InboundCalls:
    def __init__(self, store: Store, gateway: SipGateway, options: InboundOptions | None = None) -> None:
        self.store = store
        self.gateway = gateway
        self.options = options or InboundOptions()
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:in-{uuid.uuid4().hex[:6]}"
        self._scripts: dict[tuple[int, int], _Script] = {}
        self._held: dict[int, str] = {}  # customer id -> lease token of the calls in progress
        self.answered = 0
        self.refused = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Take inbound calls until `stop` is set."""
        self.gateway.on_incoming(self.handle)
        try:
            listening = False
            while not stop.is_set():
                try:
                    if not listening and await self._any_inbound_line():
                        await self.gateway.start()
                        listening = True
                        log.info("sip: taking inbound calls on %s:%s", *self.gateway.local_address)
                    await self.renew()
                except Exception:  # the store or the socket hiccuped: try again next round
                    log.exception("inbound calls: a round failed; trying again")
                wait = min(self.options.check_every_s, self.options.lease_seconds / 3)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
        finally:
            self.gateway.on_incoming(None)

    async def _any_inbound_line(self) -> bool:
        async with self.store.transaction() as tx:
            return await service.any_inbound_line(tx)

    async def renew(self) -> None:
        if not self._held:
            return
        async with self.store.transaction() as tx:
            await campaign.renew_leases(tx, dict(self._held), self.options.lease_seconds)

    # --- one call -------------------------------------------------------------------------------------

    async def handle(self, incoming: IncomingCall) -> None:
        """Decide about one inbound call and, when answered, hold it to its end and write its record."""
        async with self.store.transaction() as tx:
            line = await service.find_line(tx, incoming.callee)
            if line is None:
                self.refused += 1
                log.info("sip %s: no line takes calls for %s: 404", incoming.sip_call_id, incoming.callee)
                incoming.reject(404)
                return
            tenant = await service.tenant_of(tx, line)
            script = await self._script(tx, tenant, service.inbound_script_id(line)) if tenant else None
            lease = None
            if script is not None:
                lease = await service.begin_call(
                    tx, line, incoming.caller, owner=self.owner, lease_seconds=self.options.lease_seconds
                )
            line_settings = dict(line.settings)
        if script is None:
            incoming.reject(480, "Script Not Runnable")
            return
        if lease is None:
            self.refused += 1
            log.info("sip %s: no free seat for line %s: 486", incoming.sip_call_id, incoming.callee)
            incoming.reject(486)
            return
        self._held[lease.customer_id] = lease.token
        try:
            outcome = await self._talk(incoming, lease, script, line_settings)
            await self._write(FinishedAttempt(lease, outcome, script.script_id, script.version))
        finally:
            self._held.pop(lease.customer_id, None)

    async def _talk(
        self, incoming: IncomingCall, lease: Lease, script: _Script, line_settings: dict[str, object]
    ) -> CallOutcome:
        loop = asyncio.get_running_loop()
        started = loop.time()
        incoming.ring()
        call_id = f"in-{lease.task_id}-{lease.customer_id}"
        try:
            state = script.engine.new_state({"phone": lease.phone, "name": ""})
        except Exception as exc:  # the script needs variables an inbound caller cannot have
            incoming.reject(500)
            return unanswered(CallResult.SYSTEM_ERROR.value, 0.0, f"the inbound script cannot start: {exc}"[:200])
        leg = await incoming.answer(call_id, line_settings)
        ring = round(loop.time() - started, 3)
        if leg is None:
            return unanswered(CallResult.NO_ANSWER.value, ring, "the caller hung up before the answer")
        self.answered += 1
        end = await CallSession(leg, script.engine, state, transfer_to=self.options.transfer_to).run()
        recordings = await leg.save_recording()
        return answered(
            script.document,
            end.state,
            ring_seconds=ring,
            talk_seconds=leg.elapsed_s,
            cut=end.cut,
            failed=end.failed,
            ended_by_customer=leg.ended_by == "customer",
            transferred_to=end.transferred_to,
            recordings=recordings,
            transfer_status=leg.transfer_status,
        )

    async def _write(self, attempt: FinishedAttempt) -> None:
        for tries in range(self.options.write_tries):
            try:
                async with self.store.transaction() as tx:
                    record_id = await service.finish_call(tx, attempt)
                if record_id is None:
                    log.warning("inbound call from %s: the lease was lost; not written", attempt.lease.phone)
                return
            except Exception:
                log.exception("writing the inbound call from %s failed (try %d)", attempt.lease.phone, tries + 1)
                await asyncio.sleep(min(30.0, 2.0**tries))

    async def _script(self, tx: Tx, tenant: Tenant, script_id: int | None) -> _Script | None:
        if script_id is None:
            return None
        try:
            row = await script_service.get_script(tx, tenant, script_id)
            version, document = await script_service.approved_document(tx, row)
        except Exception:
            log.exception("inbound script %s cannot run", script_id)
            return None
        key = (row.id, version)
        found = self._scripts.get(key)
        if found is None:
            engine = DialogueEngine(document, build_recognizer(document.intents, document.industry))
            found = self._scripts[key] = _Script(document, engine, row.id, version)
        return found
