"""Settings of the Yiwise dialect (spec yiwise-v1), with the spec's defaults. The composition root builds one;
nothing here reads the environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

TranscriptKey = Literal["robotCallDetailList", "callDetailList", "both"]


@dataclass(frozen=True)
class YiwiseOptions:
    # §3: answer HTTP 200 with the error in `code` (False) or mirror `code` in the HTTP status (True).
    mirror_http_status: bool = False
    # §2.3 step 5: reject timestamps further than this from the server clock; 0 turns the check off.
    timestamp_window_minutes: int = 15
    # §2.3 step 6: a signature signs each request once; the same signature on other requests is accepted
    # this long after its first use (the 2022 demo signs once per run). Needs the window above on.
    signature_reuse_seconds: int = 60
    # §8.10: fill `callDetailList` in call-record list rows (the seed sends null).
    list_includes_transcript: bool = False
    # §9.1: the transcript key of ROBOT_CALL_RECORD callbacks.
    callback_transcript_key: TranscriptKey = "robotCallDetailList"
    # §9.1: add `callDetailId`, `dialogFlowId` and `properties` to ROBOT_CALL_RECORD callbacks.
    callback_2019_fields: bool = False
    # Base of absolute recording URLs, e.g. "https://callbot.example.com" (no trailing slash needed).
    public_url: str = ""
    # The expiring token of a recording URL: (record id, channel "full" | "customer") -> token.
    # None: URLs carry no token.
    recording_token: Callable[[int, str], str] | None = None
