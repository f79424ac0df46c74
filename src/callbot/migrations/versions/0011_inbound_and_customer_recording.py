"""call records: direction (inbound calls) and the customer-only recording

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("direction", sa.String(8), nullable=False, server_default="outbound"))
        batch_op.add_column(sa.Column("customer_recording_path", sa.String(500), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("call_records", schema=None) as batch_op:
        batch_op.drop_column("customer_recording_path")
        batch_op.drop_column("direction")
