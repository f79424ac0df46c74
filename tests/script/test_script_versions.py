"""Scripts and their versions: a body stored again under the same name is a new version; drafts wait for
approval; a tenant sees only its own scripts."""

from __future__ import annotations

import pytest

from callbot.kit.db import Store
from callbot.models.enums import ScriptStatus
from callbot.script import service as script_service

from factories import SCRIPT, make_account


async def test_the_same_name_makes_a_new_version_and_a_draft_waits_for_approval(store: Store) -> None:
    account = await make_account(store)  # version 1 of the script, approved
    async with store.transaction() as tx:
        draft = await script_service.add_script(tx, account.tenant, SCRIPT, draft=True)
        assert draft.script.id == account.script_id and draft.version.version == 2
        assert draft.version.status is ScriptStatus.DRAFT
        version, _ = await script_service.approved_document(tx, draft.script)
        assert version == 1  # new calls still run the approved version
        await script_service.approve_version(tx, account.tenant, draft.script.id, 2)
        version, document = await script_service.approved_document(tx, draft.script)
        assert version == 2 and document.name == draft.document.name
        versions = await script_service.list_versions(tx, draft.script)
        assert [(v.version, v.status) for v in versions] == [(1, ScriptStatus.APPROVED), (2, ScriptStatus.APPROVED)]


async def test_a_tenant_sees_only_its_own_scripts(store: Store) -> None:
    mine = await make_account(store, "甲公司")
    theirs = await make_account(store, "乙公司")
    async with store.transaction() as tx:
        assert [s.id for s in await script_service.list_scripts(tx, theirs.tenant)] == [theirs.script_id]
        with pytest.raises(script_service.ScriptNotFound, match=f"no script with id {mine.script_id}"):
            await script_service.get_script(tx, theirs.tenant, mine.script_id)
        script = await script_service.get_script(tx, mine.tenant, mine.script_id)
        with pytest.raises(script_service.ScriptNotFound, match="has no version 9"):
            await script_service.get_version(tx, script, 9)
