"""Console sessions: a signed, HttpOnly, SameSite=Lax cookie naming the user, and the CSRF token bound to it.

The cookie holds `user_id.epoch.issued.nonce.signature`; nothing secret is in it and nothing in it can be
changed without the key. The epoch is the user's session epoch when it was issued: signing out moves the
user's epoch on, which ends the session on the server, not only in the browser that signed out. The CSRF
token is an HMAC of the session's nonce, so a form rendered for one session is refused in another, and a
page from another site cannot know it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

COOKIE = "callbot_console"
MAX_AGE_SECONDS = 12 * 3600


@dataclass(frozen=True)
class ConsoleSession:
    user_id: int
    epoch: int
    issued: int  # unix seconds
    nonce: str


class SessionSigner:
    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, user_id: int, epoch: int, now: datetime) -> str:
        body = f"{user_id}.{epoch}.{int(now.timestamp())}.{secrets.token_hex(16)}"
        return f"{body}.{self._sign(body)}"

    def read(self, cookie: str | None, now: datetime) -> ConsoleSession | None:
        """The session in `cookie`, or None when it is missing, forged or expired."""
        if not cookie or cookie.count(".") != 4:
            return None
        body, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        user_id, epoch, issued, nonce = body.split(".")
        if not (user_id.isdigit() and epoch.isdigit() and issued.isdigit()):
            return None
        if not 0 <= now.timestamp() - int(issued) <= MAX_AGE_SECONDS:
            return None
        return ConsoleSession(int(user_id), int(epoch), int(issued), nonce)

    def csrf_token(self, session: ConsoleSession) -> str:
        return self._sign(f"csrf.{session.nonce}")

    def check_csrf(self, session: ConsoleSession, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session))
