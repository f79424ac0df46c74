"""fenced leases: a token per customer lease, and when the attempt was dialled

Revision ID: 0007_fenced_leases
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import callbot.kit.db

revision = "0007_fenced_leases"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("dialled_at", callbot.kit.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("dialled_at")
        batch_op.drop_column("lease_token")
