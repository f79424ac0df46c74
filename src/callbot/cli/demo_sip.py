"""`callbot demo --sip`: a whole campaign over real SIP and RTP on this machine, against our own SIP
customer (`callbot.telephony.sip.customer`), with recordings a user can play.

It provisions the demo tenant (as `callbot demo` does), adds a SIP line whose trunk is the customers'
phones on loopback and a task of a dozen customers whose `sim_result` covers the dial results, runs the
dialer until the task is done, and prints each call with its recording. The robot speaks with espeak-ng
when it is installed (else its prompts are silence of their length); the customers answer with tones and
key presses.
"""

from __future__ import annotations

import logging
from typing import Any

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


def _synthesize() -> Any:
    try:
        from callbot.speech.espeak import EspeakTts

        return EspeakTts().synthesize
    except Exception:  # espeak-ng is not installed: the robot's prompts are silence
        return None


async def run_sip_demo(settings: Settings) -> list[dict[str, Any]]:
    """Run the SIP demo campaign to its end; the calls it made, with their recordings."""
    from callbot.cli.demo import SCRIPT, TENANT, provision

    store = await open_store(settings)
    directory = {phone: _properties(result, replies) for phone, _, result, replies in SIP_CUSTOMERS}
    phone = SipCustomerPhone(directory.get, ring_scale=0.2)
    await phone.start()
    folder = settings.resolved_recordings_dir()
    gateway = SipGateway(sip_port=0, recordings_dir=folder, synthesize=_synthesize())
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
            script = await script_service.add_script(tx, tenant, SCRIPT.read_text(encoding="utf-8"), source=SCRIPT.name)
            task = await task_service.create_task(
                tx,
                tenant,
                TaskCreate(
                    name="演示任务：SIP 外呼",
                    mode=TaskMode.MANUAL,
                    script_id=script.script.id,
                    line_ids=[line.id],
                    robot_count=4,
                    daily_start=tenant.calling_start,
                    daily_end=tenant.calling_end,
                    description="callbot demo --sip",
                ),
            )
            rows = [
                SourceRow(i + 1, name, number, directory[number])
                for i, (number, name, _, _) in enumerate(SIP_CUSTOMERS)
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
                "recording": str(folder / r.recording_path) if r.recording_path else "",
                "customer_recording": str(folder / r.customer_recording_path) if r.customer_recording_path else "",
            }
            for r in records
        ]
    finally:
        await gateway.close()
        await phone.close()
        await store.dispose()
