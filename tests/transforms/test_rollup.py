"""Roll-ups: counts are summed (never rates), unknown stays unknown, gaps are filled from summaries and say
so, and both the three-tier (before 2025-07-01) and two-tier lists are rolled up."""

from __future__ import annotations

import polars as pl
import pytest

from tests.transforms.conftest import (
    RURAL_LINE,
    STANDARDS,
    hierarchy_post_reform,
    hierarchy_pre_reform,
    household,
    households_frame,
    summaries_frame,
    summary_row,
)
from transforms.classify import classify_households
from transforms.rollup import (
    add_change_from_previous,
    add_group_totals,
    add_rates,
    aggregate_households,
    choose_lowest_sources,
    roll_up,
    units_from_hierarchy,
)
from transforms.summaries import summary_cells

POOR = {"income": RURAL_LINE, "deprivations": 3}
NEAR_POOR = {"income": RURAL_LINE, "deprivations": 2}
NOT_POOR = {"income": 9_000_000, "deprivations": 0}


def rolled_up(household_rows: list[dict], summary_rows: list[dict] | None = None, hierarchy=None) -> pl.DataFrame:
    """Runs the transforms the way the build does and returns every level × unit × group × area row."""
    hierarchy = hierarchy if hierarchy is not None else hierarchy_pre_reform()
    units = units_from_hierarchy(hierarchy)
    classified = classify_households(households_frame(household_rows).lazy(), STANDARDS)
    cells = add_group_totals(aggregate_households(classified))
    summaries = summary_cells(summaries_frame(summary_rows or []).lazy())
    lowest = choose_lowest_sources(cells, summaries, units)
    return add_rates(roll_up(lowest, units, summaries)).collect()


def row(frame: pl.DataFrame, level: str, unit: str, group: str = "ALL", area: str = "all") -> dict:
    found = frame.filter((pl.col("level") == level) & (pl.col("unit_code") == unit)
                         & (pl.col("ethnic_group") == group) & (pl.col("area") == area))
    assert found.height == 1, f"expected one row for {level} {unit} {group} {area}, got {found.height}"
    return found.row(0, named=True)


def every_commune_reports() -> list[dict]:
    """Commune 00001: 1 poor + 1 near-poor; 00002: 2 not poor; 00003: 1 poor (minority, code 02);
    00004: 1 near-poor + 1 not poor; 00005: 1 poor. Island district 003 has no communes and reports via
    its province's summary."""
    return [
        household("00001", "a", **POOR), household("00001", "b", **NEAR_POOR),
        household("00002", "c", **NOT_POOR), household("00002", "d", **NOT_POOR),
        household("00003", "e", ethnicity="02", **POOR),
        household("00004", "f", **NEAR_POOR), household("00004", "g", area="urban", **NOT_POOR),
        household("00005", "h", **POOR),
    ]


ISLAND_SUMMARY = summary_row("003", submission_id="P01", submitting_level="province", submitting_unit="01",
                             total=10, poor=2, near_poor=1)


def test_each_level_adds_up_to_the_next():
    frame = rolled_up(every_commune_reports(), [ISLAND_SUMMARY])
    total = lambda level, unit: row(frame, level, unit)["households_total"]
    assert total("district", "001") == 4 == total("commune", "00001") + total("commune", "00002")
    assert total("district", "003") == 10
    assert total("province", "01") == 4 + 1 + 10
    assert total("region", "R1") == total("province", "01") + total("province", "02") == 17
    assert total("national", "VN") == total("region", "R1") + total("region", "R2") == 18
    poor = lambda level, unit: row(frame, level, unit)["households_poor"]
    assert poor("national", "VN") == 1 + 1 + 2 + 1
    assert row(frame, "national", "VN")["households_near_poor"] == 1 + 1 + 1


def test_rates_come_from_summed_counts_not_from_averaged_rates():
    frame = rolled_up(every_commune_reports(), [ISLAND_SUMMARY])
    # 00001 is 50 % poor (1 of 2), 00002 is 0 % (0 of 2): the district is 1 of 4 = 25 %, the average also
    # 25 % by chance, so use district 004 + 005 via the region R1 instead: 5 poor of 17 households.
    assert row(frame, "district", "001")["poor_rate"] == pytest.approx(25.0)
    assert row(frame, "region", "R1")["poor_rate"] == pytest.approx(100 * 4 / 17)
    assert row(frame, "national", "VN")["poor_or_near_poor_rate"] == pytest.approx(100 * 8 / 18)


def test_a_commune_that_did_not_report_leaves_every_level_above_it_unknown():
    rows = [r for r in every_commune_reports() if r["commune_code"] != "00002"]
    frame = rolled_up(rows, [ISLAND_SUMMARY])
    for level, unit in [("commune", "00002"), ("district", "001"), ("province", "01"), ("region", "R1"),
                        ("national", "VN")]:
        assert row(frame, level, unit)["households_total"] is None, (level, unit)
        assert row(frame, level, unit)["poor_rate"] is None
    # Units beside it are not affected, and coverage says what is missing.
    assert row(frame, "province", "02")["households_total"] == 2
    assert row(frame, "region", "R2")["households_total"] == 1
    district = row(frame, "district", "001")
    assert (district["child_units_expected"], district["child_units_reported"]) == (2, 1)
    expected = units_from_hierarchy(hierarchy_pre_reform()).filter(pl.col("level") == "national")
    assert expected["lowest_units_expected"].to_list() == [6]     # five communes and the island district
    assert row(frame, "national", "VN")["lowest_units_reported"] == 4
    assert row(frame, "commune", "00002")["source_level"] is None


def test_a_count_a_summary_left_empty_stays_unknown_while_the_others_add_up():
    rows = [r for r in every_commune_reports() if r["commune_code"] != "00005"]
    summaries = [ISLAND_SUMMARY, summary_row("00005", submission_id="C5", submitting_level="commune",
                                             submitting_unit="00005", total=7, poor=None, near_poor=2)]
    frame = rolled_up(rows, summaries)
    national = row(frame, "national", "VN")
    assert national["households_total"] == 17 + 7
    assert national["households_near_poor"] == 3 + 2
    assert national["households_poor"] is None
    assert national["households_poor_or_near_poor"] is None and national["poor_rate"] is None


def test_ethnic_groups_minorities_and_areas_are_crossed_and_add_up():
    frame = rolled_up(every_commune_reports(), [ISLAND_SUMMARY])
    # Commune 00003's only household is a minority (02): EM = 02; Kinh (01) is a true zero there.
    assert row(frame, "commune", "00003", "EM")["households_total"] == 1
    assert row(frame, "commune", "00003", "02")["households_poor"] == 1
    assert row(frame, "commune", "00003", "01")["households_total"] == 0
    # District 004 has a rural and an urban household.
    assert row(frame, "district", "004", "ALL", "rural")["households_total"] == 1
    assert row(frame, "district", "004", "ALL", "urban")["households_total"] == 1
    # Province 01: the island district's summary has only its ALL × all row, so by group and area the
    # province is unknown, while province 02 (household data only) is fully known.
    assert row(frame, "province", "01", "EM")["households_total"] is None
    assert row(frame, "province", "02", "EM")["households_total"] == 0
    assert row(frame, "region", "R2", "01")["households_poor"] == 1
    # No household of group 02 lives under province 02: no row rather than a row of zeros.
    assert frame.filter((pl.col("unit_code") == "02") & (pl.col("ethnic_group") == "02")).height == 0


def test_missing_commune_data_are_filled_from_the_district_summary_and_marked():
    rows = [r for r in every_commune_reports() if r["commune_code"] != "00002"]
    district_summary = [
        summary_row("00002", submission_id="D001", submitting_level="district", submitting_unit="001",
                    total=2, poor=0, near_poor=0),
        summary_row("00001", submission_id="D001", submitting_level="district", submitting_unit="001",
                    total=2, poor=1, near_poor=1),
    ]
    frame = rolled_up(rows, [ISLAND_SUMMARY, *district_summary])
    filled = row(frame, "commune", "00002")
    assert (filled["households_total"], filled["source_level"]) == (2, "district")
    assert filled["household_data_share"] == 0.0
    assert filled["lowest_units_reported"] == 0
    own = row(frame, "commune", "00001")
    assert (own["households_total"], own["source_level"]) == (2, "commune")
    district = row(frame, "district", "001")
    assert district["households_total"] == 4
    assert district["source_level"] == "district"      # as coarse as the coarsest part
    assert district["household_data_share"] == pytest.approx(50.0)
    assert row(frame, "national", "VN")["households_total"] == 18


def test_a_unit_whose_children_are_incomplete_takes_its_own_summary():
    rows = [r for r in every_commune_reports() if r["commune_code"] != "00002"]
    province_summary = summary_row("01", submission_id="P01b", submitting_level="province",
                                   submitting_unit="01", total=40, poor=6, near_poor=5)
    frame = rolled_up(rows, [ISLAND_SUMMARY, province_summary])
    province = row(frame, "province", "01")
    assert (province["households_total"], province["source_level"]) == (40, "province")
    assert province["household_data_share"] == 0.0
    assert row(frame, "district", "001")["households_total"] is None
    assert row(frame, "region", "R1")["households_total"] == 40 + 2


def test_the_detailed_data_win_over_a_summary_when_they_are_complete():
    province_summary = summary_row("01", submission_id="P01b", submitting_level="province",
                                   submitting_unit="01", total=999, poor=9, near_poor=9)
    frame = rolled_up(every_commune_reports(), [ISLAND_SUMMARY, province_summary])
    assert row(frame, "province", "01")["households_total"] == 15
    assert row(frame, "province", "01")["source_level"] == "province"   # the island district's part


def test_two_tier_geography_rolls_communes_straight_into_provinces():
    rows = [household("10001", "a", **POOR), household("10002", "b", **NEAR_POOR),
            household("10003", "c", **NOT_POOR)]
    frame = rolled_up(rows, hierarchy=hierarchy_post_reform())
    assert sorted(frame["level"].unique()) == ["commune", "national", "province", "region"]
    assert row(frame, "province", "01")["households_total"] == 2
    assert row(frame, "province", "01")["child_units_expected"] == 2
    assert row(frame, "region", "R1")["households_total"] == 3
    assert row(frame, "national", "VN")["households_poor"] == 1


def test_three_tier_geography_keeps_the_district_level():
    frame = rolled_up(every_commune_reports(), [ISLAND_SUMMARY])
    assert sorted(frame["level"].unique()) == ["commune", "district", "national", "province", "region"]
    assert row(frame, "province", "01")["child_units_expected"] == 3     # districts 001, 002, island 003


def test_multidimensional_headcount_intensity_and_adjusted_headcount():
    # Two households: one deprived on 3 of 12 (MPI-poor, income above the line), one on 6 (MPI-poor), two
    # on 2 (not MPI-poor). H = 2/4, A = (3 + 6) / (2 × 12), M0 = (3 + 6) / (4 × 12).
    rows = [household("10001", "a", income=9_000_000, deprivations=3),
            household("10001", "b", income=100_000, deprivations=6),
            household("10001", "c", income=100_000, deprivations=2),
            household("10002", "d", income=9_000_000, deprivations=2)]
    rows += [household("10003", "e", **NOT_POOR)]
    frame = rolled_up(rows, hierarchy=hierarchy_post_reform())
    province = row(frame, "province", "01")
    assert province["households_mpi_poor"] == 2
    assert province["mpi_headcount_ratio"] == pytest.approx(50.0)
    assert province["mpi_intensity"] == pytest.approx(100 * 9 / 24)
    assert province["mpi_adjusted_headcount"] == pytest.approx(9 / 48)
    assert province["households_deprived_d03"] == 2          # a and b are deprived on d03; c and d are not


def test_average_living_households_are_unknown_when_the_standard_has_no_bound():
    rows = [household("10001", "a", income=9_000_000, standard="std_nobound"),
            household("10002", "b", income=2_000_000), household("10003", "c", **NOT_POOR)]
    frame = rolled_up(rows, hierarchy=hierarchy_post_reform())
    assert row(frame, "commune", "10001")["households_average"] is None
    assert row(frame, "commune", "10002")["households_average"] == 1
    assert row(frame, "province", "01")["households_average"] is None
    assert row(frame, "province", "02")["households_average"] == 0


def test_change_in_points_is_against_the_same_unit_the_year_before():
    this_year = rolled_up([household("10001", "a", **POOR), household("10001", "b", **NOT_POOR),
                           household("10002", "c", **NOT_POOR), household("10003", "d", **NOT_POOR)],
                          hierarchy=hierarchy_post_reform())
    last_year = rolled_up([household("10001", "a", **POOR), household("10001", "b", **POOR),
                           household("10002", "c", **POOR), household("10003", "d", **NOT_POOR)],
                          hierarchy=hierarchy_post_reform())
    changed = add_change_from_previous(this_year.lazy(), last_year.lazy()).collect()
    # Province 01: 3 of 3 poor last year, 1 of 3 this year → −66.67 points.
    assert row(changed, "province", "01")["poor_rate_change_pp"] == pytest.approx(100 / 3 - 100)
    assert row(changed, "national", "VN")["poor_rate_change_pp"] == pytest.approx(25.0 - 75.0)
    first_year = add_change_from_previous(this_year.lazy(), None).collect()
    assert first_year["poor_rate_change_pp"].null_count() == first_year.height


# --- resident households as the denominator -------------------------------------------------------------

def reviewed_list(commune: str, poor: int, near_poor: int, others: int, *, complete: bool = False,
                  ethnicity: str = "01") -> list[dict]:
    """A commune's list of reviewed households (poor, near-poor, and other applicants)."""
    kinds = [POOR] * poor + [NEAR_POOR] * near_poor + [NOT_POOR] * others
    return [household(commune, f"{commune}-{i}", ethnicity=ethnicity, lists_every_household=complete, **kind)
            for i, kind in enumerate(kinds)]


def own_totals(commune: str, total: int, minorities: int | None = None) -> list[dict]:
    """A commune's own area_summary with its resident households only (every other count empty)."""
    rows = [summary_row(commune, submission_id=f"S{commune}", submitting_level="commune",
                        submitting_unit=commune, total=total)]
    if minorities is not None:
        rows.append(summary_row(commune, submission_id=f"S{commune}", submitting_level="commune",
                                submitting_unit=commune, ethnic_group="EM", total=minorities))
    return rows


@pytest.mark.parametrize(("poor", "near_poor", "others", "resident"), [(10, 20, 10, 500), (3, 4, 0, 61)])
def test_a_reviewed_only_list_is_rated_over_the_communes_resident_households(poor, near_poor, others, resident):
    frame = rolled_up(reviewed_list("00002", poor, near_poor, others), own_totals("00002", resident))
    commune = row(frame, "commune", "00002")
    assert commune["households_reviewed"] == poor + near_poor + others
    assert commune["households_total"] == resident
    assert commune["poor_rate"] == pytest.approx(100 * poor / resident)
    assert commune["near_poor_rate"] == pytest.approx(100 * near_poor / resident)
    assert commune["households_total_missing_reason"] is None
    # Counts that need every household stay unknown from a reviewed-only list.
    assert commune["households_average"] is None and commune["households_mpi_poor"] is None
    assert commune["households_from_household_data"] == poor + near_poor + others
    assert commune["households_from_summaries"] == resident - (poor + near_poor + others)


def test_a_reviewed_only_list_without_a_resident_total_leaves_the_total_unknown_and_says_why():
    rows = every_commune_reports()
    rows = [r for r in rows if r["commune_code"] != "00002"] + reviewed_list("00002", 2, 1, 1)
    frame = rolled_up(rows, [ISLAND_SUMMARY])
    commune = row(frame, "commune", "00002")
    assert (commune["households_poor"], commune["households_near_poor"], commune["households_reviewed"]) == (2, 1, 4)
    assert commune["households_total"] is None and commune["poor_rate"] is None
    assert commune["households_average"] is None
    assert commune["households_total_missing_reason"] == "reviewed_list_without_resident_total"
    assert commune["lowest_units_without_resident_total"] == 1
    district = row(frame, "district", "001")
    # Poor counts still add up (every commune's is known); the total does not, and the reason travels up.
    assert district["households_poor"] == 1 + 2 and district["households_total"] is None
    assert district["households_total_missing_reason"] == "reviewed_list_without_resident_total"
    nation = row(frame, "national", "VN")
    assert nation["lowest_units_without_resident_total"] == 1 and nation["poor_rate"] is None
    # A unit nobody reported on is unknown for another reason.
    unreported = rolled_up([r for r in every_commune_reports() if r["commune_code"] != "00002"], [ISLAND_SUMMARY])
    assert row(unreported, "commune", "00002")["households_total_missing_reason"] == "not_reported"
    assert row(unreported, "district", "001")["households_total_missing_reason"] == "not_reported"


def test_the_resident_total_comes_from_the_most_detailed_summary_about_the_commune_cell_by_cell():
    district_rows = [summary_row("00002", submission_id="D001", submitting_level="district", submitting_unit="001",
                                 total=900),
                     summary_row("00002", submission_id="D001", submitting_level="district", submitting_unit="001",
                                 ethnic_group="EM", total=300)]
    frame = rolled_up(reviewed_list("00002", 5, 5, 0, ethnicity="02"), own_totals("00002", 800) + district_rows)
    assert row(frame, "commune", "00002")["households_total"] == 800       # its own summary first
    minorities = row(frame, "commune", "00002", "EM")
    assert (minorities["households_total"], minorities["source_level"]) == (300, "district")
    assert minorities["poor_rate"] == pytest.approx(100 * 5 / 300)
    kinh = row(frame, "commune", "00002", "01")
    # Kinh = ALL − EM of the district's rows (derived); the list has no Kinh household: poor 0, total known.
    assert (kinh["households_total"], kinh["households_poor"], kinh["households_derived"]) == (600, 0, 600)
    # Group 02 has no summary row: its total is unknown although its poor count is known.
    own_group = row(frame, "commune", "00002", "02")
    assert own_group["households_total"] is None and own_group["households_poor"] == 5


def test_a_complete_list_knows_everything_and_ignores_the_summary_total():
    rows = [r for r in every_commune_reports() if r["commune_code"] != "00002"]
    rows += reviewed_list("00002", 1, 1, 3, complete=True)
    frame = rolled_up(rows, [ISLAND_SUMMARY, *own_totals("00002", 999)])
    commune = row(frame, "commune", "00002")
    assert (commune["households_total"], commune["households_reviewed"]) == (5, 5)
    assert commune["households_average"] is not None and commune["households_mpi_poor"] is not None
    assert commune["poor_rate"] == pytest.approx(20.0)
    assert row(frame, "national", "VN")["households_total"] == 5 + 6 + 10
    assert row(frame, "national", "VN")["households_total_missing_reason"] is None
