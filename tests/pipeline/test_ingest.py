"""Ingest, rule by rule, on real files: each case is written as CSV and as XLSX (with the title rows of a
Vietnamese report form above the header), submitted, and the finding is checked for its rule, its row or
cell, and its column as the submitter wrote it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from fixtures_ingest import (
    COMMUNE,
    COMMUNE_2025,
    COMMUNE_OTHER_DISTRICT,
    DISTRICT,
    LABEL,
    OTHER_COMMUNE_SAME_DISTRICT,
    YEAR,
    column_letter,
    frame_of,
    gx_runner,
    household_rows,
    make_settings,
    only,
    summary_rows,
    write_csv,
    write_file,
)

from pipeline.intake import submit
from schemas.contracts import HOUSEHOLD
from store.registry import Registry

__all__ = ["gx_runner"]

FORMATS = ["csv", "xlsx"]
TITLES = ("BÁO CÁO KẾT QUẢ RÀ SOÁT HỘ NGHÈO, HỘ CẬN NGHÈO", "Năm 2024")


def build(tmp_path, fmt: str, frame: pl.DataFrame, name: str = "submission", **options):
    """Write the frame; returns (path, row number of the first data row as the submitter sees it)."""
    if fmt == "xlsx":
        options.setdefault("title_rows", TITLES)
        path = write_file(tmp_path / name, frame, "xlsx", **options)
        return path, len(options["title_rows"]) + 2
    return write_file(tmp_path / name, frame, "csv", **options), 2


def cell(fmt: str, frame: pl.DataFrame, header: str, row: int) -> str | None:
    return f"{column_letter(frame, header)}{row}" if fmt == "xlsx" else None


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "home")


def send(settings, path, gx_runner, *, level="commune", unit=COMMUNE, year=YEAR, kind="household", **options):
    return submit(settings, path, level=level, unit_code=unit, year=year, kind=kind, runner=gx_runner, **options)


# --- accepted files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_a_valid_household_file_is_accepted_and_staged_typed_as_the_contract(tmp_path, settings, gx_runner, fmt):
    frame = frame_of(household_rows(6))
    path, _first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)

    assert verdict["status"] == "accepted", verdict["findings"]
    assert not [f for f in verdict["findings"] if f["severity"] == "error"]
    staged = pl.read_parquet(settings.staging / "household" / f"year={YEAR}" / f"{verdict['submission_id']}.parquet")
    expected = {**dict(HOUSEHOLD.polars_schema()), "submission_id": pl.String, "year": pl.Int64,
                "submitting_level": pl.String, "submitting_unit": pl.String, "standard": pl.String,
                "lists_every_household": pl.Boolean}
    assert dict(staged.schema) == expected
    assert staged.height == 6
    assert staged["household_id"].to_list() == [f"HH{i:05d}" for i in range(1, 7)]   # file order kept
    assert staged["income_per_capita_month"][0] == 1_200_000.0                        # "1.200.000" read the Vietnamese way
    assert set(staged["area"]) == {"rural", "urban"}                                  # "nông thôn" / "thành thị"
    assert set(staged["submission_id"]) == {verdict["submission_id"]}
    registry = Registry(settings.database_url)
    assert [r.submission_id for r in registry.current_accepted(year=YEAR, kind="household")] == [verdict["submission_id"]]
    report = json.loads(Path(verdict["report_json"]).read_text(encoding="utf-8"))
    assert report["status"] == "accepted" and report["file"]["format"] == fmt
    html = Path(verdict["report_html"]).read_text(encoding="utf-8")
    assert html.index("Kết quả kiểm tra") < html.index("Submission check")          # Vietnamese first


def test_headers_may_be_english_names_or_unaccented_labels_in_any_case(tmp_path, settings, gx_runner):
    from schemas.text import strip_accents

    frame = frame_of(household_rows(3), headers="en")
    mixed = frame.rename({c: strip_accents(LABEL[c]).upper() for c in frame.columns[:6]})
    path, _ = build(tmp_path, "csv", mixed)
    verdict = send(settings, path, gx_runner)
    assert verdict["status"] == "accepted", verdict["findings"]


def test_json_records_and_parquet_are_read_too(tmp_path, settings, gx_runner):
    rows = household_rows(3)
    json_path = tmp_path / "households.json"
    json_path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    assert send(settings, json_path, gx_runner)["status"] == "accepted"
    parquet_path = tmp_path / "households.parquet"
    frame_of(household_rows(4), headers="en").write_parquet(parquet_path)
    assert send(settings, parquet_path, gx_runner)["status"] == "accepted"


@pytest.mark.parametrize("encoding,separator", [("utf-8-sig", ","), ("utf-16", "\t"), ("utf-8", ";")])
def test_csv_in_utf8_bom_or_utf16_with_any_separator_is_accepted(tmp_path, settings, gx_runner, encoding, separator):
    path = write_csv(tmp_path / "h.csv", frame_of(household_rows(3)), separator=separator, encoding=encoding)
    verdict = send(settings, path, gx_runner)
    assert verdict["status"] == "accepted", verdict["findings"]


def test_the_kind_is_told_from_the_columns_when_not_given(tmp_path, settings, gx_runner):
    households, _ = build(tmp_path, "csv", frame_of(household_rows(3)), name="h")
    summary, _ = build(tmp_path, "xlsx", frame_of(summary_rows()), name="s")
    assert send(settings, households, gx_runner, kind=None)["kind"] == "household"
    verdict = send(settings, summary, gx_runner, level="district", unit=DISTRICT, kind=None)
    assert verdict["kind"] == "area_summary" and verdict["status"] == "accepted", verdict["findings"]


def test_a_named_sheet_is_read_instead_of_the_first(tmp_path, settings, gx_runner):
    path = build(tmp_path, "xlsx", frame_of(household_rows(3)), sheet="Biểu 01", extra_sheet="Hướng dẫn")[0]
    verdict = send(settings, path, gx_runner, sheet="Biểu 01")
    assert verdict["status"] == "accepted", verdict["findings"]
    other = write_file(tmp_path / "other", frame_of(household_rows(4)), "xlsx", sheet="Biểu 01",
                       extra_sheet="Hướng dẫn")
    first_sheet = send(settings, other, gx_runner)                           # the instructions sheet
    assert first_sheet["status"] == "rejected"
    assert only(first_sheet["findings"], "file.no_header")
    missing = send(settings, write_file(tmp_path / "third", frame_of(household_rows(5)), "xlsx"), gx_runner,
                   sheet="Không có")
    [finding] = only(missing["findings"], "file.sheet_missing")
    assert finding["value"] == "Không có" and "Sheet1" in finding["message_en"]


# --- column rules (Great Expectations) --------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_household_size_outside_1_to_50_is_located(tmp_path, settings, gx_runner, fmt):
    rows = household_rows(6)
    rows[2]["household_size"] = "0"
    rows[4]["household_size"] = "51"
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)

    assert verdict["status"] == "rejected"
    findings = only(verdict["findings"], "household.size_range")
    header = LABEL["household_size"]
    assert [(f["row"], f["column"], f["value"], f["count"]) for f in findings] == [
        (first + 2, header, "0", 2), (first + 4, header, "51", 2)]
    assert [f["cell"] for f in findings] == [cell(fmt, frame, header, first + 2), cell(fmt, frame, header, first + 4)]
    assert findings[0]["sheet"] == ("Sheet1" if fmt == "xlsx" else None)
    assert findings[0]["file"] == path.name
    assert "1 đến 50" in findings[0]["message_vi"] and "between 1 and 50" in findings[0]["message_en"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_very_large_household_is_a_warning_and_does_not_reject(tmp_path, settings, gx_runner, fmt):
    rows = household_rows(4)
    rows[1]["household_size"] = "25"
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    assert verdict["status"] == "accepted"
    [finding] = only(verdict["findings"], "household.size_unusual")
    assert (finding["severity"], finding["row"], finding["column"]) == ("warning", first + 1, LABEL["household_size"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_required_empty_cells_are_reported_once_per_cell(tmp_path, settings, gx_runner, fmt):
    rows = household_rows(4)
    rows[1]["area"] = ""
    rows[3]["household_size"] = "ba người"       # unreadable: reported as such, not again as empty
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    [empty] = only(verdict["findings"], "household.value_required")
    assert (empty["row"], empty["column"], empty["cell"]) == (first + 1, LABEL["area"],
                                                              cell(fmt, frame, LABEL["area"], first + 1))
    [unreadable] = only(verdict["findings"], "value.not_a_number")
    assert (unreadable["row"], unreadable["column"], unreadable["value"]) == (first + 3, LABEL["household_size"],
                                                                             "ba người")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_household_id_twice_in_the_commune_is_a_duplicate(tmp_path, settings, gx_runner, fmt):
    rows = household_rows(5)
    rows[3]["household_id"] = rows[0]["household_id"]
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    findings = only(verdict["findings"], "household.id_unique")
    assert [(f["row"], f["column"], f["value"]) for f in findings] == [
        (first, LABEL["household_id"], "HH00001"), (first + 3, LABEL["household_id"], "HH00001")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_values_outside_the_allowed_set_are_rejected_and_aliases_are_not(tmp_path, settings, gx_runner, fmt):
    rows = household_rows(4)
    rows[0]["area"] = "Nông Thôn"                  # an alias in another case: fine
    rows[2]["area"] = "miền núi"                   # not an area
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    [finding] = only(verdict["findings"], "household.area_allowed")
    assert (finding["row"], finding["column"], finding["value"]) == (first + 2, LABEL["area"], "miền núi")


# --- values ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_an_ambiguous_income_is_never_guessed(tmp_path, settings, gx_runner, fmt):
    rows = household_rows(3)
    for row in rows:   # plain digits elsewhere: the column does not say which convention it is written in
        row["income_per_capita_month"] = row["income_per_capita_month"].replace(".", "")
    rows[1]["income_per_capita_month"] = "1,500"
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    assert verdict["status"] == "rejected"
    [finding] = only(verdict["findings"], "value.ambiguous_number")
    header = LABEL["income_per_capita_month"]
    assert (finding["row"], finding["column"], finding["value"], finding["cell"]) == (
        first + 1, header, "1,500", cell(fmt, frame, header, first + 1))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_comma_grouped_count_is_read_as_thousands_with_a_warning(tmp_path, settings, gx_runner, fmt):
    rows = summary_rows()
    rows[0]["households_total"] = "1,500"
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner, level="district", unit=DISTRICT, kind="area_summary")
    assert verdict["status"] == "accepted", verdict["findings"]
    [finding] = only(verdict["findings"], "value.thousands_comma")
    assert (finding["severity"], finding["row"], finding["column"]) == ("warning", first, LABEL["households_total"])
    staged = pl.read_parquet(settings.staging / "area_summary" / f"year={YEAR}" / f"{verdict['submission_id']}.parquet")
    assert staged["households_total"].to_list() == [1500, 1200, 1200]


@pytest.mark.parametrize("fmt", FORMATS)
def test_codes_that_lost_their_leading_zeros_get_them_back_with_a_warning(tmp_path, settings, gx_runner, fmt):
    rows = household_rows(3)
    for row in rows:
        row["commune_code"] = COMMUNE.lstrip("0")              # what Excel keeps of 00688
    frame = frame_of(rows)
    numeric = (LABEL["commune_code"], LABEL["household_size"]) if fmt == "xlsx" else ()
    path, first = build(tmp_path, fmt, frame, **({"numeric": numeric} if fmt == "xlsx" else {}))
    verdict = send(settings, path, gx_runner)
    assert verdict["status"] == "accepted", verdict["findings"]
    findings = only(verdict["findings"], "code.leading_zeros_restored")
    header = LABEL["commune_code"]
    assert [(f["row"], f["column"], f["value"]) for f in findings] == [(first + i, header, "688") for i in range(3)]
    assert findings[0]["cell"] == cell(fmt, frame, header, first)
    staged = pl.read_parquet(settings.staging / "household" / f"year={YEAR}" / f"{verdict['submission_id']}.parquet")
    assert set(staged["commune_code"]) == {COMMUNE}


# --- file structure ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_required_column_is_named_in_both_languages(tmp_path, settings, gx_runner, fmt):
    frame = frame_of(household_rows(3)).drop(LABEL["household_size"])
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    [finding] = only(verdict["findings"], "file.missing_column")
    assert finding["column"] == LABEL["household_size"] and finding["row"] == first - 1
    assert "household_size" in finding["message_en"] and LABEL["household_size"] in finding["message_vi"]
    assert not only(verdict["findings"], "household.value_required")   # not repeated on every row


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_column_given_twice_is_a_duplicate_column(tmp_path, settings, gx_runner, fmt):
    frame = frame_of(household_rows(3)).with_columns(pl.col(LABEL["commune_code"]).alias("MA XA"))
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    assert verdict["status"] == "rejected"
    [finding] = only(verdict["findings"], "file.duplicate_column")
    assert (finding["column"], finding["row"], finding["cell"]) == ("MA XA", first - 1,
                                                                     cell(fmt, frame, "MA XA", first - 1))


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_column_is_ignored_with_a_warning(tmp_path, settings, gx_runner, fmt):
    frame = frame_of(household_rows(3)).with_columns(pl.lit("ghi chú").alias("Ghi chú"))
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    assert verdict["status"] == "accepted"
    [finding] = only(verdict["findings"], "file.unknown_column")
    assert (finding["severity"], finding["column"], finding["row"]) == ("warning", "Ghi chú", first - 1)


def test_formulas_and_merged_cells_in_the_data_are_warned_with_their_cells(tmp_path, settings, gx_runner):
    frame = frame_of(household_rows(4))
    size_column = column_letter(frame, LABEL["household_size"])
    village_column = column_letter(frame, LABEL["village"])
    first = len(TITLES) + 2
    path = build(tmp_path, "xlsx", frame, formulas={f"{size_column}{first + 1}": "=1+2"},
                 merge=f"{village_column}{first + 2}:{village_column}{first + 3}")[0]
    verdict = send(settings, path, gx_runner)
    [formulas] = only(verdict["findings"], "file.formulas")
    assert formulas["cell"] == f"{size_column}{first + 1}" and formulas["severity"] == "warning"
    [merged] = only(verdict["findings"], "file.merged_cells")
    assert merged["cell"] == f"{village_column}{first + 2}"


def test_title_lines_above_a_csv_header_are_counted_in_row_numbers(tmp_path, settings, gx_runner):
    rows = household_rows(3)
    rows[2]["household_size"] = "0"
    path = write_csv(tmp_path / "h.csv", frame_of(rows), title_lines=TITLES + ("",))
    verdict = send(settings, path, gx_runner)
    [finding] = only(verdict["findings"], "household.size_range")
    assert finding["row"] == len(TITLES) + 1 + 1 + 3     # titles, blank line, header, third data row


# --- reference lists ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_a_household_of_another_commune_is_refused(tmp_path, settings, gx_runner, fmt):
    rows = household_rows(3)
    rows[1]["commune_code"] = OTHER_COMMUNE_SAME_DISTRICT
    rows[2]["commune_code"] = "99999"
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    header = LABEL["commune_code"]
    [mismatch] = only(verdict["findings"], "reference.commune_mismatch")
    assert (mismatch["row"], mismatch["column"], mismatch["value"], mismatch["cell"]) == (
        first + 1, header, OTHER_COMMUNE_SAME_DISTRICT, cell(fmt, frame, header, first + 1))
    [unknown] = only(verdict["findings"], "reference.unit_unknown")
    assert (unknown["row"], unknown["value"]) == (first + 2, "99999")


@pytest.mark.parametrize("fmt", FORMATS)
def test_ethnic_codes_beyond_the_2008_list_are_refused_and_the_1979_list_named(tmp_path, settings, gx_runner, fmt):
    rows = household_rows(3)
    rows[0]["head_ethnicity_code"] = "55"
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner)
    [finding] = only(verdict["findings"], "reference.ethnicity_unknown")
    assert (finding["row"], finding["column"], finding["value"]) == (first, LABEL["head_ethnicity_code"], "55")
    assert "1979" in finding["message_vi"] and "1979" in finding["message_en"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_district_reports_only_its_own_communes(tmp_path, settings, gx_runner, fmt):
    frame = frame_of(summary_rows(communes=(COMMUNE, COMMUNE_OTHER_DISTRICT)))
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner, level="district", unit=DISTRICT, kind="area_summary")
    [finding] = only(verdict["findings"], "reference.unit_outside_submitter")
    assert (finding["row"], finding["column"], finding["value"]) == (first + 1, LABEL["unit_code"],
                                                                     COMMUNE_OTHER_DISTRICT)


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_district_submissions_for_review_years_after_the_2025_reform(tmp_path, settings, gx_runner, fmt):
    path, _ = build(tmp_path, fmt, frame_of(summary_rows()))
    verdict = send(settings, path, gx_runner, level="district", unit=DISTRICT, kind="area_summary", year=2025)
    assert verdict["status"] == "rejected"
    [finding] = only(verdict["findings"], "reference.level_abolished")
    assert finding["row"] is None and "2025" in finding["message_en"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_codes_are_checked_against_the_geography_of_the_review_year(tmp_path, settings, gx_runner, fmt):
    old, first = build(tmp_path, fmt, frame_of(household_rows(2)), name="old")
    verdict = send(settings, old, gx_runner, year=2025)              # 00688 no longer exists after 2025-07-01
    assert only(verdict["findings"], "reference.submitting_unit_unknown")
    assert [f["row"] for f in only(verdict["findings"], "reference.unit_unknown")] == [first, first + 1]
    new, _ = build(tmp_path, fmt, frame_of(household_rows(2, commune=COMMUNE_2025)), name="new")
    assert send(settings, new, gx_runner, unit=COMMUNE_2025, year=2025)["status"] == "accepted"


def test_an_implausible_review_year_is_refused(tmp_path, settings, gx_runner):
    path, _ = build(tmp_path, "csv", frame_of(household_rows(2)))
    verdict = send(settings, path, gx_runner, year=2019)
    [finding] = only(verdict["findings"], "reference.year_out_of_range")
    assert finding["value"] == "2019"


@pytest.mark.parametrize("fmt", FORMATS)
def test_summary_counts_must_add_up(tmp_path, settings, gx_runner, fmt):
    rows = summary_rows()
    rows[0]["households_poor"], rows[0]["households_near_poor"] = "700", "600"    # 1,300 > 1,200
    rows[1]["poor_deprived_d03"] = "81"                                             # > 80 poor households
    rows[2]["households_near_poor"] = "-5"
    frame = frame_of(rows)
    path, first = build(tmp_path, fmt, frame)
    verdict = send(settings, path, gx_runner, level="district", unit=DISTRICT, kind="area_summary")
    [within_total] = only(verdict["findings"], "area_summary.poor_within_total")
    assert (within_total["row"], within_total["column"], within_total["value"]) == (
        first, LABEL["households_poor"], "1300")
    [deprived] = only(verdict["findings"], "area_summary.deprived_within_poor")
    header = LABEL["poor_deprived_d03"]
    assert (deprived["row"], deprived["column"], deprived["cell"]) == (first + 1, header,
                                                                       cell(fmt, frame, header, first + 1))
    [negative] = only(verdict["findings"], "area_summary.count_nonnegative")
    assert (negative["row"], negative["column"], negative["value"]) == (first + 2, LABEL["households_near_poor"], "-5")


def test_a_district_commune_code_stored_as_a_number_is_restored_by_the_lists(tmp_path, settings, gx_runner):
    frame = frame_of(summary_rows())
    path = write_file(tmp_path / "summary", frame, "xlsx", title_rows=TITLES, numeric=(LABEL["unit_code"],))
    verdict = send(settings, path, gx_runner, level="district", unit=DISTRICT, kind="area_summary")
    assert verdict["status"] == "accepted", verdict["findings"]
    findings = only(verdict["findings"], "code.leading_zeros_restored")
    assert [(f["cell"], f["value"]) for f in findings] == [("A4", "688"), ("A5", "691"), ("A6", "24")]
    staged = pl.read_parquet(settings.staging / "area_summary" / f"year={YEAR}" / f"{verdict['submission_id']}.parquet")
    assert staged["unit_code"].to_list() == [COMMUNE, OTHER_COMMUNE_SAME_DISTRICT, DISTRICT]
