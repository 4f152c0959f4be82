"""A submission to build on object storage (a real S3 server, SeaweedFS on loopback): the file is landed in
the store, staged and reported there, the build publishes a version named by marts/current.json, and the
marts are read from the store with Polars and PyArrow, and by a machine with a working folder of its own."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
from fixtures_ingest import COMMUNE, YEAR, frame_of, gx_runner, household_rows, write_file

from pipeline.build import build_marts
from pipeline.intake import submit
from store import publish as publishing
from store.mart_files import read_mart
from store.objects import polars_storage_options, pyarrow_filesystem
from store.registry import Registry
from store.settings import load_settings
from store.zones import store_zone

__all__ = ["gx_runner"]     # the session's Great Expectations runner, a fixture


def test_submit_build_and_read_the_marts_from_the_store(s3_home, postgres_url, monkeypatch, tmp_path, gx_runner):
    import pyarrow.parquet as pq

    monkeypatch.setenv("LNOB_DATABASE_URL", postgres_url)
    settings = load_settings()
    path = write_file(tmp_path / "commune", frame_of(household_rows(6)), "csv")
    verdict = submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, kind="household",
                     runner=gx_runner, lists_every_household=True)
    assert verdict["status"] == "accepted", verdict["findings"]
    zone = store_zone(settings)
    record = Registry(settings.database_url).get(verdict["submission_id"])
    # The registry names the staged file by its address in the store, which every machine can read.
    assert record.staging_path == f"{s3_home}/staging/household/year={YEAR}/{record.submission_id}.parquet"
    assert zone.exists(f"staging/household/year={YEAR}/{record.submission_id}.parquet")
    assert zone.exists(f"reports/{record.submission_id}.json")
    assert zone.exists(f"landing/{record.content_hash[:2]}/{record.content_hash}")

    # The build runs on another machine: a working folder of its own, the store and the registry shared.
    builder = replace(settings, home=tmp_path / "builder")
    result = build_marts(builder, YEAR)
    assert publishing.current_version(settings) == result.version
    assert zone.exists(f"marts/{result.version}/manifest.json")

    url = f"{s3_home}/marts/{result.version}/poverty_by_area/{YEAR}.parquet"
    from_polars = pl.read_parquet(url, storage_options=polars_storage_options())
    from_arrow = pl.from_arrow(pq.read_table(url.removeprefix("s3://"), filesystem=pyarrow_filesystem()))
    reader = replace(settings, home=tmp_path / "reader")
    local = read_mart(publishing.current_path(reader), "poverty_by_area", YEAR)
    assert from_polars.height > 0
    assert from_polars.equals(from_arrow) and from_polars.equals(local)
    commune = from_polars.filter((pl.col("unit_code") == COMMUNE) & (pl.col("ethnic_group") == "ALL")
                                 & (pl.col("area") == "all"))
    assert commune["households_total"].to_list() == [6]
