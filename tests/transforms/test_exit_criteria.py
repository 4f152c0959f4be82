"""The entry criteria of the status lists, each at its boundary, on hand-made unit figures.

Every case builds the poverty rows (ALL and EM households) and area attributes of a few units, evaluates one
status kind with the shipped rule files, and reads the verdict and the criterion outcomes.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from schemas.rules import load_rules, parse_rule
from transforms.exit_criteria import evaluate_status, evaluate_unit, unit_measures

YEAR = 2024
RULES = load_rules()
NO_INFRA = {f"lacks_infra_{item}": False for item in ("a", "b", "c", "d", "dd", "e", "g", "h", "i")}


def lacking(*items: str) -> dict:
    """Infrastructure flags: the given items lacking, every other item present."""
    return {**NO_INFRA, **{f"lacks_infra_{item}": True for item in items}}


def unit(code: str, *, total: int | None, poor: int | None, near_poor: int | None = 0, em_total: int | None = 0,
         em_poor: int | None = 0, level: str = "commune", region: str = "south_central_coast",
         village: str | None = None, submissions: str = "", **attributes) -> dict:
    return {"code": code, "total": total, "poor": poor, "near_poor": near_poor, "em_total": em_total,
            "em_poor": em_poor, "level": level, "region": region, "village": village,
            "submissions": submissions, "attributes": attributes}


def frames(units: list[dict]) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    poverty_rows, attribute_rows, place_rows = [], [], []
    for u in units:
        for group, total, poor, near in (("ALL", u["total"], u["poor"], u["near_poor"]),
                                         ("EM", u["em_total"], u["em_poor"], None)):
            poverty_rows.append({"year": YEAR, "level": u["level"], "unit_code": u["code"], "village": u["village"],
                                 "ethnic_group": group, "area": "all", "households_total": total,
                                 "households_poor": poor, "households_near_poor": near,
                                 "source_submissions": u["submissions"]})
        if u["attributes"]:
            attribute_rows.append({"unit_code": u["code"], "village": u["village"],
                                   "submission_id": f"A{u['code']}", **u["attributes"]})
        place_rows.append({"unit_code": u["code"], "unit_name": f"Unit {u['code']}", "province_code": "99",
                           "region_key": u["region"]})
    poverty = pl.DataFrame(poverty_rows, schema={
        "year": pl.Int64, "level": pl.String, "unit_code": pl.String, "village": pl.String,
        "ethnic_group": pl.String, "area": pl.String, "households_total": pl.Int64, "households_poor": pl.Int64,
        "households_near_poor": pl.Int64, "source_submissions": pl.String}).lazy()
    attributes = (pl.DataFrame(attribute_rows, infer_schema_length=None).lazy() if attribute_rows
                  else pl.LazyFrame({"unit_code": pl.Series([], dtype=pl.String)}))
    return poverty, attributes, pl.DataFrame(place_rows).unique("unit_code").lazy()


def evaluate(kind: str, units: list[dict], listed: list[str] | None = None, rules=RULES):
    poverty, attributes, places = frames(units)
    measures = unit_measures(poverty, attributes, places)
    members = pl.LazyFrame({
        "unit_code": listed if listed is not None else [u["code"] for u in units],
        "village": [next((u["village"] for u in units if u["code"] == code), None)
                    for code in (listed if listed is not None else [u["code"] for u in units])],
        "list_decisions": ["TEST"] * len(listed if listed is not None else units),
    }, schema={"unit_code": pl.String, "village": pl.String, "list_decisions": pl.String})
    result = evaluate_status(measures, members, kind, rules, YEAR)
    return (result.exit_candidates.collect(), result.entry_candidates.collect(), result.criteria.collect())


def verdict(exits: pl.DataFrame, code: str) -> str:
    return exits.filter(pl.col("unit_code") == code)["verdict"].item()


def outcome(criteria: pl.DataFrame, code: str, criterion: str) -> str:
    return criteria.filter(pl.col("unit_code") == code, pl.col("criterion_id") == criterion)["outcome"].item()


# ---------------------------------------------------------------------------------------------
# Coastal and island communes: Decision 36/2021 Art. 4

COASTAL = {"is_coastal_or_island": True, "new_rural_recognised": False, "saline_intrusion_months": 0}


def test_coastal_commune_at_exactly_15_percent_meets_the_poverty_criterion_and_remains():
    exits, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=1000, poor=100, near_poor=50, **COASTAL, **lacking("a", "b", "c"))])
    assert outcome(criteria, "00001", "poor_near_poor_rate_15") == "met"
    assert criteria.filter(pl.col("criterion_id") == "poor_near_poor_rate_15")["value"].item() == 15.0
    assert verdict(exits, "00001") == "remains"


def test_coastal_commune_just_under_15_percent_is_an_exit_candidate():
    exits, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=1000, poor=100, near_poor=49, **COASTAL, **lacking("a", "b", "c"))])
    assert outcome(criteria, "00001", "poor_near_poor_rate_15") == "not_met"
    assert verdict(exits, "00001") == "exit_candidate"
    assert "poor_near_poor_rate_15" in exits["criteria_not_met"].item()


@pytest.mark.parametrize("total", [20, 100, 140, 1000, 2260, 4820, 99_980])
def test_a_rate_exactly_at_the_threshold_is_met_whatever_the_counts(total):
    # 15 % of these totals is a whole number of households; the unrounded rate must equal 15 exactly
    poor = total * 15 // 100
    _, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=total, poor=poor, near_poor=0, **COASTAL, **lacking("a", "b", "c"))])
    assert outcome(criteria, "00001", "poor_near_poor_rate_15") == "met"


def test_saline_intrusion_lowers_the_poverty_threshold_to_12_percent():
    saline = dict(COASTAL, saline_intrusion_months=3)
    exits, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=1000, poor=80, near_poor=40, **saline, **lacking("a", "b", "c")),
        unit("00002", total=1000, poor=80, near_poor=39, **saline, **lacking("a", "b", "c")),
        unit("00003", total=1000, poor=80, near_poor=40, **dict(saline, saline_intrusion_months=2),
             **lacking("a", "b", "c")),
    ])
    assert verdict(exits, "00001") == "remains"          # 12 % with 3 months
    assert verdict(exits, "00002") == "exit_candidate"   # 11.9 %
    assert verdict(exits, "00003") == "exit_candidate"   # 12 % but only 2 months
    assert outcome(criteria, "00003", "saline_intrusion_3_months") == "not_met"


def test_three_of_nine_infrastructure_items_lacking_meets_two_does_not():
    exits, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=100, poor=20, **COASTAL, **lacking("a", "c", "dd")),
        unit("00002", total=100, poor=20, **COASTAL, **lacking("a", "c")),
    ])
    assert outcome(criteria, "00001", "lacks_3_of_9_infrastructure") == "met"
    assert outcome(criteria, "00002", "lacks_3_of_9_infrastructure") == "not_met"
    assert verdict(exits, "00001") == "remains"
    assert verdict(exits, "00002") == "exit_candidate"


def test_met_on_confirmed_items_is_confirmed_met_with_unconfirmed_items_says_so():
    exits, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=100, poor=20, **COASTAL, **lacking("a", "b", "dd")),
        unit("00002", total=100, poor=20, **COASTAL, **lacking("a", "e", "g")),
    ])
    confirmed = dict(criteria.filter(pl.col("criterion_id") == "lacks_3_of_9_infrastructure")
                     .select("unit_code", "confirmed").iter_rows())
    assert confirmed == {"00001": True, "00002": False}
    assert dict(exits.select("unit_code", "depends_on_unconfirmed").iter_rows()) == {"00001": False,
                                                                                       "00002": True}


def test_unknown_infrastructure_items_leave_the_count_undecided_unless_it_is_already_decided():
    unknown_rest = {f"lacks_infra_{item}": None for item in ("e", "g", "h", "i")}
    exits, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=100, poor=20, **COASTAL, **dict(lacking("a"), **unknown_rest)),   # 1 + up to 4
        unit("00002", total=100, poor=20, **COASTAL, **dict(lacking("a", "b", "c"), **unknown_rest)),
    ])
    assert outcome(criteria, "00001", "lacks_3_of_9_infrastructure") == "insufficient_data"
    assert outcome(criteria, "00002", "lacks_3_of_9_infrastructure") == "met"
    assert verdict(exits, "00001") == "insufficient_data"
    assert verdict(exits, "00002") == "remains"


def test_recognition_as_new_rural_takes_a_commune_out_of_decision_36():
    exits, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=100, poor=30, **dict(COASTAL, new_rural_recognised=True), **lacking("a", "b", "c"))])
    assert outcome(criteria, "00001", "not_new_rural") == "not_met"
    assert verdict(exits, "00001") == "exit_candidate"


# ---------------------------------------------------------------------------------------------
# Insufficient data


def test_a_criterion_without_inputs_is_insufficient_and_never_makes_a_candidate_alone():
    # poverty 20 % (met) but no attributes at all: location and infrastructure are unknown
    exits, _, criteria = evaluate("ed_commune_coastal", [unit("00001", total=100, poor=20)])
    assert outcome(criteria, "00001", "lacks_3_of_9_infrastructure") == "insufficient_data"
    assert outcome(criteria, "00001", "coastal_location") == "insufficient_data"
    assert verdict(exits, "00001") == "insufficient_data"
    assert exits["criteria_insufficient"].item() != ""


def test_unknown_counts_stay_unknown():
    exits, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=None, poor=20, **COASTAL, **lacking("a", "b", "c"))])
    assert outcome(criteria, "00001", "poor_near_poor_rate_15") == "insufficient_data"
    assert criteria.filter(pl.col("criterion_id") == "poor_near_poor_rate_15")["value"].item() is None
    assert verdict(exits, "00001") == "insufficient_data"


def test_one_definite_failure_decides_even_when_other_inputs_are_missing():
    # infrastructure complete and only 1 item lacking: not met whatever the poverty rate is
    exits, _, _ = evaluate("ed_commune_coastal", [unit("00001", total=None, poor=None, **COASTAL,
                                                       **lacking("a"))])
    assert verdict(exits, "00001") == "exit_candidate"


def test_a_listed_unit_without_any_figures_is_reported_insufficient():
    exits, _, criteria = evaluate("ed_commune_coastal", [unit("00001", total=100, poor=20, **COASTAL,
                                                              **lacking("a", "b", "c"))],
                                  listed=["00001", "00077"])
    assert verdict(exits, "00077") == "insufficient_data"
    assert set(criteria.filter(pl.col("unit_code") == "00077")["outcome"]) == {"insufficient_data"}


# ---------------------------------------------------------------------------------------------
# Region III communes: Decision 33/2020 Art. 3 (poor rate only, Mekong Delta variants)

IN_SCOPE = {"new_rural_recognised": False}


def test_region_iii_poverty_rate_is_the_poor_rate_without_near_poor():
    exits, _, criteria = evaluate("region_iii_commune", [
        unit("00001", total=1000, poor=200, near_poor=0, em_total=500, em_poor=100, **IN_SCOPE),
        unit("00002", total=1000, poor=199, near_poor=300, em_total=500, em_poor=100, **IN_SCOPE),
    ])
    assert outcome(criteria, "00001", "poor_rate_20") == "met"
    assert outcome(criteria, "00002", "poor_rate_20") == "not_met"
    assert verdict(exits, "00001") == "remains"


def test_ethnic_minority_scope_at_exactly_15_percent_and_just_under():
    exits, _, criteria = evaluate("region_iii_commune", [
        unit("00001", total=1000, poor=300, em_total=150, em_poor=10, **IN_SCOPE),
        unit("00002", total=1000, poor=300, em_total=149, em_poor=10, **IN_SCOPE),
    ])
    assert outcome(criteria, "00001", "em_households_15") == "met"
    assert outcome(criteria, "00002", "em_households_15") == "not_met"
    assert verdict(exits, "00001") == "remains"
    assert verdict(exits, "00002") == "exit_candidate"
    assert exits.filter(pl.col("unit_code") == "00002")["classified_as"].item() == "out_of_scope"


def test_mekong_delta_poverty_threshold_is_15_instead_of_20():
    mekong = dict(region="mekong_delta", **IN_SCOPE)
    exits, _, criteria = evaluate("region_iii_commune", [
        unit("00001", total=1000, poor=150, em_total=500, em_poor=10, **mekong),
        unit("00002", total=1000, poor=150, em_total=500, em_poor=10, **IN_SCOPE),
    ])
    row = criteria.filter(pl.col("unit_code") == "00001", pl.col("criterion_id") == "poor_rate_20")
    assert row["threshold"].item() == 15.0 and row["variant"].item() == "mekong_delta"
    assert verdict(exits, "00001") == "remains"
    # outside the delta, 15 % falls in the 15–20 % band and needs one of the extra factors (none known here)
    assert outcome(criteria, "00002", "poor_rate_20") == "not_met"
    assert verdict(exits, "00002") == "insufficient_data"


def test_mekong_delta_more_than_150_ethnic_minority_poor_households_versus_exactly_150():
    mekong = dict(region="mekong_delta", **IN_SCOPE,
                  em_people_15_60_illiterate_pct=0.0, workers_untrained_pct=0.0, road_to_centre_km=1.0,
                  road_to_centre_unsurfaced_pct=0.0)
    exits, _, criteria = evaluate("region_iii_commune", [
        unit("00001", total=10_000, poor=400, em_total=5000, em_poor=151, **mekong),
        unit("00002", total=10_000, poor=400, em_total=5000, em_poor=150, **mekong),
    ])
    assert outcome(criteria, "00001", "em_poor_households_150") == "met"
    assert outcome(criteria, "00002", "em_poor_households_150") == "not_met"
    assert verdict(exits, "00001") == "remains"
    assert verdict(exits, "00002") == "exit_candidate"


def test_the_150_household_criterion_applies_only_in_the_mekong_delta():
    _, _, criteria = evaluate("region_iii_commune", [
        unit("00001", total=10_000, poor=400, em_total=5000, em_poor=300, **IN_SCOPE)])
    assert "em_poor_households_150" not in set(criteria["criterion_id"])


def test_mekong_delta_band_is_12_to_under_15_with_one_extra_factor():
    mekong = dict(region="mekong_delta", **IN_SCOPE, em_people_15_60_illiterate_pct=0.0,
                  workers_untrained_pct=81.0, road_to_centre_km=1.0, road_to_centre_unsurfaced_pct=0.0)
    exits, _, _ = evaluate("region_iii_commune", [
        unit("00001", total=1000, poor=120, em_total=500, em_poor=10, **mekong),   # 12 %: in the band
        unit("00002", total=1000, poor=119, em_total=500, em_poor=10, **mekong),   # 11.9 %: below
        unit("00003", total=1000, poor=120, em_total=500, em_poor=10,
             **dict(mekong, workers_untrained_pct=80.0)),                           # "more than 80" not met
    ])
    assert verdict(exits, "00001") == "remains"
    assert verdict(exits, "00002") == "exit_candidate"
    assert verdict(exits, "00003") == "exit_candidate"


def test_region_iii_band_15_to_20_needs_one_of_the_four_factors():
    factors = dict(IN_SCOPE, em_people_15_60_illiterate_pct=19.9, workers_untrained_pct=80.0,
                   road_to_centre_km=25.0, road_to_centre_unsurfaced_pct=50.0)
    exits, _, criteria = evaluate("region_iii_commune", [
        unit("00001", total=1000, poor=150, em_total=500, em_poor=91, **factors),   # 91/150 = 60.7 % > 60
        unit("00002", total=1000, poor=150, em_total=500, em_poor=90, **factors),   # exactly 60 %: not > 60
        unit("00003", total=1000, poor=150, em_total=500, em_poor=90,
             **dict(factors, road_to_centre_unsurfaced_pct=50.5)),                   # road > 20 km and > 50 %
        unit("00004", total=1000, poor=150, em_total=500, em_poor=90,
             **dict(factors, em_people_15_60_illiterate_pct=20.0)),                  # ≥ 20 % illiterate
    ])
    assert outcome(criteria, "00002", "em_share_of_poor_60") == "not_met"
    assert [verdict(exits, c) for c in ("00001", "00002", "00003", "00004")] == [
        "remains", "exit_candidate", "remains", "remains"]


def test_region_iii_exit_says_what_the_commune_becomes():
    exits, _, _ = evaluate("region_iii_commune", [
        unit("00001", total=1000, poor=50, em_total=500, em_poor=10, **IN_SCOPE),    # 5 %: Region I
        unit("00002", total=1000, poor=120, em_total=500, em_poor=10, **IN_SCOPE,
             em_people_15_60_illiterate_pct=0.0, workers_untrained_pct=0.0, road_to_centre_km=1.0,
             road_to_centre_unsurfaced_pct=0.0),                                      # 12 %: Region II
    ])
    assert dict(exits.select("unit_code", "classified_as").iter_rows()) == {"00001": "region_i",
                                                                             "00002": "region_ii"}


def test_an_unlisted_commune_that_meets_the_criteria_is_an_entry_candidate_only():
    exits, entries, criteria = evaluate("region_iii_commune", [
        unit("00001", total=1000, poor=300, em_total=500, em_poor=10, **IN_SCOPE),
        unit("00002", total=1000, poor=300, em_total=500, em_poor=10, **IN_SCOPE),
        unit("00003", total=1000, poor=10, em_total=500, em_poor=10, **IN_SCOPE),
    ], listed=["00001"])
    assert exits["unit_code"].to_list() == ["00001"]
    assert entries["unit_code"].to_list() == ["00002"]
    assert set(criteria.filter(~pl.col("on_list"))["unit_code"]) == {"00002"}


# ---------------------------------------------------------------------------------------------
# Extremely disadvantaged villages: Decision 33/2020 Art. 6


def test_village_mekong_more_than_30_ethnic_minority_poor_households_versus_30():
    mekong = {"region": "mekong_delta", "no_road_or_hard_to_travel": False, "households_grid_electricity_pct": 100.0}
    exits, _, _ = evaluate("ed_village", [
        unit("00001", village="Ấp 1", total=1000, poor=100, em_total=500, em_poor=31, **mekong),
        unit("00002", village="Ấp 2", total=1000, poor=100, em_total=500, em_poor=30, **mekong),
    ])
    assert verdict(exits, "00001") == "remains"
    assert verdict(exits, "00002") == "exit_candidate"
    assert set(exits["village"]) == {"Ấp 1", "Ấp 2"}


def test_village_without_grid_electricity_for_more_than_30_percent():
    base = {"no_road_or_hard_to_travel": False}
    exits, _, criteria = evaluate("ed_village", [
        unit("00001", village="Bản A", total=100, poor=16, em_total=90, em_poor=1, **base,
             households_grid_electricity_pct=69.0),
        unit("00002", village="Bản B", total=100, poor=16, em_total=90, em_poor=1, **base,
             households_grid_electricity_pct=70.0),
    ])
    assert outcome(criteria, "00001", "without_grid_electricity_30") == "met"
    assert outcome(criteria, "00002", "without_grid_electricity_30") == "not_met"
    assert verdict(exits, "00001") == "remains"
    assert verdict(exits, "00002") == "exit_candidate"


# ---------------------------------------------------------------------------------------------
# Poor districts: provisional rule, indicators only


def test_no_poor_district_is_an_exit_candidate_without_a_confirmed_scoring_rule():
    # 20 % poor + near-poor: the old 30 % placeholder called this an exit candidate; A Lưới exited at about 40 %
    exits, entries, criteria = evaluate("poor_district", [
        unit("001", level="district", total=1000, poor=100, near_poor=100, new_rural_recognised=False,
             income_per_capita_year=20_000_000.0, is_mountainous_highland_or_border=True),
        unit("002", level="district", total=1000, poor=300, near_poor=150, new_rural_recognised=False),
        unit("003", level="district", total=1000, poor=10, near_poor=10, new_rural_recognised=False)],
        listed=["001", "002"])
    assert verdict(exits, "001") == verdict(exits, "002") == "no_confirmed_rule"
    assert entries.is_empty()
    assert exits["depends_on_unconfirmed"].all() and exits["provisional_rule"].all()
    # the criteria's values are still shown
    rate = criteria.filter(pl.col("unit_code") == "001", pl.col("criterion_id") == "poor_near_poor_rate")
    assert rate["value"].item() == 20.0 and rate["outcome"].item() == "reported"
    indicators = criteria.filter(pl.col("role") == "indicator", pl.col("unit_code") == "001")
    assert dict(indicators.select("criterion_id", "outcome").iter_rows()) == {
        "poor_near_poor_rate": "reported", "commune_development_level": "insufficient_data",
        "income_per_capita": "reported", "mountainous_highland_border": "reported"}


def test_a_listed_poor_district_without_figures_also_gets_no_verdict():
    exits, _, _ = evaluate("poor_district", [unit("001", level="district", total=1000, poor=100)],
                           listed=["001", "009"])
    assert verdict(exits, "009") == "no_confirmed_rule"


def test_operators_can_replace_the_poor_district_rule_with_a_score_without_code_changes(tmp_path: Path):
    document = json.loads(RULES["poor_district"].path.read_text(encoding="utf-8"))
    document["criteria"] += [
        {"id": "rate_40", "label_vi": "≥ 40%", "label_en": "≥ 40 %", "measure": "poor_near_poor_rate",
         "comparison": ">=", "threshold": 40, "citation": {"decision": "X"}, "confirmed": True},
        {"id": "income_low", "label_vi": "thu nhập thấp", "label_en": "low income",
         "measure": "income_per_capita_year", "comparison": "<", "threshold": 15_000_000,
         "citation": {"decision": "X"}, "confirmed": True},
    ]
    document["provisional"] = False
    document["rule_confirmed"] = True      # the operator's file is the official scoring: verdicts come back
    document["entry_rule"] = {"score": {"cutoff": 50, "items": [{"criterion": "rate_40", "points": 30},
                                                                 {"criterion": "income_low", "points": 20}]}}
    path = tmp_path / "poor_district.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    rules = dict(RULES, poor_district=parse_rule(document, path))
    exits, _, _ = evaluate("poor_district", [
        unit("001", level="district", total=100, poor=40, income_per_capita_year=10_000_000.0),
        unit("002", level="district", total=100, poor=40, income_per_capita_year=16_000_000.0),
        unit("003", level="district", total=100, poor=40),
        unit("004", level="district", total=100, poor=10),
    ], rules=rules)
    assert [verdict(exits, c) for c in ("001", "002", "003", "004")] == [
        "remains", "exit_candidate", "insufficient_data", "exit_candidate"]
    assert not exits["depends_on_unconfirmed"].any()


# ---------------------------------------------------------------------------------------------
# Provenance and the explain view


def test_each_criterion_names_the_submissions_its_values_came_from():
    _, _, criteria = evaluate("ed_commune_coastal", [
        unit("00001", total=100, poor=20, submissions="S2,S1", **COASTAL, **lacking("a", "b", "c"))])
    sources = dict(criteria.select("criterion_id", "source_submissions").iter_rows())
    assert sources["poor_near_poor_rate_15"] == "S1,S2"
    assert sources["coastal_location"] == "A00001"


def test_evaluate_unit_gives_the_rule_outcome_beside_each_criterion():
    poverty, attributes, places = frames([unit("00001", total=100, poor=20, **COASTAL, **lacking("a", "b", "c"))])
    rows = evaluate_unit(unit_measures(poverty, attributes, places), "ed_commune_coastal", RULES).collect()
    assert set(rows["rule_outcome"]) == {"met"}
    assert rows.height == len(RULES["ed_commune_coastal"].criteria)


# ---------------------------------------------------------------------------------------------
# Rule files


def test_every_rule_criterion_carries_threshold_comparison_inputs_citation_and_confirmation():
    for rule in RULES.values():
        for criterion in rule.criteria:
            assert criterion.citation.decision and criterion.citation.article, (rule.status_kind, criterion.id)
            if criterion.role == "rule":
                assert criterion.comparison in (">=", ">", "<", "<=", "==")
                assert criterion.threshold is not None and criterion.inputs


def test_a_rule_file_that_names_an_unknown_criterion_or_comparison_is_refused(tmp_path: Path):
    from schemas.rules import RuleFileError

    document = json.loads(RULES["ed_commune_coastal"].path.read_text(encoding="utf-8"))
    broken = dict(document, entry_rule={"all": ["not_new_rural", "no_such_criterion"]})
    with pytest.raises(RuleFileError, match="no_such_criterion"):
        parse_rule(broken, tmp_path / "ed_commune_coastal.json")
    document["criteria"][0]["comparison"] = "≥"
    with pytest.raises(RuleFileError, match="comparison"):
        parse_rule(document, tmp_path / "ed_commune_coastal.json")


def test_missing_inputs_never_turn_a_unit_into_an_exit_candidate():
    # Many units with random gaps: a unit is an exit candidate only where some criterion is definitely not_met;
    # gaps alone give insufficient_data.
    import random

    generator = random.Random(20240101)

    def maybe(value):
        return None if generator.random() < 0.3 else value

    units = []
    for index in range(60):
        total = generator.randint(50, 2000)
        units.append(unit(
            f"{index:05d}", total=maybe(total), poor=maybe(generator.randint(0, total // 3)),
            near_poor=maybe(generator.randint(0, total // 5)),
            is_coastal_or_island=maybe(generator.random() < 0.8), new_rural_recognised=maybe(generator.random() < 0.1),
            saline_intrusion_months=maybe(generator.randint(0, 5)),
            **{f"lacks_infra_{item}": maybe(generator.random() < 0.4)
               for item in ("a", "b", "c", "d", "dd", "e", "g", "h", "i")}))
    exits, _, criteria = evaluate("ed_commune_coastal", units)
    candidates = exits.filter(pl.col("verdict") == "exit_candidate")["unit_code"].to_list()
    assert candidates and exits.filter(pl.col("verdict") == "insufficient_data").height > 0
    not_met = set(criteria.filter(pl.col("outcome") == "not_met")["unit_code"])
    assert set(candidates) <= not_met
