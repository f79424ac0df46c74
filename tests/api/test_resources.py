"""Lines, scripts (versioned), DNC, callback settings and records through the native API."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import insert

from callbot.kit.db import Store
from callbot.models import CallRecord, Customer
from callbot.models.enums import CallResult, CustomerStatus, Level

from factories import SCRIPT, api_task, make_account


async def test_lines_add_list_update(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    added = await client.post(
        "/api/v1/lines", json={"phone": "0571-8888-0002", "type": "LANDLINE", "concurrency": 3}, headers=account.headers
    )
    assert added.status_code == 201
    line = added.json()
    assert (line["phone"], line["type"], line["gateway"]) == ("057188880002", "LANDLINE", "sim")
    duplicate = await client.post("/api/v1/lines", json={"phone": "057188880002"}, headers=account.headers)
    assert duplicate.status_code == 409
    bad = await client.post("/api/v1/lines", json={"phone": "call me"}, headers=account.headers)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "phone"
    zero = await client.post("/api/v1/lines", json={"phone": "057188880003", "concurrency": 0}, headers=account.headers)
    assert zero.status_code == 422
    changed = await client.patch(f"/api/v1/lines/{line['id']}", json={"concurrency": 8}, headers=account.headers)
    assert changed.json()["concurrency"] == 8
    assert len((await client.get("/api/v1/lines", headers=account.headers)).json()) == 2


async def test_scripts_are_validated_and_versioned(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    again = await client.post(
        "/api/v1/scripts", json={"content": SCRIPT.replace("再见", "拜拜")}, headers=account.headers
    )
    assert again.status_code == 201
    script = again.json()
    assert script["id"] == account.script_id  # same name: a new version of the same script
    assert (script["latest_version"], script["approved_version"], script["status"]) == (2, 2, "APPROVED")
    draft = await client.post(
        "/api/v1/scripts", json={"content": SCRIPT.replace("再见", "回见"), "draft": True}, headers=account.headers
    )
    assert (draft.json()["latest_version"], draft.json()["approved_version"]) == (3, 2)
    versions = (await client.get(f"/api/v1/scripts/{account.script_id}/versions", headers=account.headers)).json()
    assert [(v["version"], v["status"]) for v in versions] == [(1, "APPROVED"), (2, "APPROVED"), (3, "DRAFT")]
    text = (await client.get(f"/api/v1/scripts/{account.script_id}/versions/3", headers=account.headers)).json()
    assert "回见" in text["content"]
    approved = await client.post(f"/api/v1/scripts/{account.script_id}/versions/3/approve", headers=account.headers)
    assert approved.json()["status"] == "APPROVED"
    broken = SCRIPT.replace("affirm: agree_end", "affirm: agre_end")
    refused = await client.post("/api/v1/scripts", json={"content": broken}, headers=account.headers)
    assert refused.status_code == 422
    details = refused.json()["error"]["details"]
    assert any("agre_end" in d["message"] and d["field"].startswith("nodes.opening") for d in details)
    checked = await client.post("/api/v1/scripts/validate", json={"content": broken}, headers=account.headers)
    assert checked.json()["valid"] is False and checked.json()["problems"]


async def test_dnc_list(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    added = await client.post(
        "/api/v1/dnc", json={"phone": "+86 139 0000 1234", "reason": "客户要求"}, headers=account.headers
    )
    assert added.status_code == 201 and added.json()["phone"] == "13900001234"
    same = await client.post("/api/v1/dnc", json={"phone": "13900001234"}, headers=account.headers)
    assert same.json()["id"] == added.json()["id"]
    bad = await client.post("/api/v1/dnc", json={"phone": "123"}, headers=account.headers)
    assert bad.status_code == 422
    assert (await client.get("/api/v1/dnc", headers=account.headers)).json()["total"] == 1
    assert (await client.delete("/api/v1/dnc/13900001234", headers=account.headers)).status_code == 204
    assert (await client.delete("/api/v1/dnc/13900001234", headers=account.headers)).status_code == 404


async def test_callback_settings_accept_only_http_urls(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    initial = (await client.get("/api/v1/callback-settings", headers=account.headers)).json()
    assert (initial["enabled"], initial["url"], initial["dialect"]) == (False, "", "native")
    bad = await client.put(
        "/api/v1/callback-settings", json={"url": "ftp://crm.example.com/x"}, headers=account.headers
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "url"
    ok = await client.put(
        "/api/v1/callback-settings",
        json={"url": "https://crm.example.com/push", "task_url": "http://crm.example.com/task", "dialect": "yiwise"},
        headers=account.headers,
    )
    assert ok.status_code == 200
    assert (ok.json()["enabled"], ok.json()["dialect"]) == (True, "yiwise")
    unknown = await client.put("/api/v1/callback-settings", json={"dialect": "other"}, headers=account.headers)
    assert unknown.status_code == 422


async def test_records_filter_and_page(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    other = await make_account(store, "乙公司")
    task = await api_task(client, account)
    theirs = await api_task(client, other)
    now = store.clock.now()
    async with store.transaction() as tx:
        rows = []
        for i, (result, level) in enumerate(
            [
                (CallResult.ANSWERED, Level.A),
                (CallResult.ANSWERED, Level.D),
                (CallResult.NO_ANSWER, None),
                (CallResult.BUSY, None),
                (CallResult.ANSWERED, Level.A),
            ]
        ):
            customer_id = (
                await tx.session.execute(
                    insert(Customer).returning(Customer.id),
                    [
                        {
                            "tenant_id": account.tenant.id,
                            "task_id": task["id"],
                            "name": f"客户{i}",
                            "phone": f"1390000000{i}",
                            "properties": {},
                            "carrier": "",
                            "region": "",
                            "status": CustomerStatus.FINISHED,
                            "attempts": 1,
                            "created_at": now,
                        }
                    ],
                )
            ).scalar_one()
            rows.append(
                {
                    "tenant_id": account.tenant.id,
                    "task_id": task["id"],
                    "customer_id": customer_id,
                    "sn": f"{i:032d}",
                    "phone": f"1390000000{i}",
                    "result": result,
                    "level": level,
                    "started_at": now - timedelta(days=i),
                    "rounds": i,
                    "chat_seconds": 10 * i,
                    "transcript": [{"speaker": "ROBOT", "text": "您好"}],
                    "created_at": now,
                }
            )
        await tx.session.execute(insert(CallRecord), rows)
        await tx.session.execute(
            insert(CallRecord),
            [{**rows[0], "tenant_id": other.tenant.id, "task_id": theirs["id"], "sn": "f" * 32, "attempt": 2}],
        )
    h = account.headers
    everything = (await client.get("/api/v1/records", headers=h)).json()
    assert everything["total"] == 5
    assert [r["phone"] for r in everything["items"]][:2] == ["13900000004", "13900000003"]  # newest first
    assert "transcript" not in everything["items"][0]
    answered_a = (await client.get("/api/v1/records?result=ANSWERED&level=A", headers=h)).json()
    assert answered_a["total"] == 2
    named = (await client.get("/api/v1/records?search=客户3", headers=h)).json()
    assert [r["phone"] for r in named["items"]] == ["13900000003"]
    recent = (
        await client.get("/api/v1/records", params={"from": (now - timedelta(days=1, hours=1)).isoformat()}, headers=h)
    ).json()
    assert recent["total"] == 2
    paged = (await client.get(f"/api/v1/records?task_id={task['id']}&size=2&page=3", headers=h)).json()
    assert (paged["pages"], len(paged["items"])) == (3, 1)
    detail = (await client.get(f"/api/v1/records/{everything['items'][0]['id']}", headers=h)).json()
    assert detail["transcript"] == [{"speaker": "ROBOT", "text": "您好"}]
    graded = await client.patch(f"/api/v1/records/{detail['id']}", json={"manual_level": "B"}, headers=h)
    assert (graded.json()["manual_level"], graded.json()["level"]) == ("B", detail["level"])
    bad_grade = await client.patch(f"/api/v1/records/{detail['id']}", json={"manual_level": "G"}, headers=h)
    assert bad_grade.status_code == 422
    foreign = (await client.get("/api/v1/records", headers=other.headers)).json()
    assert foreign["total"] == 1
    hidden = await client.get(f"/api/v1/records/{everything['items'][0]['id']}", headers=other.headers)
    assert hidden.status_code == 404
