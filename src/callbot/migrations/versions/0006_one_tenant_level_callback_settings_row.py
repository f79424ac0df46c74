"""one tenant-level callback settings row

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 13:17:26.414791
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A tenant may already have two tenant-level rows (a concurrent first read made both): keep the
    # first, the one every read has preferred.
    op.execute(
        "DELETE FROM callback_settings WHERE user_id IS NULL AND id NOT IN "
        "(SELECT MIN(id) FROM callback_settings WHERE user_id IS NULL GROUP BY tenant_id)"
    )
    with op.batch_alter_table("callback_settings", schema=None) as batch_op:
        batch_op.create_index(
            "uq_callback_settings_tenant_row",
            ["tenant_id"],
            unique=True,
            postgresql_where=sa.text("user_id IS NULL"),
            sqlite_where=sa.text("user_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("callback_settings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_callback_settings_tenant_row",
            postgresql_where=sa.text("user_id IS NULL"),
            sqlite_where=sa.text("user_id IS NULL"),
        )
