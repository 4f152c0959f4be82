"""A commune's household list of the reviewed households, with its resident total in its own summary: rates
over resident households, end to end (submit, validate, build, read the mart)."""

from __future__ import annotations

import polars as pl
import pytest
from fixtures_ingest import (
    COMMUNE,
    YEAR,
    frame_of,
    gx_runner,
    household_rows,
    make_settings,
    write_csv,
)

from pipeline.build import build_marts
from pipeline.intake import UsageError, submit
from schemas.contracts import AREA_SUMMARY
from store.mart_files import read_mart

__all__ = ["gx_runner"]


def own_summary(total: int) -> list[dict[str, str]]:
    """The commune's own area_summary with its resident households only: every other count left empty."""
    row = {c.name: "" for c in AREA_SUMMARY.columns}
    row.update({"unit_code": COMMUNE, "ethnic_group": "ALL", "area": "all", "households_total": str(total)})
    return [row]


def commune_row(settings) -> dict:
    marts = build_marts(settings).path
    frame = read_mart(marts, "poverty_by_area", YEAR).filter(
        (pl.col("level") == "commune") & (pl.col("unit_code") == COMMUNE) & (pl.col("area") == "all"))
    assert frame.height == 1
    return frame.row(0, named=True)


@pytest.mark.parametrize(("reviewed", "resident"), [(40, 500), (12, 75)])
def test_a_reviewed_only_list_and_the_communes_resident_total_give_rates_over_resident_households(
        tmp_path, gx_runner, reviewed, resident):
    settings = make_settings(tmp_path / "home")
    households = write_csv(tmp_path / "list.csv", frame_of(household_rows(reviewed)))
    summary = write_csv(tmp_path / "summary.csv", frame_of(own_summary(resident)))
    listed = submit(settings, households, level="commune", unit_code=COMMUNE, year=YEAR, kind="household",
                    runner=gx_runner)
    assert (listed["status"], listed["lists_every_household"]) == ("accepted", False)
    totals = submit(settings, summary, level="commune", unit_code=COMMUNE, year=YEAR, kind="area_summary",
                    runner=gx_runner)
    assert totals["status"] == "accepted", totals["findings"]
    row = commune_row(settings)
    assert (row["households_total"], row["households_reviewed"]) == (resident, reviewed)
    assert row["households_poor"] is not None
    assert row["poor_rate"] == pytest.approx(100 * row["households_poor"] / resident)
    assert row["households_average"] is None and row["households_total_missing_reason"] is None
    # The same bytes cannot be declared complete afterwards: they are one submission.
    with pytest.raises(UsageError, match="every resident household|the reviewed households only"):
        submit(settings, households, level="commune", unit_code=COMMUNE, year=YEAR, kind="household",
               runner=gx_runner, lists_every_household=True)


def test_a_reviewed_only_list_alone_leaves_the_rates_unknown_and_a_complete_one_knows_them(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    households = write_csv(tmp_path / "list.csv", frame_of(household_rows(40)))
    submit(settings, households, level="commune", unit_code=COMMUNE, year=YEAR, kind="household", runner=gx_runner)
    row = commune_row(settings)
    assert row["households_total"] is None and row["poor_rate"] is None
    assert row["households_total_missing_reason"] == "reviewed_list_without_resident_total"
    assert row["households_poor"] is not None and row["households_reviewed"] == 40

    complete = make_settings(tmp_path / "complete")
    verdict = submit(complete, households, level="commune", unit_code=COMMUNE, year=YEAR, kind="household",
                     runner=gx_runner, lists_every_household=True)
    assert verdict["lists_every_household"] is True
    row = commune_row(complete)
    assert (row["households_total"], row["households_reviewed"]) == (40, 40)
    assert row["households_average"] is not None and row["households_mpi_poor"] is not None


def test_the_deprivation_mart_names_the_indicators_of_the_years_standard(tmp_path, gx_runner):
    from pipeline.build import indicator_labels
    from schemas.standards import load_standard

    settings = make_settings(tmp_path / "home")
    households = write_csv(tmp_path / "list.csv", frame_of(household_rows(10)))
    submit(settings, households, level="commune", unit_code=COMMUNE, year=YEAR, kind="household",
           runner=gx_runner, lists_every_household=True)
    marts = build_marts(settings).path
    d12 = read_mart(marts, "deprivation_by_area", YEAR).filter(pl.col("indicator") == "d12")
    assert d12.height > 0
    assert set(d12["standard"]) == {"nd07_2021"}
    assert set(d12["indicator_label_en"]) == {"Means of accessing information"}
    # From 2027 the same id is another indicator.
    later = indicator_labels(load_standard("nd351_2025")).filter(pl.col("indicator") == "d12").row(0, named=True)
    assert later["indicator_label_en"] == "Household waste treatment"
