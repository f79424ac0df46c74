"""Digest authentication: the RFC's own test vectors."""

from __future__ import annotations

import hashlib

import pytest

from callbot.telephony.sip.auth import Challenge, DigestCredentials, authorization


def test_rfc_2617_example() -> None:
    # RFC 2617 §3.5: Mufasa / "Circle Of Life", GET /dir/index.html.
    challenge = Challenge.parse(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    value = authorization(
        challenge, DigestCredentials("Mufasa", "Circle Of Life"), "GET", "/dir/index.html", cnonce="0a4f113b"
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert "qop=auth, nc=00000001" in value and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value


def test_rfc_7616_sha256_example() -> None:
    # RFC 7616 §3.9.1, SHA-256.
    challenge = Challenge.parse(
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    value = authorization(
        challenge,
        DigestCredentials("Mufasa", "Circle of Life"),
        "GET",
        "/dir/index.html",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in value


def test_sip_style_challenge_without_qop() -> None:
    challenge = Challenge.parse('Digest realm="sipp", nonce="abc", algorithm=MD5')
    value = authorization(challenge, DigestCredentials("robot", "secret"), "INVITE", "sip:1@127.0.0.1")
    # RFC 2069 form: response = MD5(HA1:nonce:HA2)
    ha1 = hashlib.md5(b"robot:sipp:secret").hexdigest()
    ha2 = hashlib.md5(b"INVITE:sip:1@127.0.0.1").hexdigest()
    expected = hashlib.md5(f"{ha1}:abc:{ha2}".encode()).hexdigest()
    assert f'response="{expected}"' in value and "qop" not in value


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('Basic realm="x"', "not a Digest"),
        ('Digest realm="x"', "without realm or nonce"),
        ('Digest realm="x", nonce="1", algorithm=SHA-512', "unsupported"),
    ],
)
def test_bad_challenges(header: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Challenge.parse(header)
