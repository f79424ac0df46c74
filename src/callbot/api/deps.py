"""Request dependencies of the native API: the transaction (committed at the edge) and the caller's tenant."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from callbot.credential import service as credential_service
from callbot.errors import Unauthorized, ValidationFailed
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


def _nul_field(value: Any, field: str) -> str | None:
    """The first field whose text (or key) holds a NUL character, or None."""
    if isinstance(value, str):
        return field if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_field(key, field) or _nul_field(item, f"{field}.{key}" if field else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_field(item, f"{field}.{i}" if field else str(i))
            if found is not None:
                return found
    return None


async def refuse_nul(request: Request) -> None:
    """No store keeps a NUL character (PostgreSQL refuses it in text): a parameter or body field holding one
    is a 422 naming it, not a database error."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if "\x00" in name or "\x00" in str(value):
            raise ValidationFailed("a parameter holds a NUL character", [(name, "must not contain NUL characters")])
    raw = await request.body()  # already read and parsed by the endpoint's body parameter; cached
    if b"\\u0000" not in raw:
        return
    try:
        field = _nul_field(json.loads(raw), "")
    except (ValueError, RecursionError):
        return  # not JSON: the endpoint's own parsing reports it
    if field is not None:
        problem = (field or "body", "must not contain NUL characters")
        raise ValidationFailed("a field holds a NUL character", [problem])


WriteTx = Annotated[Tx, _tx]
CurrentTenant = Annotated[Tenant, Depends(get_tenant)]
Paging = Annotated[PageRequest, Depends(get_page)]
