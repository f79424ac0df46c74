"""dialect authentication: Digelao sessions found by (subject, key)

Revision ID: 0007_dialect_auth
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007_dialect_auth"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revoked keys were kept until they expired; a login now removes them, so drop them here too.
    op.execute("DELETE FROM api_sessions WHERE revoked")
    with op.batch_alter_table("api_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_api_sessions_subject")
        batch_op.create_index("ix_api_sessions_subject_key", ["subject", "api_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_api_sessions_subject_key")
        batch_op.create_index("ix_api_sessions_subject", ["subject", "revoked"], unique=False)
