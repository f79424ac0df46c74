"""Yiwise's 2023 callback protocol (the public callbackdemo): the 2018 payloads AES-encrypted in an XML body,
signed with the receiver's token (`msg_signature`, `timestamp`, `nonce` in the query), after a verification
handshake. The receiver below is written here from the demo's description, with its own decryption (the
`cryptography` package directly), and behaves as the demo's Spring receiver does: the framework decodes the
query once and the demo URL-decodes `echostr` and the XML body once more."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest
from aiohttp import web
from campaign_helpers import make_campaign, scripted, sim_dialer
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import select

from callbot.callback import outbox
from callbot.callback import service as callback_service
from callbot.callback.delivery import Deliverer
from callbot.kit import msgcrypt
from callbot.kit.db import Store
from callbot.models import OutboxEvent
from callbot.runtime import build_renderers
from callbot.task import service as task_service
from callbot.task.states import TaskAction

from factories import make_account

# The demo's own token and EncodingAESKey.
TOKEN = "AIGbuK3sOV"
AES_KEY = "INnZzJ/DPbUqqtU2ycEhzL8ewpsCRb9XqHBWHdDCknw"


def demo_sha1(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """SHA1.getSHA1: the four strings sorted, concatenated, SHA-1, lowercase hex."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def _cipher(aes_key: str) -> Cipher[modes.CBC]:
    key = base64.b64decode(aes_key + "=")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def demo_decrypt(aes_key: str, encrypted: str, receive_id: str = "") -> str:
    """WXBizMsgCrypt.decrypt: AES-CBC (IV = the key's first 16 bytes), drop the 1-32 pad bytes, skip the
    16 random characters, read the 4-byte big-endian length, the message, then the receive id."""
    decryptor = _cipher(aes_key).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    pad = plain[-1] if 1 <= plain[-1] <= 32 else 0
    plain = plain[: len(plain) - pad]
    (length,) = struct.unpack(">I", plain[16:20])
    assert plain[20 + length :].decode() == receive_id
    return plain[20 : 20 + length].decode("utf-8")


def demo_encrypt(aes_key: str, random16: str, text: str) -> str:
    """WXBizMsgCrypt.encrypt: random + length + text + receive id (""), padded to 32 with the pad length."""
    body = text.encode("utf-8")
    plain = random16.encode() + struct.pack(">I", len(body)) + body
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = _cipher(aes_key).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


@dataclass
class DemoReceiver:
    """CallbackDemo: GET verifies the URL and answers the decrypted echostr; POST verifies, decrypts and
    answers `success`. A wrong signature is an error (HTTP 500), as the demo throws."""

    token: str = TOKEN
    aes_key: str = AES_KEY
    handshakes: list[str] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def verify(self, request: web.Request) -> web.Response:
        query = request.query  # decoded once by the framework
        signature = unquote_plus(query["msg_signature"])
        echostr = unquote_plus(query["echostr"])  # the demo's own URLDecoder.decode
        if demo_sha1(self.token, query["timestamp"], query["nonce"], echostr) != signature:
            return web.Response(status=500, text="ValidateSignatureError")
        plain = demo_decrypt(self.aes_key, echostr)
        self.handshakes.append(plain)
        return web.Response(text=plain)

    async def receive(self, request: web.Request) -> web.Response:
        query = request.query
        xml = unquote_plus(await request.text())  # the demo URL-decodes the whole body
        encrypted = ET.fromstring(xml).findtext("Encrypt") or ""
        if demo_sha1(self.token, query["timestamp"], query["nonce"], encrypted) != query["msg_signature"]:
            return web.Response(status=500, text="ValidateSignatureError")
        self.queries.append(dict(query))
        self.messages.append(json.loads(demo_decrypt(self.aes_key, encrypted)))
        return web.Response(text="success")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/callback", self.verify)
        app.router.add_post("/callback", self.receive)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/callback"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[DemoReceiver]:
    server = DemoReceiver()
    await server.start()
    yield server
    await server.stop()


def test_encryption_matches_the_demo_scheme() -> None:
    crypt = msgcrypt.MsgCrypt(TOKEN, AES_KEY)
    message = '{"dataType":"ROBOT_CALL_JOB","data":{"robotCallJobId":1052,"status":"COMPLETED"}}' + "，完成" * 20
    random16 = "aB3dE5fG7hJ9kL1m"
    encrypted = crypt.encrypt(message, random16)
    assert encrypted == demo_encrypt(AES_KEY, random16, message)  # byte for byte, with a fixed random part
    assert demo_decrypt(AES_KEY, crypt.encrypt(message)) == message
    assert (
        crypt.decrypt(demo_encrypt(AES_KEY, "0123456789abcdef", "验证接口验签解密是否正确"))
        == "验证接口验签解密是否正确"
    )
    assert crypt.sign("1678759048896", "8214825565", encrypted) == demo_sha1(
        TOKEN, "1678759048896", "8214825565", encrypted
    )
    for length in range(0, 70):  # every padding length, 1 to 32
        assert demo_decrypt(AES_KEY, crypt.encrypt("x" * length)) == "x" * length


@pytest.mark.parametrize(
    ("key", "problem"),
    [(AES_KEY[:-1], "43 characters"), ("!" * 43, "not base64"), ("", "43 characters")],
)
def test_a_bad_aes_key_is_named(key: str, problem: str) -> None:
    with pytest.raises(msgcrypt.MsgCryptError, match=problem):
        msgcrypt.MsgCrypt(TOKEN, key)


async def _put(client: httpx.AsyncClient, bearer: str, **body: object) -> httpx.Response:
    return await client.put("/api/v1/callback-settings", json=body, headers={"Authorization": f"Bearer {bearer}"})


async def test_saving_encrypted_settings_passes_the_handshake(
    client: httpx.AsyncClient, store: Store, receiver: DemoReceiver
) -> None:
    account = await make_account(store)
    answer = await _put(client, account.token, url=receiver.url, dialect="yiwise2023", token=TOKEN, aes_key=AES_KEY)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["dialect"], answer.json()["token"]) == ("yiwise2023", TOKEN)
    assert len(receiver.handshakes) == 1 and len(receiver.handshakes[0]) == 16
    # Turning callbacks off and on changes neither where nor how: no new handshake. A new URL has one.
    assert (await _put(client, account.token, enabled=False)).status_code == 200
    assert len(receiver.handshakes) == 1
    assert (await _put(client, account.token, task_url=receiver.url + "?kind=task")).status_code == 200
    assert len(receiver.handshakes) == 3  # url and task_url, each verified


async def test_a_receiver_that_fails_the_handshake_is_not_saved(
    client: httpx.AsyncClient, store: Store, receiver: DemoReceiver
) -> None:
    account = await make_account(store)
    other_key = msgcrypt.new_key()
    answer = await _put(client, account.token, url=receiver.url, dialect="yiwise2023", token=TOKEN, aes_key=other_key)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["details"][0]["field"] == "url" and "HTTP 500" in error["details"][0]["message"]
    assert (await client.get("/api/v1/callback-settings", headers=account.headers)).json()["dialect"] == "native"
    closed = await _put(
        client, account.token, url="http://127.0.0.1:9/callback", dialect="yiwise2023", token=TOKEN, aes_key=AES_KEY
    )
    assert closed.status_code == 422 and "could not be reached" in closed.json()["error"]["details"][0]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"token": TOKEN}, "aes_key"),
        ({"aes_key": AES_KEY}, "token"),
        ({"token": TOKEN, "aes_key": AES_KEY[:40]}, "aes_key"),
        ({"token": "not a token!", "aes_key": AES_KEY}, "token"),
    ],
)
async def test_encrypted_settings_need_a_token_and_a_key(
    client: httpx.AsyncClient, store: Store, body: dict[str, str], field: str
) -> None:
    account = await make_account(store)
    answer = await _put(client, account.token, url="https://crm.example.com/cb", dialect="yiwise2023", **body)
    assert answer.status_code == 422
    assert [d["field"] for d in answer.json()["error"]["details"]] == [field]


async def test_every_call_reaches_the_demo_receiver_encrypted(store: Store, receiver: DemoReceiver) -> None:
    campaign = await make_campaign(
        store, [scripted("13900000001", replies="嗯你说|可以|分十二期吧|好的"), scripted("13900000002", result="BUSY")]
    )
    async with store.transaction() as tx:
        changes = callback_service.CallbackChanges(url=receiver.url, dialect="yiwise2023", token=TOKEN, aes_key=AES_KEY)
        await callback_service.update_settings(tx, campaign.tenant, changes)
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.START)
    await sim_dialer(store).run_until_idle()
    async with Deliverer(store, build_renderers()) as deliverer:
        while await deliverer.deliver_due():
            pass
    kinds = sorted(m["dataType"] for m in receiver.messages)
    assert kinds == ["ROBOT_CALL_JOB", "ROBOT_CALL_RECORD", "ROBOT_CALL_RECORD"]
    answered = next(m["data"] for m in receiver.messages if m["data"].get("resultStatus") == "ANSWERED")
    assert answered["calledPhoneNumber"] == "13900000001" and answered["robotCallDetailList"][0]["type"] == "ROBOT"
    assert all(len(q["nonce"]) == 10 and q["timestamp"].isdigit() for q in receiver.queries)
    async with store.transaction() as tx:
        events = list(await tx.session.scalars(select(OutboxEvent)))
    assert {e.status for e in events} == {outbox.DELIVERED}
