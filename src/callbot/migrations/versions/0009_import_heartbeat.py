"""import heartbeat: when a running import last wrote a batch, so that one whose process died is closed

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import callbot.kit.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", callbot.kit.db.UtcDateTime(timezone=True), nullable=True))
    # An import left running by an older version counts from its start.
    op.execute("UPDATE customer_imports SET heartbeat_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("customer_imports", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
