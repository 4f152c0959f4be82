"""Synthetic review data: real codes, plausible households, summaries that add up, reproducible bytes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from schemas.contracts import AREA_SUMMARY, HOUSEHOLD, INDICATOR_IDS
from schemas.standards import income_lines
from synthetic.review import write_synthetic_review, write_synthetic_staging

SMALL = 0.03          # 3 % of the realistic number of households: a province in about a second
HA_GIANG, THAI_BINH = "02", "34"
HA_GIANG_CITY = "024"  # a district of Hà Giang (Thành phố Hà Giang), 8 communes


def _read_all_text(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _households(year_dir: Path) -> pl.DataFrame:
    return pl.concat([
        pl.read_csv(path, schema_overrides={"commune_code": pl.String, "head_ethnicity_code": pl.String,
                                            "household_id": pl.String})
        for path in sorted((year_dir / "commune").glob("*.csv"))])


def _summary(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, schema_overrides={"unit_code": pl.String, "ethnic_group": pl.String,
                                               "village": pl.String})


@pytest.fixture(scope="module")
def review_2024(tmp_path_factory) -> Path:
    """Hà Giang (mountains, mostly minority) and Thái Bình (delta, Kinh) for 2024, at small scale."""
    out = tmp_path_factory.mktemp("review_2024")
    write_synthetic_review(out, 2024, provinces=[HA_GIANG, THAI_BINH], scale=SMALL)
    return out


def _csv_bytes(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*.csv"))}


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path):
    first, again, other = tmp_path / "first", tmp_path / "again", tmp_path / "other"
    write_synthetic_review(first, 2024, districts=[HA_GIANG_CITY], scale=SMALL, seed=7)
    write_synthetic_review(again, 2024, districts=[HA_GIANG_CITY], scale=SMALL, seed=7)
    write_synthetic_review(other, 2024, districts=[HA_GIANG_CITY], scale=SMALL, seed=8)
    assert _csv_bytes(first) == _csv_bytes(again)
    assert (first / "manifest.json").read_bytes() == (again / "manifest.json").read_bytes()
    differing = [name for name, content in _csv_bytes(first).items() if _csv_bytes(other).get(name) != content]
    assert differing, "a different seed produced identical files"


def test_a_district_alone_reproduces_its_communes_from_the_province_run(tmp_path, review_2024):
    write_synthetic_review(tmp_path, 2024, districts=[HA_GIANG_CITY], scale=SMALL)
    alone = _csv_bytes(tmp_path / "2024")
    assert alone
    for name, content in alone.items():
        assert (review_2024 / "2024" / name).read_bytes() == content, name


def test_mountain_communes_are_mostly_minority_and_delta_communes_mostly_kinh(review_2024):
    households = _households(review_2024 / "2024").with_columns(
        (pl.col("head_ethnicity_code") != "01").alias("minority"))
    by_commune = households.group_by("commune_code").agg(pl.col("minority").mean().alias("minority_share"),
                                                         (pl.col("area") == "rural").mean().alias("rural_share"))
    from schemas.geography import hierarchy_at, review_date
    communes = by_commune.join(hierarchy_at(review_date(2024)), on="commune_code")
    ha_giang_rural = communes.filter((pl.col("province_code") == HA_GIANG) & (pl.col("rural_share") > 0.5))
    thai_binh = communes.filter(pl.col("province_code") == THAI_BINH)
    assert ha_giang_rural.height > 100 and thai_binh.height > 200
    assert (ha_giang_rural["minority_share"] > 0.5).mean() > 0.8
    assert (thai_binh["minority_share"] < 0.5).all()
    minority_codes = set(households.filter(pl.col("minority") & pl.col("commune_code").is_in(
        ha_giang_rural["commune_code"].to_list()))["head_ethnicity_code"].unique().to_list())
    assert {"08", "02", "09"} <= minority_codes  # Mông, Tày, Dao


def test_poor_rate_is_higher_in_ha_giang_than_in_thai_binh(review_2024):
    rates = {}
    for province in (HA_GIANG, THAI_BINH):
        total = _summary(review_2024 / "2024" / "province" / f"{province}.csv").filter(
            (pl.col("ethnic_group") == "ALL") & (pl.col("area") == "all")).sum()
        rates[province] = (total["households_poor"][0] + total["households_near_poor"][0]) / total[
            "households_total"][0]
    assert rates[HA_GIANG] > 0.08, rates
    assert rates[THAI_BINH] < 0.06, rates
    assert rates[HA_GIANG] > 3 * rates[THAI_BINH], rates


def _expected_district_summary(households: pl.DataFrame) -> pl.DataFrame:
    """The rule written out independently: ≤ line and ≥ 3 deprivations is poor, ≤ line and fewer near-poor."""
    lines = income_lines("nd07_2021")
    line = pl.when(pl.col("area") == "urban").then(lines["urban"]).otherwise(lines["rural"])
    deprivations = pl.sum_horizontal(pl.col(i).cast(pl.Int64) for i in INDICATOR_IDS)
    under = pl.col("income_per_capita_month") <= line
    flagged = households.with_columns((under & (deprivations >= 3)).alias("poor"),
                                      (under & (deprivations < 3)).alias("near_poor"))
    return (flagged.group_by(pl.col("commune_code").alias("unit_code"),
                             pl.col("head_ethnicity_code").alias("ethnic_group"), "area")
            .agg(pl.len().cast(pl.Int64).alias("households_total"),
                 pl.col("poor").sum().cast(pl.Int64).alias("households_poor"),
                 pl.col("near_poor").sum().cast(pl.Int64).alias("households_near_poor"),
                 *[(pl.col("poor") & pl.col(i)).sum().cast(pl.Int64).alias(f"poor_deprived_{i}")
                   for i in INDICATOR_IDS]))


def test_district_summary_counts_equal_the_households_of_its_commune_files(review_2024):
    year_dir = review_2024 / "2024"
    summary = _summary(year_dir / "district" / f"{HA_GIANG_CITY}.csv")
    communes = summary["unit_code"].unique().to_list()
    households = _households(year_dir).filter(pl.col("commune_code").is_in(communes))
    expected = _expected_district_summary(households)
    measures = [c for c in expected.columns if c not in ("unit_code", "ethnic_group", "area")]
    reported = summary.filter(~pl.col("ethnic_group").is_in(["ALL", "EM"]) & (pl.col("area") != "all"))
    joined = expected.join(reported, on=["unit_code", "ethnic_group", "area"], how="left", suffix="_file")
    for measure in measures:
        assert (joined[measure] == joined[f"{measure}_file"]).all(), measure
    # Rows the households do not have are explicit zeros (a present code in an area without households).
    extra = reported.join(expected, on=["unit_code", "ethnic_group", "area"], how="anti")
    assert (extra["households_total"] == 0).all()
    # ALL/all is every household of the commune; EM/all every non-Kinh one.
    everyone = summary.filter((pl.col("ethnic_group") == "ALL") & (pl.col("area") == "all"))
    assert everyone["households_total"].sum() == households.height
    minorities = summary.filter((pl.col("ethnic_group") == "EM") & (pl.col("area") == "all"))
    assert minorities["households_total"].sum() == households.filter(pl.col("head_ethnicity_code") != "01").height
    assert set(everyone["unit_code"]) == set(minorities["unit_code"]) == set(communes)


def test_province_summary_is_the_sum_of_its_district_summaries(review_2024):
    year_dir = review_2024 / "2024"
    province = _summary(year_dir / "province" / f"{HA_GIANG}.csv")
    measures = [c.name for c in AREA_SUMMARY.columns if c.dtype == pl.Int64]
    for district_code in province["unit_code"].unique().to_list():
        district = _summary(year_dir / "district" / f"{district_code}.csv")
        summed = district.group_by("ethnic_group", "area").agg(pl.col(measures).sum())
        rows = province.filter(pl.col("unit_code") == district_code).drop("unit_code", "village")
        joined = summed.join(rows, on=["ethnic_group", "area"], how="full", suffix="_province")
        for measure in measures:
            assert (joined[measure] == joined[f"{measure}_province"]).all(), (district_code, measure)


def test_pre_reform_years_have_three_levels_of_files_and_the_manifest_lists_them(review_2024):
    year_dir = review_2024 / "2024"
    manifest = json.loads((review_2024 / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(review_2024).as_posix() for p in review_2024.rglob("*.csv")}
    assert set(listed) == on_disk
    assert {f["level"] for f in listed.values()} == {"commune", "district", "province"}
    assert sorted(p.stem for p in (year_dir / "province").glob("*.csv")) == [HA_GIANG, THAI_BINH]
    for path, entry in listed.items():
        assert entry["year"] == 2024 and entry["unit"] == Path(path).stem
        assert entry["kind"] == ("household" if entry["level"] == "commune" else "area_summary")
    sample = next(p for p in listed if p.startswith("2024/commune/"))
    assert listed[sample]["rows"] == pl.read_csv(review_2024 / sample, infer_schema=False).height


def test_from_2025_there_are_commune_and_province_files_only(tmp_path):
    write_synthetic_review(tmp_path, 2025, provinces=["04"], scale=SMALL)
    year_dir = tmp_path / "2025"
    assert not (year_dir / "district").exists()
    assert [p.stem for p in (year_dir / "province").glob("*.csv")] == ["04"]
    province = _summary(year_dir / "province" / "04.csv")
    commune_files = {p.stem for p in (year_dir / "commune").glob("*.csv")}
    assert set(province["unit_code"]) == commune_files
    with pytest.raises(ValueError, match="no districts"):
        write_synthetic_review(tmp_path / "never", 2025, districts=["026"], scale=SMALL)


def test_codes_are_zero_padded_text(review_2024):
    year_dir = review_2024 / "2024"
    households = pl.concat([_read_all_text(p) for p in sorted((year_dir / "commune").glob("*.csv"))[:20]])
    assert households["commune_code"].str.contains(r"^\d{5}$").all()
    assert households["head_ethnicity_code"].str.contains(r"^\d{2}$").all()
    assert households.select(pl.col("household_id").n_unique()).item() == households.height
    assert all(len(p.stem) == 3 for p in (year_dir / "district").glob("*.csv"))
    province = _read_all_text(year_dir / "province" / f"{HA_GIANG}.csv")
    assert province["unit_code"].str.contains(r"^\d{3}$").all()
    assert province.filter(~pl.col("ethnic_group").is_in(["ALL", "EM"]))["ethnic_group"].str.contains(
        r"^\d{2}$").all()
    assert list(households.columns) == HOUSEHOLD.names
    assert list(province.columns) == AREA_SUMMARY.names


def test_some_households_sit_exactly_at_the_income_line_and_the_line_counts_as_under(review_2024):
    lines = income_lines("nd07_2021")
    households = _households(review_2024 / "2024")
    line = pl.when(pl.col("area") == "urban").then(lines["urban"]).otherwise(lines["rural"])
    at_line = households.filter(pl.col("income_per_capita_month") == line)
    assert at_line.height >= 10
    assert set(at_line["reported_classification"].value_counts().sort("count")["reported_classification"]) & {
        "poor", "near_poor"}
    under = households.filter(pl.col("income_per_capita_month") <= line)
    deprivations = under.select(pl.sum_horizontal(pl.col(i).cast(pl.Int64) for i in INDICATOR_IDS)).to_series()
    assert (deprivations >= 3).any() and (deprivations < 3).any()


def test_reported_classification_disagrees_at_the_chosen_rate(tmp_path):
    write_synthetic_review(tmp_path / "none", 2024, districts=[HA_GIANG_CITY], scale=0.2, disagreement_rate=0.0)
    write_synthetic_review(tmp_path / "some", 2024, districts=[HA_GIANG_CITY], scale=0.2, disagreement_rate=0.1)
    lines = income_lines("nd07_2021")
    line = pl.when(pl.col("area") == "urban").then(lines["urban"]).otherwise(lines["rural"])
    deprivations = pl.sum_horizontal(pl.col(i).cast(pl.Int64) for i in INDICATOR_IDS)
    under = pl.col("income_per_capita_month") <= line
    rule = (pl.when(under & (deprivations >= 3)).then(pl.lit("poor")).when(under).then(pl.lit("near_poor"))
            .when(pl.col("income_per_capita_month") <= line * 1.5).then(pl.lit("average"))
            .otherwise(pl.lit("other")))
    shares = {}
    for name in ("none", "some"):
        households = _households(tmp_path / name / "2024")
        shares[name] = households.select((pl.col("reported_classification") != rule).mean()).item()
    assert shares["none"] == 0
    assert 0.06 < shares["some"] < 0.14, shares


def test_an_island_district_without_communes_reports_itself(tmp_path):
    write_synthetic_review(tmp_path, 2024, districts=["536"], scale=SMALL)  # Lý Sơn, Quảng Ngãi
    summary = _summary(tmp_path / "2024" / "district" / "536.csv")
    assert set(summary["unit_code"]) == {"536"}
    assert summary.filter((pl.col("ethnic_group") == "ALL") & (pl.col("area") == "all"))["households_total"][0] > 0
    assert not (tmp_path / "2024" / "commune").exists()


def test_staging_parquet_has_the_contract_and_staging_columns_and_the_same_households(tmp_path, review_2024):
    result = write_synthetic_staging(tmp_path, 2024, provinces=[HA_GIANG], scale=SMALL)
    [generated] = result.files
    staged = pl.read_parquet(tmp_path / generated.path)
    assert generated.path.startswith("household/year=2024/S") and generated.rows == staged.height
    expected_schema = {**HOUSEHOLD.polars_schema(), "submission_id": pl.String, "year": pl.Int64,
                       "submitting_level": pl.String, "submitting_unit": pl.String, "standard": pl.String,
                       "lists_every_household": pl.Boolean}
    assert dict(staged.schema) == expected_schema
    assert staged["standard"].unique().to_list() == ["nd07_2021"]
    # Generated households are every resident household: the lists are declared complete.
    assert staged["lists_every_household"].unique().to_list() == [True]
    from_files = _households(review_2024 / "2024").filter(pl.col("commune_code").is_in(staged["commune_code"].unique().implode()))
    assert staged.height == from_files.height
    assert staged.select(HOUSEHOLD.names).sort("household_id").equals(
        from_files.select(pl.col(n).cast(t) for n, t in HOUSEHOLD.polars_schema().items()).sort("household_id"))


def test_xlsx_lists_open_with_titles_above_a_header_of_contract_names(tmp_path):
    write_synthetic_review(tmp_path, 2024, districts=[HA_GIANG_CITY], scale=SMALL, xlsx=["00688"])
    write_synthetic_review(tmp_path / "again", 2024, districts=[HA_GIANG_CITY], scale=SMALL, xlsx=["00688"])
    path = tmp_path / "2024" / "commune" / "00688.xlsx"
    assert path.read_bytes() == (tmp_path / "again" / "2024" / "commune" / "00688.xlsx").read_bytes()
    raw = pl.read_excel(path, has_header=False, infer_schema_length=0)
    assert raw[0, 0].startswith("DANH SÁCH HỘ")
    table = pl.read_excel(path, read_options={"header_row": 3}, schema_overrides={"commune_code": pl.String})
    assert table.columns == HOUSEHOLD.names
    assert table.height == pl.read_csv(path.with_suffix(".csv"), infer_schema=False).height
    assert sorted(p.name for p in path.parent.glob("*.xlsx")) == ["00688.xlsx"]


def test_vietnamese_headers_use_the_contract_labels(tmp_path):
    write_synthetic_review(tmp_path, 2024, districts=[HA_GIANG_CITY], scale=SMALL, header="vi")
    some_commune = min((tmp_path / "2024" / "commune").glob("*.csv"))
    assert pl.read_csv(some_commune, infer_schema=False).columns == [c.label_vi for c in HOUSEHOLD.columns]


def test_every_ethnic_code_of_the_profiles_is_a_2008_code_and_every_province_has_a_profile():
    from schemas.ethnicity import ethnic_groups
    from schemas.geography import units_at
    from synthetic.households import PROVINCE_PROFILES

    codes = set(ethnic_groups()["code"].to_list())
    for province, profile in PROVINCE_PROFILES.items():
        assert set(profile.minority_groups) <= codes - {"01"}, province
    assert set(units_at("province", date(2024, 12, 31))["unit_code"]) == set(PROVINCE_PROFILES)


def test_the_command_writes_files_and_prints_a_summary(tmp_path, capsys):
    from lnob.cli import main

    assert main(["generate", "--districts", HA_GIANG_CITY, "--scale", str(SMALL), "-o", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "province 02" in printed and "households" in printed and "done:" in printed
    assert (tmp_path / "2024" / "district" / f"{HA_GIANG_CITY}.csv").exists()
    assert main(["generate", "--districts", "026", "--year", "2025", "-o", str(tmp_path)]) == 2


def test_households_per_commune_sets_the_size_and_reported_classification_can_be_left_empty(tmp_path):
    totals = {}
    for per_commune in (200, 400):
        result = write_synthetic_review(tmp_path / str(per_commune), 2024, districts=[HA_GIANG_CITY],
                                        households_per_commune=per_commune, fill_reported=False)
        totals[per_commune] = result.households
    assert 1.9 < totals[400] / totals[200] < 2.1, totals
    households = _households(tmp_path / "200" / "2024")
    assert households["reported_classification"].is_null().all()


def test_writing_only_some_levels_gives_the_same_summaries_as_a_full_run(tmp_path):
    full = write_synthetic_review(tmp_path / "full", 2024, districts=["026"], seed=3, scale=0.05)
    only = write_synthetic_review(tmp_path / "only", 2024, districts=["026"], seed=3, scale=0.05,
                                  levels=("district",))
    assert {f.level for f in only.files} == {"district"}
    district = next(f.path for f in full.files if f.level == "district")
    assert (tmp_path / "only" / district).read_bytes() == (tmp_path / "full" / district).read_bytes()
