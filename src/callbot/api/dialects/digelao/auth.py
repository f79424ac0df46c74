"""Digelao request parsing and the two checks it signs with (pure code, no I/O).

- login `sign` = md5(api_access_id + api_access_secret + timestamp), 32 hex;
- the anti-hijack `url` = md5hex(compact JSON of every other parameter, in request order)[1:9], where the
  JSON is PHP's `json_encode` (`/` written `\\/`, non-ASCII as `\\uXXXX`). Callers in other languages get
  the other three combinations of those two escapes, so the server accepts all four.

Parameters keep the order and the JSON type they arrived with; JSON numbers keep their original text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

Params = dict[str, Any]


class RawNumber(str):
    """A JSON number exactly as written (`1.50` stays `1.50`); encodes back without quotes."""

    __slots__ = ()


class BadRequestBody(ValueError):
    """The body cannot be parsed for its content type."""


def login_sign(api_access_id: str, api_access_secret: str, timestamp: str) -> str:
    return hashlib.md5((api_access_id + api_access_secret + timestamp).encode()).hexdigest()


def sign_matches(given: str, api_access_id: str, api_access_secret: str, timestamp: str) -> bool:
    expected = login_sign(api_access_id, api_access_secret, timestamp)
    return hmac.compare_digest(given.strip().lower().encode(), expected.encode())


def php_json(value: Any, *, escape_slash: bool = True, escape_unicode: bool = True) -> str:
    """Compact JSON as PHP's json_encode writes it (defaults), or with either escape turned off."""
    if isinstance(value, RawNumber):
        return str.__str__(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=escape_unicode)
        return text.replace("/", "\\/") if escape_slash else text
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        items = (
            php_json(str(k), escape_slash=escape_slash, escape_unicode=escape_unicode)
            + ":"
            + php_json(v, escape_slash=escape_slash, escape_unicode=escape_unicode)
            for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return (
            "[" + ",".join(php_json(v, escape_slash=escape_slash, escape_unicode=escape_unicode) for v in value) + "]"
        )
    raise TypeError(f"cannot encode {type(value).__name__}")


def url_check(params: Params, *, escape_slash: bool = True, escape_unicode: bool = True) -> str:
    """The `url` value of `params` (every parameter except `url`, in order)."""
    body = {k: v for k, v in params.items() if k != "url"}
    encoded = php_json(body, escape_slash=escape_slash, escape_unicode=escape_unicode)
    return hashlib.md5(encoded.encode()).hexdigest()[1:9]


def url_candidates(params: Params) -> list[str]:
    """The four accepted `url` values: canonical PHP first, then the other escape combinations."""
    return [
        url_check(params, escape_slash=slash, escape_unicode=uni)
        for slash, uni in ((True, True), (False, True), (True, False), (False, False))
    ]


def url_matches(params: Params, given: str) -> bool:
    given_bytes = given.strip().lower().encode()
    matched = False
    for candidate in url_candidates(params):
        # Every candidate is compared, so the time taken does not say which one matched.
        matched |= hmac.compare_digest(given_bytes, candidate.encode())
    return matched


def _reject_constant(name: str) -> Any:
    raise BadRequestBody(f"{name} is not JSON")


def parse_json_object(text: str | bytes) -> Params:
    """A JSON object, keys in order, numbers as RawNumber. Raises BadRequestBody."""
    try:
        value = json.loads(text, parse_int=RawNumber, parse_float=RawNumber, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BadRequestBody(f"the body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BadRequestBody("the JSON body must be an object")
    return value


def parse_form(text: str) -> Params:
    """A query string or form body. A repeated key keeps its first position and its last value, as PHP does."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestBody(f"the form is not valid: {exc}") from exc
    params: Params = {}
    for key, value in pairs:
        params[key] = value
    return params


def merge(body: Params, query: Iterable[tuple[str, Any]]) -> Params:
    """Body keys in body order, then query keys not already in the body, in query order."""
    merged = dict(body)
    for key, value in query:
        if key not in merged:
            merged[key] = value
    return merged


def parse_request(method: str, content_type: str, body: bytes, query_string: str) -> Params:
    """The ordered parameters of a request (§1): JSON or form body merged with the query; GET: the query."""
    query = parse_form(query_string)
    if method == "GET" or not body.strip():
        return query
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequestBody("the form body is not UTF-8") from exc
        return merge(parse_form(text), query.items())
    if kind in ("application/json", "text/json", "") or kind.endswith("+json") or body.lstrip()[:1] == b"{":
        return merge(parse_json_object(body), query.items())
    raise BadRequestBody(f"unsupported content type {kind!r}")
