"""A Digelao integration written the way a customer would write it: only the spec and the spec-only client.

Provisioning (tenant, main account, digelao key, lines, DNC, a script) goes through the services, as an
operator would do it in the console. From then on everything is the vendor API over the ASGI app: log in,
set the callback, create a task whose customers carry `sim_replies` / `sim_result`, follow the import,
let the simulated carrier call them, receive the import push and one per-call push per record on local
receivers (signed with the api_access_secret), list the records, fetch recording fragments, operate a
second task to its deletion, then let the key expire on the injected clock and log in again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from campaign_helpers import sim_dialer

from callbot.callback.delivery import Deliverer
from callbot.callback.receiver import CallbackReceiver
from callbot.credential import service as credential_service
from callbot.dnc import service as dnc_service
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.line import service as line_service
from callbot.models.enums import CredentialKind, Role
from callbot.runtime import build_renderers
from callbot.script import service as script_service
from callbot.tenant import service as tenant_service
from dialects.digelao.client import DigelaoClient

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "scripts" / "credit_card_instalment.yaml"
ZONE = ZoneInfo("Asia/Shanghai")

# §4.8 / §5.2: the crmList item, seen fields then callbot's extension fields.
RECORD_KEYS = [
    "sn", "phone", "created_at", "started_at", "talktimes", "status", "status_manual", "source", "user_name",
    "parent_sn", "team_name", "operator", "mark", "fs_push_screens", "pushed_at", "listened_at",
    "intervention_at", "dial_task_main_id", "dial_task_main_sn", "project_sn", "project_caption", "name",
    "client_info", "ended_at", "turn_count", "area_code", "call_result", "intent_reason", "labels", "record_url",
    "dialogue",
]  # fmt: skip
MARK_KEYS = [
    "totalCount", "failCount", "blacklistCount", "repeatCount", "successCount", "filterCount", "shiCount",
    "kongCount", "tingjiCount", "kuwuCount", "chenmoCount", "fenxianCount", "chaopinCount",
]  # fmt: skip

# The customers of the first task, as a CRM would export them. Columns beyond the import template
# (电话 姓名 地址 公司名称 备注) become script variables (bank, amount) and properties the simulated
# carrier reads (sim_replies, sim_result).
ROWS: list[dict[str, str]] = [
    {"电话": "13900000001", "姓名": "王先生", "备注": "老客户", "bank": "招商银行", "amount": "3200",
     "sim_result": "ANSWERED", "sim_replies": "嗯你说|可以|分十二期吧|好的"},
    {"电话": "13900000002", "姓名": "李女士", "bank": "招商银行", "amount": "1800",
     "sim_result": "ANSWERED", "sim_replies": "不需要谢谢|真的不需要"},
    {"电话": "13900000003", "姓名": "赵先生", "bank": "招商银行", "amount": "900", "sim_result": "BUSY"},
    {"电话": "13900000001", "姓名": "重复的王先生", "bank": "招商银行", "amount": "1"},  # duplicate
    {"电话": "12345", "姓名": "坏号码", "bank": "招商银行", "amount": "1"},  # not a number
    {"电话": "13900000004", "姓名": "缺金额", "bank": "招商银行"},  # script variable `amount` missing
    {"电话": "13900000005", "姓名": "黑名单", "bank": "招商银行", "amount": "1"},  # on the DNC list
]  # fmt: skip


def stamp(clock: FrozenClock) -> str:
    """The login timestamp, `Y-m-d H:i:s` in the account's zone, from the injected clock."""
    return clock.now().astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")


def signed_by(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """§5: X-Callbot-Signature = hex(HMAC-SHA256(api_access_secret, body))."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("x-callbot-signature", ""), expected)


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[CallbackReceiver, CallbackReceiver]]:
    """(per-call push receiver, import push receiver)"""
    calls, imports = CallbackReceiver(), CallbackReceiver(body=b'{"code":0}')
    await calls.start()
    await imports.start()
    yield calls, imports
    await calls.stop()
    await imports.stop()


async def provision(store: Store) -> tuple[str, str]:
    """What the operator sets up beforehand: the account, its digelao key, lines, a DNC entry, a script."""
    async with store.transaction() as tx:
        tenant = await tenant_service.create_tenant(tx, "杭州电销一组", seats=20)
        await tenant_service.create_user(tx, tenant, "hzsales", "password-1", Role.ADMIN)
        issued = await credential_service.create_credential(tx, tenant, CredentialKind.DIGELAO)
        await line_service.add_line(tx, tenant, "057188880001", concurrency=3)
        await line_service.add_line(tx, tenant, "057188880002", concurrency=3)
        await dnc_service.add_number(tx, tenant, "13900000005")
        await script_service.add_script(tx, tenant, SCRIPT.read_text(encoding="utf-8"))
    return issued.secrets["api_access_id"], issued.secrets["api_access_secret"]


async def deliver_all(store: Store) -> None:
    async with Deliverer(store, build_renderers()) as deliverer:
        while await deliverer.deliver_due():
            pass


async def crm_sns(crm: DigelaoClient, **filters: Any) -> list[str]:
    answer = await crm.call("crmList", {"pageIndex": 0, "pageSize": 20, **filters})
    assert answer["code"] == 0, answer
    assert answer["data"]["total"] == len(answer["data"]["list"])
    return [item["sn"] for item in answer["data"]["list"]]


async def test_a_digelao_customer_from_login_to_key_expiry(
    client: httpx.AsyncClient,
    store: Store,
    clock: FrozenClock,
    receivers: tuple[CallbackReceiver, CallbackReceiver],
) -> None:
    calls_receiver, import_receiver = receivers
    access_id, secret = await provision(store)
    crm = DigelaoClient(client, access_id, secret)

    # §2.1 log in
    login = await crm.login(stamp(clock))
    assert (login["code"], login["msg"]) == (0, "login success")
    assert login["data"]["user_name"] == "hzsales" and login["data"]["parent_sn"] == ""
    assert login["data"]["caller_group"] == "057188880001,057188880002"
    assert login["data"]["api_key_expire"] == int(clock.now().timestamp()) + 7200
    first_key = crm.api_key

    # §4.1 the per-call push on, and where the import push goes
    assert await crm.call(
        "setCallback",
        {"open_callback": 1, "callback_url": calls_receiver.url, "task_callback_url": import_receiver.url},
    ) == {"code": 0, "msg": "SUCCESS"}

    # §4.3 the script, §4.6 a task with its customers
    projects = await crm.call("templatelist")
    assert [p["project_caption"] for p in projects["data"]] == ["信用卡账单分期邀约"]
    project = projects["data"][0]["sn"]
    created = await crm.call(
        "addJsonOfAsync",
        {"source": "11月分期邀约", "project_sn": project,
         "client_info_json": json.dumps({"data": ROWS}, ensure_ascii=False)},
    )  # fmt: skip
    assert (created["code"], created["msg"]) == (0, "导入中")
    task_id, task_sn = created["data"]["dial_task_main_id"], created["data"]["dial_task_main_sn"]
    assert isinstance(task_id, int) and task_sn.startswith("dial_task_main_sn|")

    # §4.7 the import's result: started by default, counters per reason
    result = await crm.call("getAsyncTaskResult", {"dial_task_main_id": task_id})
    assert (result["code"], result["msg"]) == (200, "请求成功")
    assert (result["data"]["status"], result["data"]["desc"], result["data"]["import_percent"]) == (
        22,
        "正在发送",
        "100%",
    )
    mark = result["data"]["import_mark"]
    assert list(mark) == MARK_KEYS
    assert mark == dict.fromkeys(MARK_KEYS, 0) | {
        "totalCount": 7,
        "successCount": 3,
        "repeatCount": 1,
        "failCount": 2,
        "blacklistCount": 1,
    }

    # The simulated carrier calls every customer (sim speed 0), then the pushes go out.
    await sim_dialer(store).run_until_idle()
    await deliver_all(store)

    # §5.1 one import push to task_callback_url, signed, with the same counters
    assert len(import_receiver.received.bodies) == 1
    import_body, import_headers = import_receiver.received.bodies[0], import_receiver.received.headers[0]
    assert json.loads(import_body) == {"dial_task_main_sn": task_sn, "import_mark": mark}
    assert signed_by(secret, import_body, import_headers)

    # §4.8 the records of the task: one per dialled customer
    listed = await crm.call("crmList", {"pageIndex": 0, "pageSize": 20, "dial_task_main_sn": task_sn})
    assert listed["code"] == 0 and listed["data"]["total"] == 3
    records = {item["phone"]: item for item in listed["data"]["list"]}
    assert set(records) == {"13900000001", "13900000002", "13900000003"}
    for item in records.values():
        assert list(item) == RECORD_KEYS
        assert (item["dial_task_main_id"], item["dial_task_main_sn"]) == (task_id, task_sn)
        assert item["source"] == "11月分期邀约"
        assert (item["project_sn"], item["project_caption"]) == (project, "信用卡账单分期邀约")
        # parent_sn on a record names the main account (§4.8), even when it owns the task itself
        assert (item["user_name"], item["parent_sn"], item["team_name"]) == ("hzsales", "hzsales", "杭州电销一组")
    agreed, refused, busy = records["13900000001"], records["13900000002"], records["13900000003"]
    assert (agreed["call_result"], agreed["status"]) == ("已接听", "A")
    assert (agreed["name"], agreed["mark"]) == ("王先生", "老客户")
    assert agreed["talktimes"] > 0 and agreed["turn_count"] >= 2
    assert agreed["client_info"] == ROWS[0]
    assert agreed["dialogue"][0]["role"] == "robot" and "招商银行" in agreed["dialogue"][0]["text"]
    assert "3200" in agreed["dialogue"][0]["text"]
    assert [d["text"] for d in agreed["dialogue"] if d["role"] == "customer"][:2] == ["嗯你说", "可以"]
    assert (refused["call_result"], refused["status"]) == ("已接听", "D")
    assert (busy["call_result"], busy["talktimes"], busy["dialogue"]) == ("占线", 0, [])

    # §5.2 one per-call push per record to callback_url: the crmList item itself, signed
    pushed = calls_receiver.received.json()
    assert set(calls_receiver.received.by_id.values()) == {1}  # each event once
    assert sorted(p["sn"] for p in pushed) == sorted(item["sn"] for item in records.values())
    for body, headers in zip(calls_receiver.received.bodies, calls_receiver.received.headers, strict=True):
        assert signed_by(secret, body, headers)
        item = json.loads(body)
        assert list(item) == RECORD_KEYS
        assert item == records[item["phone"]]

    # crmList filters: AI level letters, name or number, 0-based paging
    everything = await crm_sns(crm)
    assert len(everything) == 3
    assert await crm_sns(crm, status_search="status", status="A") == [agreed["sn"]]
    assert sorted(await crm_sns(crm, status_search="status", status="A,D")) == sorted([agreed["sn"], refused["sn"]])
    assert await crm_sns(crm, namephone="李女士") == [refused["sn"]]
    assert await crm_sns(crm, namephone="0000003") == [busy["sn"]]
    assert await crm_sns(crm, status="A", namephone="李女士") == []
    pages = [await crm.call("crmList", {"pageIndex": i, "pageSize": 2}) for i in range(3)]
    assert [p["data"]["total"] for p in pages] == [3, 3, 3]
    assert [[item["sn"] for item in p["data"]["list"]] for p in pages] == [everything[:2], everything[2:], []]

    # §4.9 recordings: the simulated carrier records no audio, so the answered call has no recording link
    # and no fragments (the crmList item says the same); an unknown sn is 30002.
    fragments = await crm.call("cdrFragmentDownload", {"sn": agreed["sn"]})
    assert fragments == {"code": 0, "msg": "SUCCESS", "data": {"sn": agreed["sn"], "record_url": "", "fragments": []}}
    assert agreed["record_url"] == ""
    unknown = await crm.call("cdrFragmentDownload", {"sn": "0" * 32})
    assert unknown["code"] == 30002 and "data" not in unknown

    # §4.4 the task is done: 3 customers, 2 answered, 1 not
    tasks = await crm.call("index", {"pageIndex": 0, "pageSize": 10})
    done = tasks["data"]["list"][0]
    assert (tasks["data"]["total"], done["dial_task_main_id"], done["status"], done["task_state"]) == (
        1,
        task_id,
        "已发送",
        "completed",
    )
    assert (done["total_count"], done["send_count"], done["unsend_count"], done["success"], done["fail"]) == (
        3,
        3,
        0,
        "2",
        "1",
    )

    # §4.5 a second task, operated: stop pauses, keepOn resumes, end ends, delete hides
    # (by project_caption this time, client_info_json as an object rather than a JSON string)
    customer = {"电话": "13900000010", "姓名": "钱先生", "bank": "招商银行", "amount": "500"}
    second = await crm.call(
        "addJsonOfAsync",
        {"source": "暂停测试", "project_caption": "信用卡账单分期邀约", "client_info_json": {"data": [customer]}},
    )
    assert second["code"] == 0
    second_id, second_sn = second["data"]["dial_task_main_id"], second["data"]["dial_task_main_sn"]

    async def state() -> tuple[int, str]:
        answer = await crm.call("getAsyncTaskResult", {"dial_task_main_id": second_id})
        return answer["data"]["status"], answer["data"]["desc"]

    assert await state() == (22, "正在发送")
    operated = {"code": 0, "msg": "操作成功"}
    assert await crm.call("operateTask", {"project_type": 2, "pkeys": str(second_id), "oper": "stop"}) == operated
    assert await state() == (24, "暂停发送")
    assert await crm.call("operateTask", {"project_type": 2, "pkeys": second_sn, "oper": "keepOn"}) == operated
    assert await state() == (22, "正在发送")
    assert await crm.call("operateTask", {"project_type": 2, "pkeys": str(second_id), "oper": "end"}) == operated
    assert await state() == (21, "发送完成")
    again = await crm.call("operateTask", {"project_type": 2, "pkeys": str(second_id), "oper": "keepOn"})
    assert again["code"] == 30003 and "data" not in again
    assert await crm.call("operateTask", {"project_type": 2, "pkeys": second_sn, "oper": "delete"}) == operated
    remaining = await crm.call("index", {"pageIndex": 0, "pageSize": 10})
    assert [t["dial_task_main_id"] for t in remaining["data"]["list"]] == [task_id]
    gone = await crm.call("getAsyncTaskResult", {"dial_task_main_id": second_id})
    assert gone["code"] == 30002 and "data" not in gone

    # The second import was pushed too; the ended task placed no call.
    await deliver_all(store)
    assert [json.loads(b)["dial_task_main_sn"] for b in import_receiver.received.bodies] == [task_sn, second_sn]
    assert len(calls_receiver.received.bodies) == 3

    # §2.1 the key lasts 7200 s: one second past it, 20006 (no data, so the client logs in again)
    clock.advance(seconds=7201)
    expired = await crm.call("crmList", {"pageIndex": 0, "pageSize": 20})
    assert expired == {"code": 20006, "msg": "api_key过期"}
    relogin = await crm.login(stamp(clock))
    assert relogin["code"] == 0 and crm.api_key != first_key
    assert relogin["data"]["api_key_expire"] == int(clock.now().timestamp()) + 7200
    assert (
        relogin["data"]["callback_url"],
        relogin["data"]["open_callback"],
        relogin["data"]["task_callback_url"],
    ) == (calls_receiver.url, "1", import_receiver.url)
    assert await crm_sns(crm) == everything
    # The old key is no longer this user's key: 20005.
    new_key, crm.api_key = crm.api_key, first_key
    assert await crm.call("crmList", {"pageIndex": 0}) == {"code": 20005, "msg": "api_key验证不通过"}
    crm.api_key = new_key
    assert (await crm.call("templatelist"))["code"] == 0
