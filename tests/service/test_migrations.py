"""The ORM models and the Alembic migrations describe the same schema, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from service.database.engine import sync_url
from service.migrate import alembic_config, head_revision
from service.tables import Base


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"


def test_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = create_engine(sync_url(url))
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert "claims" in inspect(engine).get_table_names()
    engine.dispose()


def test_head_is_single() -> None:
    assert head_revision() is not None


@pytest.mark.parametrize("table", sorted(Base.metadata.tables))
def test_every_table_has_a_named_primary_key(table: str) -> None:
    assert Base.metadata.tables[table].primary_key.name == f"pk_{table}"


def test_active_keys_sharing_a_name_are_renamed_by_the_unique_name_migration(
    tmp_path: Path,
) -> None:
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'names.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0003_model_registry")
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        for key_id, name, revoked in ((1, "cli", None), (2, "cli", None), (3, "ops", "2020-01-01")):
            connection.execute(
                text(
                    "INSERT INTO api_keys (id, name, prefix, key_hash, scopes, created_at, "
                    "revoked_at) VALUES (:id, :name, :prefix, 'h', '[]', '2020-01-01', :revoked)"
                ),
                {"id": key_id, "name": name, "prefix": f"p{key_id}", "revoked": revoked},
            )
        connection.execute(
            text(
                "INSERT INTO api_keys (id, name, prefix, key_hash, scopes, created_at) "
                "VALUES (4, 'ops', 'p4', 'h', '[]', '2020-01-01')"
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        names = connection.execute(text("SELECT id, name FROM api_keys ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in names] == [(1, "cli"), (2, "cli-2"), (3, "ops"), (4, "ops")]
