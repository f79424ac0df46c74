"""A SIP line: its trunk settings are checked when saved, its password is stored encrypted and never
shown back, and the gateway dials with the decrypted one."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from callbot.kit.db import Store
from callbot.models import Line
from callbot.telephony.sip.trunk import TrunkSettings

from factories import make_account

TRUNK = {"host": "127.0.0.1", "port": 5080, "username": "02150001234", "password": "trunk-pw"}


async def test_a_bad_trunk_is_refused_when_the_line_is_saved(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    body = {"phone": "02150001234", "gateway": "sip", "settings": {"sip": {"host": "", "port": 0, "codecs": ["G729"]}}}
    refused = await client.post("/api/v1/lines", json=body, headers=account.headers)
    assert refused.status_code == 422
    fields = {d["field"] for d in refused.json()["error"]["details"]}
    assert fields == {"settings.sip.host", "settings.sip.port", "settings.sip.codecs"}
    missing = await client.post(
        "/api/v1/lines", json={"phone": "02150001234", "gateway": "sip"}, headers=account.headers
    )
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "settings.sip"


async def test_the_trunk_password_is_encrypted_and_never_returned(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    added = await client.post(
        "/api/v1/lines",
        json={"phone": "02150001234", "gateway": "sip", "settings": {"sip": TRUNK}},
        headers=account.headers,
    )
    assert added.status_code == 201, added.text
    shown = added.json()["settings"]["sip"]
    assert "password" not in shown and "password_encrypted" not in shown and shown["password_set"] is True
    assert "trunk-pw" not in added.text
    listed = await client.get("/api/v1/lines", headers=account.headers)
    assert "trunk-pw" not in listed.text and "password_encrypted" not in listed.text
    async with store.transaction() as tx:
        line = await tx.session.scalar(select(Line).where(Line.id == added.json()["id"]))
        assert line is not None
        stored = line.settings["sip"]
        assert "password" not in stored and stored["password_encrypted"] != "trunk-pw"
        trunk = TrunkSettings.parse(line.settings, decrypt=tx.secrets.decrypt)
        assert trunk.password == "trunk-pw"

    # A change that leaves the password out keeps it; one that sends the stored form is refused.
    kept = await client.patch(
        f"/api/v1/lines/{line.id}",
        json={"settings": {"sip": {**TRUNK, "password": None} | {"port": 5090}}},
        headers=account.headers,
    )
    assert kept.status_code == 422  # a null password is not "left out"
    changed = {k: v for k, v in TRUNK.items() if k != "password"} | {"port": 5090}
    kept = await client.patch(f"/api/v1/lines/{line.id}", json={"settings": {"sip": changed}}, headers=account.headers)
    assert kept.status_code == 200 and kept.json()["settings"]["sip"]["password_set"] is True
    forged = await client.patch(
        f"/api/v1/lines/{line.id}",
        json={"settings": {"sip": {**changed, "password_encrypted": "x"}}},
        headers=account.headers,
    )
    assert forged.status_code == 422
    assert forged.json()["error"]["details"][0]["field"] == "settings.sip.password_encrypted"
