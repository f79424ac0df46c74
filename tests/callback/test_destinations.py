"""Where callbacks may go (SSRF): public destinations only, refused when saved and again, on the resolved
address, when sent; an operator allows specific hosts or ranges; the delivery log keeps only a short,
clean excerpt of a reply."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from sqlalchemy import select

from callbot.app import create_app
from callbot.callback import handshake, outbox
from callbot.callback import service as callback_service
from callbot.callback.delivery import AiohttpPoster, Deliverer, Delivery
from callbot.callback.receiver import CallbackReceiver
from callbot.errors import ValidationFailed
from callbot.kit import msgcrypt
from callbot.kit.db import Store
from callbot.kit.egress import EgressPolicy, ForbiddenDestination
from callbot.models import DeliveryAttempt, OutboxEvent
from callbot.runtime import build_renderers

from factories import make_account, make_task

REFUSED = [
    "http://127.0.0.1:9000/cb",
    "http://localhost/cb",
    "http://LOCALHOST./cb",
    "http://api.localhost/cb",
    "http://[::1]/cb",
    "http://0.0.0.0/cb",
    "http://2130706433/cb",  # 127.0.0.1 as one decimal number
    "http://0x7f.1/cb",
    "http://017700000001/cb",
    "http://127.1/cb",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.1.2.3/cb",
    "http://172.16.0.1/cb",
    "http://192.168.1.10/cb",
    "http://100.64.0.1/cb",
    "http://[::ffff:127.0.0.1]/cb",
    "http://[::ffff:7f00:1]/cb",
    "http://[64:ff9b::a9fe:a9fe]/cb",  # NAT64 of 169.254.169.254
    "http://[fe80::1]/cb",
    "http://[fd00::1]/cb",
    "http://224.0.0.1/cb",
    "http://240.0.0.1/cb",
    "https://user:secret@crm.example.com/cb",
    "https://crm.example.com@127.0.0.1/cb",
    "ftp://crm.example.com/cb",
    "file:///etc/passwd",
    "http:///cb",
]


@pytest.mark.parametrize("url", REFUSED)
def test_the_default_policy_refuses_what_is_not_a_public_destination(url: str) -> None:
    with pytest.raises(ForbiddenDestination):
        EgressPolicy().check_url(url)


@pytest.mark.parametrize("url", ["https://crm.example.com/callbot/push", "http://93.184.216.34:8080/cb"])
def test_public_destinations_pass(url: str) -> None:
    assert EgressPolicy().check_url(url) == url


def test_an_operator_allows_hosts_and_ranges() -> None:
    policy = EgressPolicy.parse(" 127.0.0.1, 10.20.0.0/16 ,crm.internal,")
    for url in ("http://127.0.0.1:9000/cb", "http://localhost:9000/cb", "http://10.20.3.4/cb", "http://crm.internal/"):
        assert policy.check_url(url) == url
    policy.check_address("crm.internal", "10.99.0.1")  # an allowed name may resolve anywhere
    for url in ("http://10.21.0.1/cb", "http://169.254.169.254/", "http://192.168.1.1/"):
        with pytest.raises(ForbiddenDestination):
            policy.check_url(url)
    with pytest.raises(ForbiddenDestination, match="CALLBOT_CALLBACK_ALLOW"):
        policy.check_address("hooks.example.com", "192.168.0.7")  # a public name resolving inside


@pytest.mark.parametrize("setting", ["10.0.0.0/33", "crm internal", "http://10.0.0.1/"])
def test_a_bad_allow_setting_is_named(setting: str) -> None:
    with pytest.raises(ValueError, match=f"CALLBOT_CALLBACK_ALLOW: '{setting}'"):
        EgressPolicy.parse(setting)


def strict(store: Store) -> Store:
    """The same database as a production install sees it: nothing but public destinations allowed."""
    return Store(store.engine, store.clock, store.secrets, EgressPolicy())


async def test_saving_a_private_callback_url_is_a_422_naming_the_field(store: Store) -> None:
    account = await make_account(store)
    app = create_app(strict(store))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://callbot.test") as client:
        for field, url in (("url", "http://169.254.169.254/latest"), ("task_url", "http://2130706433:9000/")):
            response = await client.put("/api/v1/callback-settings", json={field: url}, headers=account.headers)
            assert response.status_code == 422, response.text
            detail = response.json()["error"]["details"][0]
            assert detail["field"] == field and "CALLBOT_CALLBACK_ALLOW" in detail["message"]
        credentials = await client.put(
            "/api/v1/callback-settings", json={"url": "https://a:b@crm.example.com/"}, headers=account.headers
        )
        assert credentials.status_code == 422 and "credentials" in credentials.json()["error"]["details"][0]["message"]
        ok = await client.put(
            "/api/v1/callback-settings", json={"url": "https://crm.example.com/push"}, headers=account.headers
        )
        assert ok.status_code == 200


class RebindingDns(AbstractResolver):
    """A DNS that answers every name with one address: a receiver's name that was public when it was
    saved and now points at this machine."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [{"hostname": host, "host": self.address, "port": port, "family": family, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        return None


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    server = CallbackReceiver()
    await server.start()
    yield server
    await server.stop()


async def queue_event(store: Store, url: str) -> None:
    """A task event for a tenant whose callback URL is already stored (saved before it became forbidden)."""
    account = await make_account(store)
    task_id = await make_task(store, account)
    async with store.transaction() as tx:
        settings = await callback_service.get_settings(tx, account.tenant)
        settings.url, settings.task_url, settings.enabled = url, url, True
        await outbox.enqueue(tx, account.tenant.id, outbox.TASK_COMPLETED, {"task_id": task_id})


async def attempts(store: Store) -> list[DeliveryAttempt]:
    async with store.transaction() as tx:
        return list(await tx.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))


async def test_a_name_that_resolves_to_loopback_at_send_time_is_refused(
    store: Store, receiver: CallbackReceiver
) -> None:
    await queue_event(store, f"http://crm.example.com:{receiver.port}/callback")
    production = strict(store)
    deliverer = Deliverer(production, build_renderers(), AiohttpPoster(8, production.egress, RebindingDns("127.0.0.1")))
    assert await deliverer.deliver_due() == 1
    await deliverer.http.close()
    assert receiver.count == 0
    [attempt] = await attempts(store)
    assert attempt.status_code is None and "refused" in attempt.error and "loopback" in attempt.error
    async with store.transaction() as tx:
        event = await tx.session.scalar(select(OutboxEvent))
        assert event is not None and event.status == outbox.PENDING and event.attempts == 1
    # The same name and DNS reach the receiver once loopback is allowed: the refusal was the policy's.
    allowed = Store(store.engine, store.clock, store.secrets, EgressPolicy.parse("127.0.0.0/8"))
    async with store.transaction() as tx:
        event = await tx.session.scalar(select(OutboxEvent))
        assert event is not None
        event.next_attempt_at = tx.now()
    deliverer = Deliverer(allowed, build_renderers(), AiohttpPoster(8, allowed.egress, RebindingDns("127.0.0.1")))
    assert await deliverer.deliver_due() == 1
    await deliverer.http.close()
    assert receiver.count == 1


async def test_a_stored_loopback_address_is_refused_at_send_time(store: Store, receiver: CallbackReceiver) -> None:
    await queue_event(store, f"http://2130706433:{receiver.port}/callback")
    deliverer = Deliverer(strict(store), build_renderers())
    assert await deliverer.deliver_due() == 1
    await deliverer.http.close()
    assert receiver.count == 0
    [attempt] = await attempts(store)
    assert "refused" in attempt.error and "loopback" in attempt.error


async def test_the_delivery_log_keeps_a_short_clean_excerpt(store: Store, receiver: CallbackReceiver) -> None:
    receiver.status = 500
    receiver.body = b"<html>\r\n<title>internal</title>\x00\x1b[31m" + "机密".encode() * 1000
    await queue_event(store, receiver.url)
    deliverer = Deliverer(store, build_renderers())
    await deliverer.deliver_due()
    await deliverer.http.close()
    [attempt] = await attempts(store)
    assert attempt.status_code == 500
    assert attempt.response_excerpt.startswith("<html> <title>internal</title> [31m机密")
    assert len(attempt.response_excerpt) <= 100 and attempt.response_excerpt.isprintable()


async def test_the_yiwise2023_handshake_goes_only_where_callbacks_may(receiver: CallbackReceiver) -> None:
    """The handshake is a request to a tenant's URL too: the same policy judges it before it is sent."""
    crypt = msgcrypt.MsgCrypt("AIGbuK3sOV", "a" * 43)
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValidationFailed) as refused:
            await handshake.verify_receiver(
                f"{receiver.url}?from=test", crypt, timestamp="1", nonce="2", http=http, egress=EgressPolicy()
            )
    assert refused.value.problems[0][0] == "url"
    assert "127.0.0.1" in refused.value.problems[0][1]
    assert receiver.count == 0


class CountingPolicy(EgressPolicy):
    """The default policy, counting the URLs it judges."""

    def check_url(self, url: str) -> str:
        object.__setattr__(self, "judged", getattr(self, "judged", 0) + 1)
        return super().check_url(url)


async def test_the_poster_judges_each_url_once_and_keeps_refusing_a_refused_one(receiver: CallbackReceiver) -> None:
    policy = CountingPolicy.parse("127.0.0.1")
    poster = AiohttpPoster(8, policy)
    delivery = Delivery(receiver.url, b"{}", {"Content-Type": "application/json"}, lambda status, _body: status == 200)
    refused = Delivery("http://10.1.2.3/cb", b"{}", {}, lambda status, _body: status == 200)
    try:
        for _ in range(3):
            assert (await poster.post(delivery, 5.0))[0] == 200
            status, _body, error, _ms = await poster.post(refused, 5.0)
            assert status is None and error.startswith("refused: 10.1.2.3 is a private address")
    finally:
        await poster.close()
    assert receiver.count == 3
    assert getattr(policy, "judged", 0) == 2
