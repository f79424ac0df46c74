"""call records: direction (inbound calls), the customer-only recording, when retention deleted them,
how a transfer went

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import callbot.kit.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("direction", sa.String(8), nullable=False, server_default="outbound"))
        batch_op.add_column(sa.Column("customer_recording_path", sa.String(500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("transfer_status", sa.String(200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("recording_deleted_at", callbot.kit.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_records", schema=None) as batch_op:
        batch_op.drop_column("recording_deleted_at")
        batch_op.drop_column("transfer_status")
        batch_op.drop_column("customer_recording_path")
        batch_op.drop_column("direction")
