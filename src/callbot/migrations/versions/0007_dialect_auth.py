"""dialect authentication: Digelao sessions found by (subject, key); the replay guard's seen signatures;
the token and AES key of Yiwise's 2023 encrypted callbacks

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import callbot.kit.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revoked keys were kept until they expired; a login now removes them, so drop them here too.
    op.execute("DELETE FROM api_sessions WHERE revoked")
    with op.batch_alter_table("api_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_api_sessions_subject")
        batch_op.create_index("ix_api_sessions_subject_key", ["subject", "api_key"], unique=False)
    op.create_table(
        "seen_signatures",
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("request", sa.String(length=64), nullable=False),
        sa.Column("seen_at", callbot.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", callbot.kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_seen_signatures_credential_id_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("credential_id", "signature", "request", name=op.f("pk_seen_signatures")),
    )
    with op.batch_alter_table("seen_signatures", schema=None) as batch_op:
        batch_op.create_index("ix_seen_signatures_expiry", ["credential_id", "expires_at"], unique=False)
    with op.batch_alter_table("callback_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=64), server_default="", nullable=False))
        batch_op.add_column(sa.Column("aes_key_encrypted", sa.String(length=500), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("callback_settings", schema=None) as batch_op:
        batch_op.drop_column("aes_key_encrypted")
        batch_op.drop_column("token")
    with op.batch_alter_table("seen_signatures", schema=None) as batch_op:
        batch_op.drop_index("ix_seen_signatures_expiry")
    op.drop_table("seen_signatures")
    with op.batch_alter_table("api_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_api_sessions_subject_key")
        batch_op.create_index("ix_api_sessions_subject", ["subject", "revoked"], unique=False)
