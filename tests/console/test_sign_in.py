"""Sign-in: sessions, CSRF, lockout that survives a restart, roles, tenant scoping, escaping."""

from __future__ import annotations

from pathlib import Path

import httpx

from callbot.app import create_app
from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models.enums import Role
from callbot.tenant import service as tenant_service

from console_client import ConsoleClient, Login
from factories import Account, make_account

PASSWORD = "s3cret-pass"


async def test_pages_need_a_session(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/", params={"days": "30"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"
    htmx = await anonymous.get("/", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


async def test_sign_in_sets_a_hardened_cookie_and_logout_ends_it(
    store: Store, account: Account, anonymous: ConsoleClient
) -> None:
    async with store.transaction() as tx:
        await tenant_service.create_user(tx, account.tenant, "alice", PASSWORD, Role.OPERATOR, "张<b>三</b>")
    response = await anonymous.sign_in("alice")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    home = await anonymous.get("/")
    assert home.status_code == 200 and "今日外呼" in home.text
    assert "张&lt;b&gt;三&lt;/b&gt;" in home.text and "<b>三</b>" not in home.text
    session = anonymous.cookies.get("callbot_console")
    assert session is not None
    bye = await anonymous.submit("/logout")
    assert bye.status_code == 303
    assert (await anonymous.get("/")).status_code == 303
    # The server ended the session: a copy of the cookie (kept by a thief, or another tab) is refused too.
    anonymous.cookies.set("callbot_console", session)
    assert (await anonymous.get("/")).status_code == 303
    anonymous.cookies.clear()
    assert (await anonymous.sign_in("alice")).status_code == 303 and (await anonymous.get("/")).status_code == 200


async def test_a_new_password_ends_the_sessions_signed_in_with_the_old(
    store: Store, account: Account, anonymous: ConsoleClient
) -> None:
    async with store.transaction() as tx:
        alice = await tenant_service.create_user(tx, account.tenant, "alice", PASSWORD, Role.VIEWER)
    await anonymous.sign_in("alice")
    assert (await anonymous.get("/")).status_code == 200
    async with store.transaction() as tx:
        await tenant_service.update_user(
            tx, account.tenant, alice.id, tenant_service.UserChanges(password="n3w-pass-2026")
        )
    assert (await anonymous.get("/")).status_code == 303


async def test_a_forged_cookie_is_no_session(store: Store, account: Account, anonymous: ConsoleClient) -> None:
    async with store.transaction() as tx:
        await tenant_service.create_user(tx, account.tenant, "alice", PASSWORD, Role.VIEWER)
    await anonymous.sign_in("alice")
    value = anonymous.cookies.get("callbot_console")
    assert value is not None
    anonymous.cookies.clear()
    forged = "9" + value[1:] if not value.startswith("9") else "8" + value[1:]
    anonymous.cookies.set("callbot_console", forged)
    assert (await anonymous.get("/")).status_code == 303


async def test_wrong_password_is_refused_with_the_same_words_as_an_unknown_user(
    store: Store, account: Account, anonymous: ConsoleClient
) -> None:
    async with store.transaction() as tx:
        await tenant_service.create_user(tx, account.tenant, "alice", PASSWORD, Role.VIEWER)
    wrong = await anonymous.post_login({"username": "alice", "password": "nope-nope"})
    unknown = await anonymous.post_login({"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text


async def test_lockout_after_five_failures_survives_a_restart_and_ends(
    store: Store, account: Account, anonymous: ConsoleClient, clock: FrozenClock, recordings_dir: Path
) -> None:
    async with store.transaction() as tx:
        await tenant_service.create_user(tx, account.tenant, "alice", PASSWORD, Role.VIEWER)
    for _ in range(5):
        response = await anonymous.post_login({"username": "alice", "password": "wrong-pass"})
        assert response.status_code == 401
    # A new app over the same store (a restart) still refuses, even the right password.
    restarted = create_app(store, recordings_dir=recordings_dir)
    async with ConsoleClient(transport=httpx.ASGITransport(app=restarted), base_url="http://console.test") as c:
        locked = await c.post_login({"username": "alice", "password": PASSWORD})
        assert locked.status_code == 401 and "锁定" in locked.text
        clock.advance(minutes=16)
        assert (await c.post_login({"username": "alice", "password": PASSWORD})).status_code == 303


async def test_the_next_page_is_only_a_local_path(store: Store, account: Account, anonymous: ConsoleClient) -> None:
    async with store.transaction() as tx:
        await tenant_service.create_user(tx, account.tenant, "alice", PASSWORD, Role.VIEWER)
    response = await anonymous.post_login({"username": "alice", "password": PASSWORD, "next": "//evil.example/phish"})
    assert response.headers["location"] == "/"


async def test_a_post_without_the_session_csrf_token_is_refused(login: Login) -> None:
    client = await login(Role.ADMIN)
    refused = await client.post("/logout", data={"csrf": "0" * 64})
    assert refused.status_code == 403 and "CSRF" in refused.text
    missing = await client.post("/logout")
    assert missing.status_code == 403
    # A token from another session is no good either.
    other = await login(Role.ADMIN)
    assert (await client.post("/logout", data={"csrf": other.csrf})).status_code == 403
    assert (await client.get("/")).status_code == 200  # still signed in


async def test_a_disabled_user_loses_the_session(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.OPERATOR)
    async with store.transaction() as tx:
        users = await tenant_service.list_users(tx, account.tenant)
        await tenant_service.update_user(tx, account.tenant, users[-1].id, tenant_service.UserChanges(enabled=False))
    assert (await client.get("/")).status_code == 303


async def test_the_dashboard_counts_only_the_tenants_own(store: Store, login: Login) -> None:
    other = await make_account(store, "另一家公司")
    client = await login(Role.VIEWER, tenant_account=other)
    page = await client.get("/?days=30")
    assert page.status_code == 200 and "近 30 天" in page.text


async def test_a_sign_in_without_its_form_token_is_refused(
    store: Store, account: Account, anonymous: ConsoleClient
) -> None:
    """Login CSRF: a form posted from another site carries no token matching this browser's cookie."""
    async with store.transaction() as tx:
        await tenant_service.create_user(tx, account.tenant, "alice", PASSWORD, Role.VIEWER)
    forged = await anonymous.post("/login", data={"username": "alice", "password": PASSWORD})
    assert forged.status_code == 403 and "过期" in forged.text
    await anonymous.get("/login")  # a cookie of this browser, but a token guessed by the forger
    guessed = await anonymous.post("/login", data={"username": "alice", "password": PASSWORD, "login_csrf": "0" * 32})
    assert guessed.status_code == 403
    assert (await anonymous.post_login({"username": "alice", "password": PASSWORD})).status_code == 303
