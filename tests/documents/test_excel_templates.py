"""A submission template is generated from the contract: the header row is the contract's Vietnamese labels
under a title block naming the unit and year, coded columns carry drop-downs, a district or province summary
comes pre-filled with its own units, and a template filled in without changing its layout is accepted by
`lnob submit` with every value read back as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from xml.etree import ElementTree

import polars as pl
import pytest

from documents.excel_templates import DATA_SHEET, INSTRUCTIONS_SHEET, LISTS_SHEET, write_template
from pipeline.parse import parse_file
from schemas.contracts import INDICATOR_IDS, contract_for
from schemas.geography import REFORM_DATE, review_date, units_at
from store.settings import load_settings

PRE_REFORM_YEAR = 2024
POST_REFORM_YEAR = 2025
PROVINCE = "02"   # Hà Giang before the reform


def _units(level: str, year: int) -> pl.DataFrame:
    return units_at(level, review_date(year))


def _district() -> str:
    districts = _units("district", PRE_REFORM_YEAR).filter(pl.col("province_code") == PROVINCE)
    return districts["unit_code"].sort()[0]


def _communes_of(level: str, code: str, year: int) -> list[str]:
    key = {"district": "district_code", "province": "province_code"}[level]
    return _units("commune", year).filter(pl.col(key) == code)["unit_code"].sort().to_list()


def _reported_units(level: str, code: str, year: int) -> list[str]:
    """What a summary of this unit reports on, straight from the geography (the rule of the brief)."""
    if level == "commune":
        return [code]
    if level == "district" or review_date(year) >= REFORM_DATE:
        return _communes_of(level, code, year)
    return _units("district", year).filter(pl.col("province_code") == code)["unit_code"].sort().to_list()


# (level, unit, year): a commune and a district before the reform, a province before and after it.
CASES = [
    pytest.param("commune", lambda: _communes_of("district", _district(), PRE_REFORM_YEAR)[0], PRE_REFORM_YEAR,
                 id="commune-2024"),
    pytest.param("district", _district, PRE_REFORM_YEAR, id="district-2024"),
    pytest.param("province", lambda: PROVINCE, PRE_REFORM_YEAR, id="province-2024"),
    pytest.param("province", lambda: "04", POST_REFORM_YEAR, id="province-2025"),
]
KINDS = ("household", "area_summary", "area_attributes")


# -- rows a submitter would type ------------------------------------------------------------------------

def _household_rows(communes: list[str]) -> list[dict]:
    rows = []
    for number, commune in enumerate(communes[:3] * 2, start=1):
        deprived = {ind: (number + i) % 4 == 0 for i, ind in enumerate(INDICATOR_IDS)}
        rows.append({"household_id": f"HH{number:04d}", "commune_code": commune, "village": f"Thôn {number}",
                     "area": "rural" if number % 2 else "urban", "head_ethnicity_code": ("01", "02", "08")[number % 3],
                     "household_size": 2 + number % 5, "income_per_capita_month": 1_100_000.0 + 125_000.5 * number,
                     **deprived, "reported_classification": ("poor", "near_poor", "average", "other")[number % 4],
                     "policy_social_protection": number % 2 == 0, "policy_merit": None})
    return rows


def _summary_rows(units: list[str]) -> list[dict]:
    rows = []
    for number, unit in enumerate(units[:3], start=1):
        for group, area, share in (("ALL", "all", 10), ("EM", "all", 6), ("02", "rural", 3)):
            total = 100 * share + number
            poor, near_poor = 8 * share, 5 * share
            rows.append({"unit_code": unit, "ethnic_group": group, "area": area, "households_total": total,
                         "households_poor": poor, "households_near_poor": near_poor,
                         **{f"poor_deprived_{ind}": poor // (i + 2) for i, ind in enumerate(INDICATOR_IDS)},
                         "near_poor_deprived_d01": None})
    return rows


def _attribute_rows(units: list[str]) -> list[dict]:
    return [{"unit_code": unit, "is_coastal_or_island": number == 1, "saline_intrusion_months": number,
             "new_rural_recognised": False, "lacks_infra_a": True, "lacks_infra_dd": number % 2 == 0,
             "workers_untrained_pct": 41.5, "road_to_centre_km": 12.25, "income_per_capita_year": 31_500_000.0}
            for number, unit in enumerate(units[:3], start=1)]


def _rows(kind: str, level: str, unit: str, year: int) -> list[dict]:
    if kind == "household":
        return _household_rows([unit] if level == "commune" else _communes_of(level, unit, year))
    units = _reported_units(level, unit, year)
    return _summary_rows(units) if kind == "area_summary" else _attribute_rows(units)


def _sheet_xml(path, sheet_index: int) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{sheet_index}.xml").decode("utf-8")


# -- the layout ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("level", "unit_of", "year"), CASES)
def test_header_row_is_the_contracts_vietnamese_labels_under_a_title_naming_unit_and_year(
        tmp_path, level, unit_of, year, kind):
    unit = unit_of()
    path = write_template(tmp_path / "t.xlsx", level=level, kind=kind, unit_code=unit, year=year)
    parsed = parse_file(path.read_bytes(), file_name=path.name, kind=kind)
    contract = contract_for(kind)
    assert parsed.sheet == DATA_SHEET
    assert [h for h in parsed.headers if h is not None] == [c.label_vi for c in contract.columns]

    import fastexcel

    workbook = fastexcel.read_excel(path.read_bytes())
    assert list(workbook.sheet_names) == [DATA_SHEET, INSTRUCTIONS_SHEET, LISTS_SHEET]
    title = " ".join(str(v) for row in workbook.load_sheet(DATA_SHEET, header_row=None, dtypes="string",
                                                           n_rows=parsed.header_row - 1).to_polars().iter_rows()
                     for v in row if v)
    name = _units(level, year).filter(pl.col("unit_code") == unit)["unit_name"][0]
    assert unit in title and str(year) in title and name.split()[-1] in title
    # English labels travel in the header cells' comments, not in a row that ingest would read as data.
    with zipfile.ZipFile(path) as archive:
        xml = next(archive.read(n) for n in archive.namelist() if "comments" in n)
    comments = "".join(ElementTree.fromstring(xml).itertext())
    assert all(c.label_en in comments for c in contract.columns)


@pytest.mark.parametrize("kind", ("area_summary", "area_attributes"))
@pytest.mark.parametrize(("level", "unit_of", "year"), CASES)
def test_summary_rows_are_prefilled_with_the_units_it_reports_on(tmp_path, level, unit_of, year, kind):
    unit = unit_of()
    path = write_template(tmp_path / "t.xlsx", level=level, kind=kind, unit_code=unit, year=year)
    parsed = parse_file(path.read_bytes(), file_name=path.name, kind=kind)
    code_position = parsed.headers.index(contract_for(kind).column("unit_code").label_vi)
    codes = parsed.frame.get_column(f"c{code_position}").unique(maintain_order=True).to_list()
    assert codes == _reported_units(level, unit, year)
    # The name stands beside the code, in a column without a header (so ingest never reads it).
    names = dict(zip(_units("commune" if level != "province" or year >= 2025 else "district", year)["unit_code"],
                     _units("commune" if level != "province" or year >= 2025 else "district", year)["unit_name"],
                     strict=True))
    name_column = parsed.frame.get_column(f"c{code_position + 1}").to_list()
    assert parsed.headers[code_position + 1] is None
    assert all(names[code].split()[-1] in written for code, written in
               zip(parsed.frame.get_column(f"c{code_position}").to_list(), name_column, strict=True))


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def test_coded_columns_offer_their_allowed_values_as_drop_downs(tmp_path):
    import fastexcel

    path = write_template(tmp_path / "t.xlsx", level="commune", kind="household",
                          unit_code=_communes_of("district", _district(), PRE_REFORM_YEAR)[0], year=PRE_REFORM_YEAR)
    lists = fastexcel.read_excel(path.read_bytes()).load_sheet(LISTS_SHEET, header_row=None,
                                                                dtypes="string").to_polars()
    validations = re.findall(r'<dataValidation type="list"[^>]*sqref="([A-Z]+)\d+:[A-Z]+\d+"[^>]*>.*?'
                             r"<formula1>(.*?)</formula1>", _sheet_xml(path, 1), flags=re.DOTALL)
    source_of = {_column_index(column): formula for column, formula in validations}
    headers = parse_file(path.read_bytes(), kind="household").headers
    contract = contract_for("household")

    def offered(name: str) -> tuple[list[str], list[str]]:
        """(values of the drop-down, their meanings beside them on the lists sheet)."""
        source = re.search(r"\$([A-Z]+)\$2:\$[A-Z]+\$(\d+)", source_of[headers.index(contract.column(name).label_vi)])
        column, last = _column_index(source.group(1)), int(source.group(2))
        return (lists.to_series(column).slice(1, last - 1).to_list(),
                lists.to_series(column + 1).slice(1, last - 1).to_list())

    assert offered("area")[0] == ["nông thôn", "thành thị"]
    assert all(offered(ind)[0] == ["có", "không"] for ind in INDICATOR_IDS)
    codes, names = offered("head_ethnicity_code")
    assert [code[:2] for code in codes] == [f"{n:02d}" for n in range(1, 55)]
    assert names[0] == "Kinh" and len(set(names)) == 54
    assert offered("reported_classification")[0] == ["hộ nghèo", "hộ cận nghèo", "trung bình", "khác"]


def test_a_district_template_after_the_reform_is_refused(tmp_path):
    with pytest.raises(ValueError, match="2025"):
        write_template(tmp_path / "t.xlsx", level="district", kind="area_summary", unit_code=_district(),
                       year=POST_REFORM_YEAR)


# -- the round trip -----------------------------------------------------------------------------------

def _submit(tmp_path, path, *, level, unit, year, kind):
    from pipeline.intake import submit
    from store.registry import Registry

    settings = load_settings(tmp_path / "home")
    verdict = submit(settings, path, level=level, unit_code=unit, year=year, kind=kind)
    return settings, Registry(settings.database_url), verdict


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("level", "unit_of", "year"), CASES)
def test_a_filled_template_is_accepted_and_reads_back_as_written(tmp_path, level, unit_of, year, kind):
    unit = unit_of()
    rows = _rows(kind, level, unit, year)
    path = write_template(tmp_path / f"{level}-{kind}.xlsx", level=level, kind=kind, unit_code=unit, year=year,
                          rows=rows)
    _settings, registry, verdict = _submit(tmp_path, path, level=level, unit=unit, year=year, kind=kind)
    assert verdict["status"] == "accepted", verdict["findings"]
    assert verdict["findings"] == [], "a template filled as intended raises no finding at all"

    staged = pl.read_parquet(registry.get(verdict["submission_id"]).staging_path)
    contract = contract_for(kind)
    expected = pl.DataFrame(rows, schema={c.name: c.dtype for c in contract.columns if c.name in rows[0]})
    got = staged.select(expected.columns)
    key = [c for c in contract.unique_key if c in expected.columns and expected[c].null_count() == 0]
    assert got.sort(key).equals(expected.sort(key)), (got, expected)


@pytest.mark.parametrize("kind", ("area_summary", "area_attributes"))
@pytest.mark.parametrize(("level", "unit_of", "year"), CASES)
def test_a_prefilled_template_sent_back_untouched_is_accepted_as_not_reported(tmp_path, level, unit_of, year,
                                                                              kind):
    unit = unit_of()
    path = write_template(tmp_path / "t.xlsx", level=level, kind=kind, unit_code=unit, year=year)
    _settings, registry, verdict = _submit(tmp_path, path, level=level, unit=unit, year=year, kind=kind)
    assert verdict["status"] == "accepted", verdict["findings"]
    staged = pl.read_parquet(registry.get(verdict["submission_id"]).staging_path)
    counts = [c.name for c in contract_for(kind).columns if c.name not in ("unit_code", "village", "ethnic_group",
                                                                            "area")]
    assert staged.select(counts).null_count().row(0) == (staged.height,) * len(counts)


def test_lnob_template_command_writes_the_workbook(tmp_path):
    out = tmp_path / "district.xlsx"
    result = subprocess.run([sys.executable, "-m", "lnob", "template", "--level", "district", "--kind",
                             "area_summary", "--unit", _district(), "--year", str(PRE_REFORM_YEAR), "-o", str(out)],
                            check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert parse_file(out.read_bytes(), kind="area_summary").header_row is not None
    refused = subprocess.run([sys.executable, "-m", "lnob", "template", "--level", "district", "--kind",
                              "area_summary", "--unit", _district(), "--year", "2026", "-o", str(out)],
                             check=False, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "2025" in refused.stderr


def test_lnob_submit_accepts_a_filled_template(tmp_path):
    unit = _district()
    path = write_template(tmp_path / "filled.xlsx", level="district", kind="area_summary", unit_code=unit,
                          year=PRE_REFORM_YEAR, rows=_rows("area_summary", "district", unit, PRE_REFORM_YEAR))
    result = subprocess.run([sys.executable, "-m", "lnob", "submit", str(path), "--level", "district", "--unit", unit,
                             "--year", str(PRE_REFORM_YEAR), "--kind", "area_summary", "--json"],
                            check=False, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "LNOB_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "accepted"


def test_code_cells_are_text_so_leading_zeros_survive(tmp_path):
    unit = _district()
    path = write_template(tmp_path / "t.xlsx", level="district", kind="area_summary", unit_code=unit,
                          year=PRE_REFORM_YEAR)
    parsed = parse_file(path.read_bytes(), kind="area_summary")
    code_position = parsed.headers.index("Mã đơn vị")
    assert code_position not in parsed.machine_numeric
    assert all(len(code) == 5 for code in parsed.frame.get_column(f"c{code_position}").to_list())


@pytest.mark.parametrize("declared", [True, False])
def test_the_household_titles_declaration_reads_back_into_the_submission(tmp_path, declared):
    """The title block's "có / không" beside "the list holds every resident household" is what ingest reads."""
    level, unit_of, year = CASES[0].values
    unit = unit_of()
    rows = _rows("household", level, unit, year)
    path = write_template(tmp_path / "household.xlsx", level=level, kind="household", unit_code=unit, year=year,
                          rows=rows, lists_every_household=declared)
    _settings, registry, verdict = _submit(tmp_path, path, level=level, unit=unit, year=year, kind="household")
    assert verdict["status"] == "accepted", verdict["findings"]
    assert verdict["lists_every_household"] is declared
    staged = pl.read_parquet(registry.get(verdict["submission_id"]).staging_path)
    assert staged["lists_every_household"].to_list() == [declared] * len(rows)
