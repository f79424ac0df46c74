"""Settings of the Digelao dialect (spec digelao-v6), with the spec's defaults. The composition root builds
one; nothing here reads the environment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DigelaoOptions:
    """How the dialect is served. Passed by the composition root; the dialect reads no environment."""

    single_session: bool = True  # one live api_key per user; False allows several
    password_login: bool = False  # `from: 2` username/password logins
    public_url: str = ""  # base of recording links, e.g. https://ai.example.com
    key_lifetime: int = 7200  # api_key lifetime in seconds
    timestamp_window: int = 300  # login timestamp tolerance, either direction
    recording_key: str = ""  # HMAC key of recording links; "" leaves them unsigned
    recording_ttl: int = 86400  # recording links expire after this many seconds
    max_page_size: int = 10000
    max_import_rows: int = 10000
