"""The percentage is said once, and multiplying before dividing keeps exact shares exact at a threshold."""

import polars as pl
import pytest

from tests.transforms.conftest import household
from tests.transforms.test_reconcile import POOR, district_summary, reconciled
from transforms.rollup import percentage


def _percent(numerator: int | None, denominator: int | None) -> float | None:
    frame = pl.DataFrame({"top": [numerator], "bottom": [denominator]}, schema={"top": pl.Int64, "bottom": pl.Int64})
    return frame.select(percentage("top", "bottom")).item()


@pytest.mark.parametrize(("numerator", "denominator", "exact"), [(7, 25, 28.0), (57, 100, 57.0), (29, 100, 29.0)])
def test_multiplying_first_gives_the_exact_share_that_dividing_first_misses(numerator, denominator, exact):
    # The order matters: dividing first lands one bit off, on either side of the exact share.
    assert numerator / denominator * 100 != exact
    assert _percent(numerator, denominator) == exact


def test_a_share_exactly_at_a_threshold_meets_it_both_ways():
    # 57 of 100 households is 57 %: it meets "≥ 57" and "≤ 57"; dividing first would fail the first.
    share = _percent(57, 100)
    assert share >= 57.0 and share <= 57.0
    assert not (57 / 100 * 100 >= 57.0)


def test_unknown_or_zero_denominator_gives_no_percentage():
    assert _percent(3, 0) is None
    assert _percent(None, 10) is None
    assert _percent(3, None) is None


def test_reconciliation_reports_its_relative_difference_through_the_one_percentage():
    # 25 poor households in the communes' lists, 32 in the district's summary: 7 more, exactly 28 %.
    poor_households = [household("00001" if i < 20 else "00002", f"h{i}", **POOR) for i in range(25)]
    found = reconciled([district_summary(total=25, poor=32, near_poor=0)], household_rows=poor_households)
    row = found.filter(pl.col("measure") == "households_poor").row(0, named=True)
    assert (row["summary_value"], row["detail_value"], row["difference"]) == (32, 25, 7)
    assert row["relative_difference"] == 28.0   # 7 / 25 × 100 would be 28.000000000000004
