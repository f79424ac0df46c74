"""Request dependencies of the native API: the transaction (committed at the edge) and the caller's tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from callbot.credential import service as credential_service
from callbot.errors import Unauthorized
from callbot.kit.db import Store, Tx
from callbot.kit.paging import PageRequest
from callbot.models import Tenant


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_tx(request: Request) -> AsyncIterator[Tx]:
    """One transaction per request: committed when the endpoint returns, rolled back when it raises."""
    async with get_store(request).transaction() as tx:
        yield tx


_bearer = HTTPBearer(auto_error=False, description="A native API token (`callbot credential create --kind token`)")


# scope="function": the transaction commits before the response is sent, so a client that gets a 2xx
# finds the change there on its next request (FastAPI's default would commit after the response).
_tx = Depends(get_tx, scope="function")


async def get_tenant(
    tx: Annotated[Tx, _tx],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Tenant:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send an Authorization: Bearer <token> header")
    tenant, _ = await credential_service.authenticate_token(tx, credentials.credentials)
    return tenant


def get_page(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    size: Annotated[int, Query(ge=1, le=1000, description="rows per page")] = 20,
) -> PageRequest:
    return PageRequest(page=page, size=size)


WriteTx = Annotated[Tx, _tx]
CurrentTenant = Annotated[Tenant, Depends(get_tenant)]
Paging = Annotated[PageRequest, Depends(get_page)]
