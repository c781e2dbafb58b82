"""API keys: no two active keys share a name (names show as created_by in the audit trail).

Active keys that already share a name keep it on the oldest; the others get their id appended.

Revision ID: 0004_unique_active_key_names
Revises: 0003_model_registry
Create Date: 2026-11-30 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_unique_active_key_names"
down_revision: str | None = "0003_model_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    op.execute(
        """
        UPDATE api_keys SET name = substr(name, 1, 88) || '-' || CAST(id AS VARCHAR(11))
        WHERE revoked_at IS NULL AND EXISTS (
            SELECT 1 FROM api_keys AS older
            WHERE older.revoked_at IS NULL AND older.name = api_keys.name AND older.id < api_keys.id
        )
        """
    )
    op.create_index(
        "ix_api_keys_active_name",
        "api_keys",
        ["name"],
        unique=True,
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_api_keys_active_name", table_name="api_keys")
