"""A line's SIP trunk settings are checked when the line is saved, with a message per field."""

from __future__ import annotations

from typing import Any

import pytest

from callbot.errors import ValidationFailed
from callbot.telephony.gateway import DialRequest, DialStatus
from callbot.telephony.sip.gateway import SipGateway
from callbot.telephony.sip.trunk import TrunkSettings


def _problems(settings: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        SipGateway().check_line_settings(settings)
    return dict(caught.value.problems)


def test_a_full_trunk_is_accepted_and_numbers_are_rewritten() -> None:
    trunk = TrunkSettings.parse(
        {
            "sip": {
                "host": "trunk.example.com",
                "port": 5080,
                "username": "02150001234",
                "password": "pw",
                "realm": "example.com",
                "from_user": "02150001234",
                "asserted_identity": True,
                "dial_prefix": "9",
                "codecs": ["PCMU"],
                "public_ip": "203.0.113.7",
                "rtp_port_min": 20000,
                "rtp_port_max": 20100,
            }
        }
    )
    assert trunk.dial_number("+8613800138000") == "98613800138000"
    assert trunk.codecs == ("PCMU",) and trunk.port == 5080


def test_missing_settings_are_named() -> None:
    assert _problems({}) == {"settings.sip": "a line on the sip gateway needs its trunk settings"}


def test_every_bad_field_is_named() -> None:
    problems = _problems(
        {
            "sip": {
                "host": "bad host!",
                "port": 70000,
                "transport": "tls",
                "username": "robot",
                "register": "yes",
                "codecs": ["G729"],
                "public_ip": "not-an-ip",
                "rtp_port_min": 30000,
                "rtp_port_max": 20000,
                "dial_prefix": "abc",
                "asserted_identity": "yes",
                "colour": "blue",
            }
        }
    )
    assert set(problems) == {
        "settings.sip.host",
        "settings.sip.port",
        "settings.sip.transport",
        "settings.sip.password",
        "settings.sip.register",
        "settings.sip.codecs",
        "settings.sip.public_ip",
        "settings.sip.rtp_port_min",
        "settings.sip.dial_prefix",
        "settings.sip.asserted_identity",
        "settings.sip.colour",
    }
    assert problems["settings.sip.password"] == "username and password go together"


async def test_a_stored_password_without_the_key_is_a_system_error_not_an_unauthenticated_call() -> None:
    settings = {"sip": {"host": "127.0.0.1", "username": "robot", "password_encrypted": "gAAAA-opaque"}}
    outcome = await SipGateway().dial(DialRequest("c1", "02150001234", "13800138000", line_settings=settings))
    assert outcome.status is DialStatus.SYSTEM_ERROR and "no key" in outcome.reason
    broken = await SipGateway().dial(DialRequest("c2", "02150001234", "13800138000", line_settings={"sip": {}}))
    assert broken.status is DialStatus.SYSTEM_ERROR and broken.reason.startswith("bad line settings: settings.sip.host")
