"""The ORM models and the Alembic migrations describe the same schema, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from service.db import sync_url
from service.migrate import alembic_config, head_revision
from service.models_registry import Base


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
