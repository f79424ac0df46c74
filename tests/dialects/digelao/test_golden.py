"""Golden tests: the spec's sign and url vectors, parameter parsing, and the PHP json_encode emulation."""

from __future__ import annotations

import pytest

from callbot.api.dialects.digelao.auth import (
    BadRequestBody,
    login_sign,
    parse_json_object,
    parse_request,
    php_json,
    url_candidates,
    url_check,
    url_matches,
)
from dialects.digelao.client import md5, php_json_encode, raw_json_encode, url_of


@pytest.mark.parametrize(
    ("access_id", "secret", "timestamp", "sign"),
    [
        (
            "4c2f8e1a9b7d3c5e0f6a8b2d4e1c7a93",
            "d81e5b3f0a9c2e7b4f6d1a8c3e5b9f20",
            "2024-07-12 10:30:00",
            "260c75f81b69593fa4cbdebaa461ae8c",
        ),
        (
            "7a1c3e5f9b2d4f6a8c0e1b3d5f7a9c2e",
            "0f9e8d7c6b5a49382716a5b4c3d2e1f0",
            "2024-07-12 23:58:41",
            "840aa58094525f67bc2885fbe16ce295",
        ),
    ],
    ids=["L1", "L2"],
)
def test_login_sign_vectors(access_id: str, secret: str, timestamp: str, sign: str) -> None:
    assert login_sign(access_id, secret, timestamp) == sign
    assert md5(access_id + secret + timestamp) == sign


U1 = (
    '{"user_sn":"SYSUSER|5a1f0c9e3b7d4e2f8a6c1b0d9e8f7a6b","api_key":"Tq7Lm2Xz","open_callback":"1",'
    '"callback_url":"https://crm.example.com/callbot/push"}'
)
U2 = (
    '{"user_sn":"SYSUSER|3e9d1c7a5b2f4d6e8a0c1e3f5a7b9d2c","api_key":"Hk4Rw9Pd","pageIndex":0,"pageSize":20,'
    '"start_create_at":"2024-07-12 00:00:00","end_create_at":"2024-07-13 00:00:00","status_search":"status",'
    '"status":"A,B","namephone":"张三"}'
)


def test_url_vector_u1_query_string() -> None:
    params = parse_request(
        "GET",
        "",
        b"",
        "user_sn=SYSUSER%7C5a1f0c9e3b7d4e2f8a6c1b0d9e8f7a6b&api_key=Tq7Lm2Xz&open_callback=1"
        "&callback_url=https%3A%2F%2Fcrm.example.com%2Fcallbot%2Fpush",
    )
    assert php_json(params) == (
        '{"user_sn":"SYSUSER|5a1f0c9e3b7d4e2f8a6c1b0d9e8f7a6b","api_key":"Tq7Lm2Xz","open_callback":"1",'
        '"callback_url":"https:\\/\\/crm.example.com\\/callbot\\/push"}'
    )
    assert url_check(params) == "3fa0e341"
    assert url_check(params, escape_slash=False) == "c19cc951"
    for url in ("3fa0e341", "c19cc951", "3FA0E341"):
        assert url_matches({**params, "url": url}, url)
    assert not url_matches(params, "3fa0e342")


def test_url_vector_u2_json_numbers_stay_numbers() -> None:
    params = parse_json_object(U2)
    assert '"namephone":"\\u5f20\\u4e09"' in php_json(params)
    assert '"pageIndex":0,"pageSize":20' in php_json(params)
    assert set(url_candidates(params)) == {"afc73c55", "b5f08f62"}
    assert url_matches(params, "afc73c55") and url_matches(params, "b5f08f62")


def test_the_spec_client_agrees_with_the_vectors() -> None:
    u1 = parse_json_object(U1)
    assert url_of(dict(u1)) == "3fa0e341"
    assert url_of(dict(u1), raw_json_encode) == "c19cc951"
    u2 = parse_json_object(U2)
    assert url_of({k: int(v) if k.startswith("page") else v for k, v in u2.items()}, php_json_encode) == "afc73c55"


def test_numbers_keep_their_text_and_order_is_the_request_order() -> None:
    params = parse_json_object('{"b":1.50,"a":[1,{"z":true,"y":null}],"c":-0e1}')
    assert list(params) == ["b", "a", "c"]
    assert php_json(params) == '{"b":1.50,"a":[1,{"z":true,"y":null}],"c":-0e1}'
    # All four escape combinations, including a character above U+FFFF (a surrogate pair in PHP).
    value = {"u": "a/😀"}
    assert php_json(value) == '{"u":"a\\/\\ud83d\\ude00"}'
    assert php_json(value, escape_slash=False, escape_unicode=False) == '{"u":"a/😀"}'


def test_body_keys_first_then_new_query_keys() -> None:
    params = parse_request("POST", "application/json", b'{"b":"1","a":"2"}', "a=9&c=3&c=4")
    assert list(params.items()) == [("b", "1"), ("a", "2"), ("c", "4")]
    form = parse_request("POST", "application/x-www-form-urlencoded; charset=utf-8", b"x=1&y=%E5%BC%A0", "")
    assert form == {"x": "1", "y": "张"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b"[1,2]"),
        ("application/json", b'{"a":NaN}'),
        ("application/x-www-form-urlencoded", b"\xff\xfe"),
        ("application/xml", b"<a/>"),
    ],
)
def test_unparseable_bodies(content_type: str, body: bytes) -> None:
    with pytest.raises(BadRequestBody):
        parse_request("POST", content_type, body, "")
