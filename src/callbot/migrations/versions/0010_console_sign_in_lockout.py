"""console: sign-in lockout kept on the user (a restart keeps it); records indexed by tenant and dial time

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import callbot.kit.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", callbot.kit.db.UtcDateTime(timezone=True), nullable=True))
    # The console's home page counts today's calls of a tenant, and its record filters take a date range.
    op.create_index("ix_call_records_tenant_started", "call_records", ["tenant_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_call_records_tenant_started", table_name="call_records")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")
