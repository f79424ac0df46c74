"""fenced leases: a token per customer lease, when the attempt was dialled; retries after interruptions

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import callbot.kit.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("dialled_at", callbot.kit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("free_retries", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interrupted_retries", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("interrupted_retries")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("free_retries")
        batch_op.drop_column("dialled_at")
        batch_op.drop_column("lease_token")
