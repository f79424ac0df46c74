"""The console's browser-like test client, and the type of the `login` fixture that makes signed-in ones."""

from __future__ import annotations

import re
from typing import Protocol

import httpx

from callbot.models.enums import Role

from factories import Account

PASSWORD = "s3cret-pass"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class ConsoleClient(httpx.AsyncClient):
    """An httpx client that keeps the session cookie and knows its CSRF token, as a browser tab would."""

    csrf: str = ""

    async def post_login(self, data: dict[str, str]) -> httpx.Response:
        """The sign-in form as a browser sends it: fetched first, with its login token."""
        form = await self.get("/login")
        token = re.search(r'name="login_csrf" value="([0-9a-f]+)"', form.text)
        assert token is not None, "the sign-in form carries no login token"
        return await self.post("/login", data={"login_csrf": token.group(1), **data})

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = await self.post_login({"username": username, "password": password, "next": "/"})
        if response.status_code == 303:
            page = await self.get("/")
            token = CSRF.search(page.text)
            assert token is not None, "the signed-in page carries no CSRF token"
            self.csrf = token.group(1)
        return response

    async def submit(self, url: str, data: dict[str, object] | None = None, **kwargs: object) -> httpx.Response:
        """A form post with this session's CSRF token."""
        return await self.post(url, data={"csrf": self.csrf, **(data or {})}, **kwargs)  # type: ignore[arg-type]


class Login(Protocol):
    """login(role) -> a client signed in as a new user of that role in the account's (or another) tenant."""

    async def __call__(self, role: Role = ..., *, tenant_account: Account | None = None) -> ConsoleClient: ...


def found(pattern: str, text: str, flags: int = 0) -> str:
    """The first group of the pattern's first match in a page: the test fails if the page lacks it."""
    match = re.search(pattern, text, flags)
    assert match is not None, f"{pattern!r} not found in the page"
    return match.group(1)
