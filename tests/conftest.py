"""Fixtures shared by every room's tests."""

from __future__ import annotations

import os
import secrets

import pytest

POSTGRES_CONNINFO = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

_postgres_problem: list[str | None] = []


def _postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can (asked once per run)."""
    if not _postgres_problem:
        try:
            import psycopg
        except ImportError as error:
            _postgres_problem.append(f"psycopg is not installed: {error}")
            return _postgres_problem[0]
        try:
            with psycopg.connect(POSTGRES_CONNINFO):
                pass
            _postgres_problem.append(None)
        except (OSError, psycopg.Error) as error:
            _postgres_problem.append(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {error}")
    return _postgres_problem[0]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A registry URL on an empty database: a SQLite file, or a fresh PostgreSQL schema.

    Without PostgreSQL the postgresql cases are skipped, except in CI (CI=true), where they fail.
    """
    from store.registry import dispose_engine

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
        yield url
        dispose_engine(url)
        return

    problem = _postgres_unreachable()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem} (CI=true: PostgreSQL tests must run, not skip)")
        pytest.skip(problem)

    import psycopg

    schema = f"lnob_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_CONNINFO, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        dispose_engine(url)
        with psycopg.connect(POSTGRES_CONNINFO, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
