"""Checks of a submission against the reference lists: the units that exist in the review year, who
belongs to whom, and the 2008 ethnic group codes.

Grain in: one row per data row of a submission (contract columns plus `__row__`). Grain out: one row per
problem (`__row__` null for a problem of the submission as a whole): `__row__`, column, value, rule,
severity.

Pure: the geography arrives as frames (schemas.geography `units_at(level, review_date(year))`), the
current year as a number; nothing here reads files or the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

ROW = "__row__"
FIRST_REVIEW_YEAR = 2021   # the first review under Decree 07/2021 (end-2021 baseline)

REFERENCE_RULES: dict[str, str] = {
    "reference.year_out_of_range": "error",
    "reference.level_abolished": "error",
    "reference.submitting_unit_unknown": "error",
    "reference.unit_unknown": "error",
    "reference.unit_outside_submitter": "error",
    "reference.commune_mismatch": "error",
    "reference.ethnicity_unknown": "error",
}

ISSUE_SCHEMA = pl.Schema({ROW: pl.Int64, "column": pl.String, "value": pl.String, "rule": pl.String,
                          "severity": pl.String})


@dataclass(frozen=True)
class Geography:
    """The units that exist on a review year's reference date, one frame per level (units_at's layout)."""

    provinces: pl.DataFrame
    districts: pl.DataFrame
    communes: pl.DataFrame
    reform_applies: bool            # True from 2025-07-01: two tiers, no districts
    _code_sets: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    def units(self, level: str) -> pl.DataFrame:
        return {"province": self.provinces, "district": self.districts, "commune": self.communes}[level]

    def unit_codes(self, level: str) -> frozenset[str]:
        """The codes of a level's units (a set, built once per Geography)."""
        if level not in self._code_sets:
            self._code_sets[level] = frozenset(self.units(level).get_column("unit_code").to_list())
        return self._code_sets[level]

    def all_units(self) -> pl.DataFrame:
        columns = ["unit_code", "level", "province_code", "district_code"]
        return pl.concat([self.provinces.select(columns), self.districts.select(columns),
                          self.communes.select(columns)])


def _issue(rule: str, column: str | None = None, value: str | None = None) -> dict:
    return {ROW: None, "column": column, "value": value, "rule": rule, "severity": REFERENCE_RULES[rule]}


def submission_issues(*, level: str, unit_code: str, year: int, current_year: int,
                      geography: Geography) -> pl.DataFrame:
    """Problems of the submission itself: an implausible year, a level that no longer exists, an unknown
    submitting unit."""
    issues = []
    if not FIRST_REVIEW_YEAR <= year <= current_year + 1:
        issues.append(_issue("reference.year_out_of_range", value=str(year)))
    if level == "district" and geography.reform_applies:
        issues.append(_issue("reference.level_abolished", value=level))
    elif unit_code not in geography.unit_codes(level):
        issues.append(_issue("reference.submitting_unit_unknown", value=unit_code))
    return pl.DataFrame(issues, schema=ISSUE_SCHEMA)


def _belongs(level: str, unit_code: str | pl.Expr) -> pl.Expr:
    """A unit row (from Geography.all_units) is the submitting unit or lies inside it. `unit_code` is the
    submitting unit, or an expression giving it row by row (several submissions checked together)."""
    inside = pl.col("unit_code") == unit_code
    if level == "district":
        inside = inside | ((pl.col("level") == "commune") & (pl.col("district_code") == unit_code))
    elif level == "province":
        inside = inside | ((pl.col("level") != "province") & (pl.col("province_code") == unit_code))
    return inside


def unit_issues(frame: pl.LazyFrame, *, kind: str, level: str, unit_code: str | pl.Expr,
                geography: Geography, keep: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Rows whose unit code does not exist in the review year, or is not the submitting unit or one of
    its own units (a district reports only its own communes). A commune's household file must be that
    commune's. `unit_code` may be an expression over `frame` (the submitting unit of each row); `keep`
    columns are passed through."""
    column = "commune_code" if kind == "household" else "unit_code"
    known = geography.communes if kind == "household" else geography.all_units()
    known = known.select("unit_code", "level", "province_code", "district_code").lazy()
    submitting = unit_code if isinstance(unit_code, pl.Expr) else pl.lit(unit_code, dtype=pl.String)
    coded = (frame.select(ROW, *keep, pl.col(column).alias("value"), submitting.alias("__submitting"))
             .filter(pl.col("value").is_not_null()))
    # After the join, unit_code/level/… describe the unit the row names (null: no such unit).
    joined = coded.join(known, left_on="value", right_on="unit_code", how="left", coalesce=False)
    inside = _belongs(level, pl.col("__submitting"))
    outside_rule = "reference.commune_mismatch" if kind == "household" and level == "commune" \
        else "reference.unit_outside_submitter"
    rule = (
        pl.when(inside.is_null()).then(pl.lit("reference.unit_unknown"))
        .when(~inside).then(pl.lit(outside_rule))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return (
        joined.with_columns(rule=rule).filter(pl.col("rule").is_not_null())
        .select(ROW, *keep, pl.lit(column).alias("column"), "value", "rule",
                pl.col("rule").replace_strict(REFERENCE_RULES, return_dtype=pl.String).alias("severity"))
    )


def ethnicity_issues(frame: pl.LazyFrame, *, kind: str, ethnic_codes: Iterable[str],
                     keep: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Ethnic group codes outside the 2008 list (Decision 1019/QĐ-TCTK, 01–54). A code of 55 or more is
    what the older 1979 list or the "foreigners" code produce; the message says so."""
    column = "head_ethnicity_code" if kind == "household" else "ethnic_group"
    if column not in frame.collect_schema().names():
        return frame.select(ROW, *keep).clear().with_columns(
            *[pl.lit(None, dtype=dtype).alias(name) for name, dtype in ISSUE_SCHEMA.items() if name != ROW])
    allowed = list(ethnic_codes) + ([] if kind == "household" else ["ALL", "EM"])
    return (
        frame.select(ROW, *keep, pl.col(column).alias("value"))
        .filter(pl.col("value").is_not_null() & pl.col("value").str.contains(r"^\d+$")
                & ~pl.col("value").is_in(allowed))
        .select(ROW, *keep, pl.lit(column).alias("column"), "value",
                pl.lit("reference.ethnicity_unknown").alias("rule"), pl.lit("error").alias("severity"))
    )


def row_issues(frame: pl.LazyFrame, *, kind: str, level: str, unit_code: str | pl.Expr, geography: Geography,
               ethnic_codes: Iterable[str], keep: tuple[str, ...] = ()) -> pl.LazyFrame:
    """The reference problems of rows (units, ethnic codes), by the `keep` columns, then rule and row.

    Grain in: one row per data row, of one submission or of several (`keep` then names which, and
    `unit_code` is an expression giving each row's submitting unit); grain out: one row per problem."""
    rows = unit_issues(frame, kind=kind, level=level, unit_code=unit_code, geography=geography, keep=keep)
    if kind != "area_attributes":
        rows = pl.concat([rows, ethnicity_issues(frame, kind=kind, ethnic_codes=ethnic_codes, keep=keep)])
    return rows.sort(*keep, "rule", ROW)


def reference_issues(frame: pl.LazyFrame, *, kind: str, level: str, unit_code: str, year: int,
                     current_year: int, geography: Geography, ethnic_codes: Iterable[str]) -> pl.DataFrame:
    """Every reference problem of one submission, the submission's own first, then by rule and row."""
    whole = submission_issues(level=level, unit_code=unit_code, year=year, current_year=current_year,
                              geography=geography)
    if abolished(whole):
        # Every unit of an abolished level is "unknown" for that year: one finding says it all.
        return whole
    rows = row_issues(frame, kind=kind, level=level, unit_code=unit_code, geography=geography,
                      ethnic_codes=ethnic_codes)
    return pl.concat([whole, rows.collect()])


def abolished(whole: pl.DataFrame) -> bool:
    """The submission's own problems (`submission_issues`) say its level no longer exists: its rows are
    then not checked one by one."""
    return "reference.level_abolished" in whole.get_column("rule").to_list()


def restore_lost_zeros(normalized: pl.LazyFrame, *, column: str, geography: Geography, level: str,
                       unit_code: str) -> pl.LazyFrame:
    """Give a unit code its leading zeros back when the code as written is not one of the submitting
    unit's own units but the padded code is.

    Grain in and out: one row per file row (the output of transforms.normalize). A column that allows
    several widths (a district's summary lists its communes, 5 digits, and itself, 3) cannot be padded
    by width alone: Excel turns commune 00688 into 688, which has a district code's width (and is even
    another province's district). The lists decide: in district 024's file, 688 is none of its units
    while 00688 is one of its communes, so it becomes 00688, with the same warning as any other restored
    code (`<column>__issue`). Anything else is left for the reference checks to report.
    """
    known = geography.all_units().filter(_belongs(level, unit_code)).get_column("unit_code").to_list()
    issue = column + "__issue"
    value = pl.col(column)
    candidates = [value.str.zfill(width) for width in (5, 3, 2)]
    repaired = pl.coalesce([pl.when(candidate.is_in(known)).then(candidate) for candidate in candidates])
    lost = value.str.contains(r"^\d{1,4}$") & ~value.is_in(known) & repaired.is_not_null()
    return normalized.with_columns(
        pl.when(lost).then(repaired).otherwise(value).alias(column),
        pl.when(lost).then(pl.lit("code.leading_zeros_restored")).otherwise(pl.col(issue)).alias(issue),
    )
