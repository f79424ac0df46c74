"""Login and the public parameters: every login error code, every public-parameter error code, key expiry
and revocation on the injected clock, and bad input answered with a code (never a server error)."""

from __future__ import annotations

import httpx
import pytest

from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from dialects.digelao.client import DigelaoClient, md5, raw_json_encode
from dialects.digelao.conftest import make_digelao

NOW = "2026-11-20 10:00:00"  # the frozen clock, in Asia/Shanghai


async def test_login_answers_the_documented_fields(dclient: httpx.AsyncClient, store: Store) -> None:
    d = await make_digelao(store)
    answer = await DigelaoClient(dclient, d.access_id, d.secret).login(NOW)
    assert (answer["code"], answer["msg"]) == (0, "login success")
    data = answer["data"]
    assert list(data) == [
        "id", "user_sn", "user_name", "team_name", "team_sn", "parent_sn", "expired", "ai_count",
        "caller_group", "job", "api_key", "api_key_expire", "callback_url", "open_callback", "task_callback_url",
    ]  # fmt: skip
    assert data["user_sn"] == "SYSUSER|" + d.main.sn and data["id"] == d.main.id
    assert (data["user_name"], data["team_name"], data["parent_sn"], data["job"]) == (
        "hzsales",
        "杭州电销一组",
        "",
        "管理员",
    )
    assert data["caller_group"] == "057188880001" and data["ai_count"] == 20
    assert len(data["api_key"]) == 8 and data["api_key"].isalnum()
    assert data["api_key_expire"] == int(store.clock.now().timestamp()) + 7200
    assert (data["callback_url"], data["open_callback"], data["task_callback_url"]) == ("", "0", "")
    assert "password_hash" not in data


async def _post(http: httpx.AsyncClient, body: dict[str, object]) -> dict[str, object]:
    response = await http.post("/api/login", json=body)
    assert response.status_code == 200
    result: dict[str, object] = response.json()
    return result


async def test_every_login_error_code(dclient: httpx.AsyncClient, store: Store) -> None:
    d = await make_digelao(store)
    good = {"api_access_id": d.access_id, "from": 1, "sign": md5(d.access_id + d.secret + NOW), "timestamp": NOW}
    assert (await _post(dclient, good))["code"] == 0
    later = "2026-11-20 10:00:01"
    upper = {**good, "from": "1", "timestamp": later, "sign": md5(d.access_id + d.secret + later).upper()}
    assert (await _post(dclient, upper))["code"] == 0
    get = await dclient.get("/api/login", params={k: str(v) for k, v in good.items()})
    assert get.json() == {"code": 20001, "msg": "数据传输方式不正确"}
    garbled = await dclient.post("/api/login", content=b"{oops", headers={"Content-Type": "application/json"})
    assert garbled.json()["code"] == 20001
    for missing in good:
        answer = await _post(dclient, {k: v for k, v in good.items() if k != missing})
        assert answer == {"code": 20002, "msg": "数据格式错误(少传公共参数)"}
    assert (await _post(dclient, {**good, "from": 3}))["code"] == 20003
    assert (await _post(dclient, {**good, "from": 2}))["code"] == 20003  # password login is off by default
    assert (await _post(dclient, {**good, "api_access_id": "0" * 32}))["code"] == 20004
    assert (await _post(dclient, {**good, "sign": "0" * 32}))["code"] == 20004
    stale = "2026-11-20 09:54:59"
    assert (await _post(dclient, {**good, "timestamp": stale, "sign": md5(d.access_id + d.secret + stale)}))[
        "code"
    ] == 10001
    edge = "2026-11-20 10:05:00"
    assert (await _post(dclient, {**good, "timestamp": edge, "sign": md5(d.access_id + d.secret + edge)}))["code"] == 0
    bad_time = "yesterday"
    assert (await _post(dclient, {**good, "timestamp": bad_time, "sign": md5(d.access_id + d.secret + bad_time)}))[
        "code"
    ] == 10001
    assert (await _post(dclient, {**good, "sign": ["x"]}))["code"] == 20002
    for answer in [await _post(dclient, {**good, "from": 3})]:
        assert "data" not in answer


async def test_public_parameter_errors(dclient: httpx.AsyncClient, store: Store, clock: FrozenClock) -> None:
    d = await make_digelao(store)
    client = DigelaoClient(dclient, d.access_id, d.secret)
    await client.login(NOW)
    assert (await client.call("templatelist"))["code"] == 0
    body = client.signed({})
    for missing in ("user_sn", "api_key", "url"):
        answer = (await dclient.post("/api/templatelist", json={k: v for k, v in body.items() if k != missing})).json()
        assert answer == {"code": 20002, "msg": "数据格式错误(少传公共参数)"}
    wrong_key = client.signed({})
    wrong_key["api_key"] = "AAAAAAAA"
    assert (await dclient.post("/api/templatelist", json=wrong_key)).json()["code"] == 20005
    unknown_user = {**body, "user_sn": "SYSUSER|" + "0" * 32}
    assert (await dclient.post("/api/templatelist", json=unknown_user)).json()["code"] == 20005
    tampered = {**body, "extra": "1"}
    assert (await dclient.post("/api/templatelist", json=tampered)).json() == {
        "code": 10001,
        "msg": "验证不通过,数据可能被劫持",
    }
    # The other encoders are accepted, and GET / form bodies work like JSON.
    raw = client.signed({"namephone": "张三/李四"}, raw_json_encode)
    assert (await dclient.post("/api/crmList", json=raw)).json()["code"] == 0
    assert await dclient.get("/api/TEMPLATELIST", params=client.signed({}))  # case-insensitive name
    assert (await dclient.post("/api/templatelist", data=client.signed({}))).json()["code"] == 0
    assert (await dclient.get("/api/nosuch", params=client.signed({}))).json()["code"] == 30002

    clock.advance(seconds=7199)
    assert (await client.call("templatelist"))["code"] == 0
    clock.advance(seconds=2)
    assert (await client.call("templatelist")) == {"code": 20006, "msg": "api_key过期"}


async def test_a_new_login_revokes_the_previous_key(dclient: httpx.AsyncClient, store: Store) -> None:
    d = await make_digelao(store)
    first = DigelaoClient(dclient, d.access_id, d.secret)
    second = DigelaoClient(dclient, d.access_id, d.secret)
    await first.login(NOW)
    await second.login("2026-11-20 10:00:01")
    assert first.api_key != second.api_key and first.user_sn == second.user_sn
    assert (await first.call("templatelist")) == {"code": 20005, "msg": "api_key验证不通过"}
    assert (await second.call("templatelist"))["code"] == 0


async def test_a_replayed_login_is_refused_and_the_real_key_lives_on(
    dclient: httpx.AsyncClient, store: Store, clock: FrozenClock
) -> None:
    d = await make_digelao(store)
    real = DigelaoClient(dclient, d.access_id, d.secret)
    body = {"api_access_id": d.access_id, "from": 1, "sign": md5(d.access_id + d.secret + NOW), "timestamp": NOW}
    first = await _post(dclient, body)
    assert first["code"] == 0
    real.user_sn, real.api_key = first["data"]["user_sn"], first["data"]["api_key"]  # type: ignore[index]
    clock.advance(seconds=299)  # still inside the timestamp's five minutes
    for replayed in (body, {**body, "sign": str(body["sign"]).upper(), "from": "1"}):
        assert await _post(dclient, replayed) == {"code": 10001, "msg": "验证不通过,数据可能被劫持"}
    assert (await real.call("templatelist"))["code"] == 0  # the real client's key was not revoked
    # A new login signs a new timestamp, and is accepted.
    assert (await real.login("2026-11-20 10:04:59"))["code"] == 0


async def test_another_tenants_key_sees_nothing_of_ours(dclient: httpx.AsyncClient, store: Store) -> None:
    ours = await make_digelao(store)
    theirs = await make_digelao(store, "乙公司", user="yi")
    mine = DigelaoClient(dclient, ours.access_id, ours.secret)
    other = DigelaoClient(dclient, theirs.access_id, theirs.secret)
    await mine.login(NOW)
    await other.login(NOW)
    from factories import make_task

    task_id = await make_task(store, ours.account)
    cases: list[tuple[str, dict[str, object]]] = [
        ("operateTask", {"project_type": 2, "pkeys": str(task_id), "oper": "stop"}),
        ("getAsyncTaskResult", {"dial_task_main_id": task_id}),
        ("cdrFragmentDownload", {"sn": "0" * 32}),
    ]
    for name, params in cases:
        assert (await other.call(name, params))["code"] == 30002
    assert (await other.call("index"))["data"]["total"] == 0


@pytest.mark.parametrize(
    ("name", "params", "code"),
    [
        ("setCallback", {"callback_url": "https://x.example.com"}, 30001),
        ("setCallback", {"open_callback": "yes", "callback_url": "https://x.example.com"}, 30001),
        ("setCallback", {"open_callback": 1, "callback_url": "ftp://x"}, 30001),
        ("aiUserDatasapi", {"pageIndex": "first"}, 30001),
        ("aiUserDatasapi", {"pageSize": 0}, 30001),
        ("index", {"start_create_at": "July"}, 30001),
        ("operateTask", {"project_type": 1, "pkeys": "1", "oper": "stop"}, 30001),
        ("operateTask", {"project_type": 2, "pkeys": "1", "oper": "halt"}, 30001),
        ("operateTask", {"project_type": 2, "pkeys": "1,dial_task_main_sn|ab", "oper": "stop"}, 30001),
        ("operateTask", {"project_type": 2, "pkeys": "999999", "oper": "stop"}, 30002),
        ("operateTask", {"project_type": 2, "pkeys": {"a": 1}, "oper": "stop"}, 30001),
        ("addJsonOfAsync", {"source": "x"}, 30001),
        ("addJsonOfAsync", {"source": "x", "project_sn": "projects|nope", "client_info_json": "{}"}, 30002),
        ("getAsyncTaskResult", {}, 30001),
        ("getAsyncTaskResult", {"dial_task_main_id": [1]}, 30001),
        ("crmList", {"status": "Z"}, 30001),
        ("crmList", {"ids_json": "{"}, 30001),
        ("crmList", {"dial_task_main_sn": "dial_task_main_sn|nope"}, 30002),
        ("cdrFragmentDownload", {}, 30001),
    ],
)
async def test_bad_parameters_get_a_code_not_a_server_error(
    dclient: httpx.AsyncClient, store: Store, name: str, params: dict[str, object], code: int
) -> None:
    d = await make_digelao(store)
    client = DigelaoClient(dclient, d.access_id, d.secret)
    await client.login(NOW)
    answer = await client.call(name, params)
    assert answer["code"] == code, answer
    assert "data" not in answer
