"""Lines, the do-not-call list with bulk import, callback settings with the delivery log and redeliver, API
credentials shown once, users and roles; admin-only pages refuse the other roles."""

from __future__ import annotations

import re

from callbot.callback import outbox
from callbot.credential import service as credential_service
from callbot.dnc import service as dnc_service
from callbot.kit.db import Store
from callbot.kit.paging import PageRequest
from callbot.models.enums import Role
from callbot.tenant import service as tenant_service

from console_client import Login, found
from factories import Account, make_account


async def test_lines_are_listed_and_added_by_an_admin(store: Store, account: Account, login: Login) -> None:
    admin = await login(Role.ADMIN)
    assert (
        await admin.submit("/lines", {"phone": "057188880002", "name": "杭州2", "concurrency": "3"})
    ).status_code == 303
    page = await admin.get("/lines")
    assert "057188880002" in page.text and account.line.phone in page.text
    bad = await admin.submit("/lines", {"phone": "abc", "concurrency": "3"})
    assert bad.status_code == 422 and 'id="error-phone"' in bad.text
    operator = await login(Role.OPERATOR)
    assert (await operator.get("/lines")).status_code == 200
    assert (await operator.submit("/lines", {"phone": "057188880003"})).status_code == 403


async def test_bulk_import_into_the_do_not_call_list(store: Store, account: Account, login: Login) -> None:
    operator = await login(Role.OPERATOR)
    response = await operator.submit(
        "/dnc",
        {"numbers": "13800138000\n13900139000, 不是号码", "reason": "投诉"},
        files={"file": ("dnc.csv", "号码\n13700137000\n".encode(), "text/csv")},
    )
    assert response.status_code == 200
    report = found(r'<div id="dnc-report">(.*?)</div>', response.text, re.S)
    assert "<strong>3</strong>" in report and "第 3 个「不是号码」" in report
    async with store.transaction() as tx:
        listed = await dnc_service.list_numbers(tx, account.tenant, PageRequest(size=10))
        assert sorted(e.phone for e in listed.items) == ["13700137000", "13800138000", "13900139000"]
    assert (await operator.submit("/dnc/remove", {"phone": "13800138000"})).status_code == 303
    viewer = await login(Role.VIEWER)
    assert "13900139000" in (await viewer.get("/dnc")).text
    assert (await viewer.submit("/dnc", {"numbers": "13600136000"})).status_code == 403
    refused = await operator.submit("/dnc", files={"file": ("x.exe", b"MZ", "application/octet-stream")})
    assert refused.status_code == 422


async def test_callback_settings_log_and_redeliver(store: Store, account: Account, login: Login) -> None:
    admin = await login(Role.ADMIN)
    bad = await admin.submit("/callbacks", {"enabled": "on", "url": "ftp://x"})
    assert bad.status_code == 422 and 'id="error-url"' in bad.text
    ok = await admin.submit("/callbacks", {"enabled": "on", "url": "http://127.0.0.1:9/cb", "dialect": "native"})
    assert ok.status_code == 303, ok.text
    async with store.transaction() as tx:
        event = await outbox.enqueue(tx, account.tenant.id, outbox.CALL_FINISHED, {"record_id": 1})
        event.status = outbox.FAILED
        event.attempts = 5
    page = await admin.get("/callbacks")
    assert "http://127.0.0.1:9/cb" in page.text and f'href="/callbacks/events/{event.id}"' in page.text
    assert (await admin.submit(f"/callbacks/events/{event.id}/redeliver")).status_code == 303
    async with store.transaction() as tx:
        again = await outbox.get_event(tx, account.tenant, event.id)
        assert (again.status, again.attempts) == (outbox.PENDING, 0)
    operator = await login(Role.OPERATOR)
    assert (await operator.get("/callbacks")).status_code == 403
    assert (await operator.submit(f"/callbacks/events/{event.id}/redeliver")).status_code == 403
    stranger = await login(Role.ADMIN, tenant_account=await make_account(store, "另一家公司"))
    assert (await stranger.get(f"/callbacks/events/{event.id}")).status_code == 404


async def test_a_credential_secret_is_shown_once_and_can_be_revoked(
    store: Store, account: Account, login: Login
) -> None:
    admin = await login(Role.ADMIN)
    created = await admin.submit("/credentials", {"kind": "token", "label": "CRM"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    token = found(r'<span class="muted">token</span> (cbt_\w+)', created.text)
    async with store.transaction() as tx:
        tenant, credential = await credential_service.authenticate_token(tx, token)
        assert tenant.id == account.tenant.id
    listing = await admin.get("/credentials")
    assert token not in listing.text and credential.key in listing.text
    assert (await admin.submit(f"/credentials/{credential.id}/revoke")).status_code == 303
    response = await admin.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (401, 403)
    assert (await (await login(Role.OPERATOR)).get("/credentials")).status_code == 403


async def test_users_and_roles(store: Store, account: Account, login: Login) -> None:
    admin = await login(Role.ADMIN)
    assert (await admin.submit("/users", {"username": "bob", "password": "short", "role": "viewer"})).status_code == 422
    created = await admin.submit("/users", {"username": "bob", "password": "long-enough", "role": "viewer"})
    assert created.status_code == 303
    taken = await admin.submit("/users", {"username": "bob", "password": "long-enough", "role": "viewer"})
    assert taken.status_code == 422 and "用户名已被使用" in taken.text
    async with store.transaction() as tx:
        bob = next(u for u in await tenant_service.list_users(tx, account.tenant) if u.username == "bob")
    assert (await admin.submit(f"/users/{bob.id}", {"role": "operator", "enabled": "1"})).status_code == 303
    async with store.transaction() as tx:
        assert (await tenant_service.get_user(tx, account.tenant, bob.id)).role is Role.OPERATOR
    me = await admin.get("/users")
    my_id = int(re.findall(r'action="/users/(\d+)"', me.text)[0])
    assert (await admin.submit(f"/users/{my_id}", {"role": "viewer", "enabled": "1"})).status_code == 422
    operator = await login(Role.OPERATOR)
    assert (await operator.get("/users")).status_code == 403
    assert (await operator.submit(f"/users/{bob.id}", {"role": "admin"})).status_code == 403
    stranger = await login(Role.ADMIN, tenant_account=await make_account(store, "另一家公司"))
    assert (await stranger.submit(f"/users/{bob.id}", {"role": "admin"})).status_code == 404
