"""Normalising a submitted table: headers, numbers written the Vietnamese way, codes, aliases, NFC."""

from __future__ import annotations

import unicodedata

import polars as pl
import pytest

from schemas.contracts import AREA_SUMMARY, HOUSEHOLD
from transforms.normalize import (
    contract_frame,
    infer_kind,
    match_headers,
    normalize,
    normalize_distinct,
    parse_number_text,
    value_issues,
)


def test_headers_match_names_or_labels_with_or_without_accents_in_any_case():
    match = match_headers(["household_id", "MÃ XÃ", "khu vuc", "So nhan khau", "Ghi chú", None, "ma xa"], HOUSEHOLD)
    assert match.columns == {0: "household_id", 1: "commune_code", 2: "area", 3: "household_size"}
    assert match.unknown == [4]
    assert match.duplicates == {"commune_code": [1, 6]}
    assert "income_per_capita_month" in match.missing_required
    assert "village" in match.missing_optional


def test_the_kind_is_the_contract_whose_required_columns_are_there():
    assert infer_kind([c.label_vi for c in HOUSEHOLD.columns]) == "household"
    assert infer_kind(["Mã đơn vị", "Nhóm dân tộc", "Khu vực", "Số hộ nghèo"]) == "area_summary"
    assert infer_kind(["foo", "bar"]) is None


@pytest.mark.parametrize("text,whole,value,rule", [
    ("1.057.374", True, 1_057_374, None),          # Vietnamese thousands
    ("1,057,374", True, 1_057_374, None),          # English thousands (several groups: unambiguous)
    ("1 057 374", True, 1_057_374, None),
    ("1.500", True, 1_500, None),                   # a count cannot be 1.5
    ("1,500", True, 1_500, "value.thousands_comma"),   # read as thousands, and said so
    ("3,0", True, 3, None),
    ("4,03", True, None, "value.not_a_whole_number"),
    ("4,03", False, 4.03, None),                    # Vietnamese decimal comma
    ("1.200.000,5", False, 1_200_000.5, None),
    ("1,200,000.5", False, 1_200_000.5, None),
    ("0,500", False, 0.5, None),
    ("1,500", False, None, "value.ambiguous_number"),   # 1.5 or 1500: never guessed
    ("1.500", False, None, "value.ambiguous_number"),
    ("12,5%", False, 12.5, None),
    ("ba", True, None, "value.not_a_number"),
])
def test_numbers_are_read_deliberately(text, whole, value, rule):
    assert parse_number_text(text, whole=whole) == (value, rule)


def _raw(rows: dict[str, list]) -> pl.LazyFrame:
    height = len(next(iter(rows.values())))
    return pl.LazyFrame({"__row__": list(range(2, height + 2)), **rows}, schema_overrides={k: pl.String for k in rows})


def test_codes_get_zeros_back_text_is_nfc_and_aliases_become_codes():
    nfd_village = unicodedata.normalize("NFD", "Thôn Nà Phìn")
    normalized = normalize(_raw({
        "commune_code": ["688", "00688", "688.0"], "village": [nfd_village, " Thôn  Nà Phìn ", None],
        "area": ["Nông thôn", "THANH THI", "rural"], "head_ethnicity_code": ["1", "Tày", "08"],
        "household_size": ["3", "", "4"], "d01": ["có", "0", "x"],
    }), HOUSEHOLD, ethnic_names={"tay": "02", "kinh": "01"}).collect()
    assert normalized["commune_code"].to_list() == ["00688", "00688", "00688"]
    assert normalized["village"].to_list() == ["Thôn Nà Phìn", "Thôn Nà Phìn", None]
    assert normalized["village"].n_unique() == 2
    assert normalized["area"].to_list() == ["rural", "urban", "rural"]
    assert normalized["head_ethnicity_code"].to_list() == ["01", "02", "08"]
    assert normalized["household_size"].to_list() == [3, None, 4]        # empty is unknown, never zero
    assert normalized["d01"].to_list() == [True, False, True]
    issues = value_issues(normalized.lazy(), HOUSEHOLD).collect()
    assert issues.select("__row__", "column", "rule").rows() == [
        (2, "commune_code", "code.leading_zeros_restored"), (4, "commune_code", "code.leading_zeros_restored"),
        (2, "head_ethnicity_code", "code.leading_zeros_restored"),
        (3, "head_ethnicity_code", "code.name_replaced_by_code"),
    ]


def test_numbers_written_by_a_program_are_not_read_as_vietnamese_text():
    normalized = normalize(_raw({"income_per_capita_month": ["1.5", "1500000"], "household_size": ["3.0", "2.5"]}),
                           HOUSEHOLD, machine_numeric={"income_per_capita_month", "household_size"}).collect()
    assert normalized["income_per_capita_month"].to_list() == [1.5, 1_500_000.0]
    assert normalized["household_size"].to_list() == [3, None]
    assert normalized["household_size__issue"].to_list() == [None, "value.not_a_whole_number"]


def test_unit_codes_of_several_widths_are_padded_to_what_the_level_reports():
    normalized = normalize(_raw({"unit_code": ["1", "024", "688", "00688"], "ethnic_group": ["tất cả", "1", "EM", "dtts"]}),
                           AREA_SUMMARY, pad_widths={"unit_code": 5}).collect()
    assert normalized["unit_code"].to_list() == ["00001", "024", "688", "00688"]   # a valid width is kept
    assert normalized["ethnic_group"].to_list() == ["ALL", "01", "EM", "EM"]


def test_the_contract_frame_is_typed_exactly_as_the_contract():
    frame = contract_frame(normalize(_raw({"household_id": ["H1"]}), HOUSEHOLD), HOUSEHOLD).collect()
    assert dict(frame.schema) == {"__row__": pl.Int64, **dict(HOUSEHOLD.polars_schema())}


def test_an_ethnic_group_written_as_code_and_name_reads_as_its_code_only_when_they_agree():
    from pipeline.ingest import _ethnic_reference

    _, names = _ethnic_reference()
    raw = pl.LazyFrame({"__row__": [2, 3, 4, 5], "head_ethnicity_code": ["01 - Kinh", "8 - H'Mông", "01 - Tày", "05"]})
    out = normalize(raw, HOUSEHOLD, machine_numeric=set(), pad_widths={}, ethnic_names=names).collect()
    assert out["head_ethnicity_code"].to_list()[:2] == ["01", "08"]
    assert out["head_ethnicity_code"][3] == "05"
    # A code and a name that disagree are never resolved either way: the cell keeps its text, which the
    # suite's code-format rule then rejects; what the submitter wrote is what the finding shows.
    assert out["head_ethnicity_code"][2] == "01 - Tày"
    assert out["head_ethnicity_code__text"].to_list() == ["01 - Kinh", "8 - H'Mông", "01 - Tày", "05"]


# --- typing once per distinct text (normalize_distinct) ---------------------------------------------

_SPELLINGS = ["", " ", "\t", "1", "01", "1.0", "1,500", "1.500", "1.500.000", "4,03", "-5", "1e3", "12\u00a0000",
              "100%", "Có", "x", "TRUE", "Không", " yes ", "maybe", "Kinh", "01 - Kinh", "01 - Tày", "Tày", "55",
              "nông thôn", "Nông  Thôn", "thành thị", "rural", "ALL", "tất cả", "dtts", "hộ nghèo", "khác",
              "Tho\u0302n 1", "Thôn\n2", "688", "00688", "688.0", "024", "99999", "a  b", "e\u0301", "0,500", None]


def _messy_table(contract, rows: int, seed: int) -> pl.DataFrame:
    """Every column of a contract: few spellings (a rare one placed where a sample may miss it), many
    distinct ones (ids, some with spaces to clean), thousands shared by several rows, or none at all."""
    import random

    rng = random.Random(seed)
    columns: dict[str, list] = {"__row__": list(range(2, rows + 2))}
    for position, column in enumerate(contract.columns):
        shape = position % 5
        if shape == 0:
            columns[column.name] = [rng.choice(_SPELLINGS[:3] + _SPELLINGS[14:16]) for _ in range(rows)]
            if rows:
                columns[column.name][rng.randrange(rows)] = rng.choice(_SPELLINGS)     # the rare one
        elif shape == 1:
            columns[column.name] = [f"{rng.choice(['', ' ', 'H'])}{i}{rng.choice(['', '  x', '.0'])}" for i in range(rows)]
        elif shape == 2:
            columns[column.name] = [rng.choice(_SPELLINGS) for _ in range(rows)]
        elif shape == 3:
            columns[column.name] = [f"{i % 6000:,}".replace(",", ". "[i % 2]) for i in range(rows)]
        else:
            columns[column.name] = [None] * rows
    return pl.DataFrame(columns, schema={"__row__": pl.Int64, **{c.name: pl.String for c in contract.columns}})


@pytest.mark.parametrize("rows", [0, 1, 40, 25_000])
@pytest.mark.parametrize("contract", [HOUSEHOLD, AREA_SUMMARY], ids=lambda c: c.name)
def test_typing_each_distinct_text_once_gives_what_typing_every_cell_gives(contract, rows):
    from pipeline.ingest import _ethnic_reference

    _, names = _ethnic_reference()
    raw = _messy_table(contract, rows, seed=rows).with_columns(pl.lit("file-1").alias("__submission__"))
    for options in ({}, {"ethnic_names": names, "pad_widths": {"unit_code": 3}},
                    {"machine_numeric": {c.name for c in contract.columns if c.dtype in (pl.Int64, pl.Float64)}}):
        try:
            expected = normalize(raw.lazy(), contract, keep=("__submission__",), **options).collect()
        except pl.exceptions.PolarsError as error:      # a number too large for Int64, read as infinite
            with pytest.raises(type(error)):
                normalize_distinct(raw, contract, keep=("__submission__",), **options)
            continue
        typed = normalize_distinct(raw, contract, keep=("__submission__",), **options)
        assert typed.schema == expected.schema
        assert typed.equals(expected)


def test_numbers_beyond_two_to_the_53_or_not_finite_are_errors_never_values():
    from transforms.normalize import parse_number_text

    for text, whole in [("1e400", False), ("1" + "0" * 400, False), ("1e20", True), ("99999999999999999999", True)]:
        assert parse_number_text(text, whole=whole) == (None, "value.out_of_range"), text
    assert parse_number_text("9007199254740992", whole=True) == (9007199254740992.0, None)


def test_a_columns_own_values_and_separator_decide_its_number_convention():
    from transforms.normalize import number_convention, parse_number_text

    assert number_convention(pl.Series(["1.165.420", "827.306"])) == "vi"
    assert number_convention(pl.Series(["1,165,420", "827,306"])) == "en"
    assert number_convention(pl.Series(["827.306"]), separator=";") == "vi"
    assert number_convention(pl.Series(["827.306"])) is None
    assert number_convention(pl.Series(["1.165.420", "4.03"])) is None     # says both: still asked
    assert parse_number_text("827.306", whole=False, convention="vi") == (827306.0, None)
    assert parse_number_text("1,5", whole=False, convention="vi") == (1.5, None)
    assert parse_number_text("827.306", whole=False) == (None, "value.ambiguous_number")
