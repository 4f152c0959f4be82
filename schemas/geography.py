"""Administrative geography by date: which units exist on a date, who is each one's parent, and how the
pre-2025 communes map onto the communes of 1 July 2025.

Two lists, one date between them (docs/legal-basis.md#geography):
- before 2025-07-01, three tiers (63 provinces, 696 districts, 10,051 communes), GSO snapshot of 2025-01-04;
  five island districts (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo) have no communes and are the
  lowest unit themselves;
- from 2025-07-01 (Decision 19/2025/QĐ-TTg), two tiers: 34 provinces and 3,321 communes; districts are gone.

Everything is read from the project's own copies in `schemas/reference/` (see the README there). Codes are
zero-padded strings; names are labels, never keys. In particular a post-2025 province code is not the code of
the same-named old province (new Lào Cai is 15, old Lào Cai was 10), so the province of each new commune is
taken from the official conversion table's code, never from its name.
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime
from pathlib import Path

import polars as pl

from schemas.text import canonical_unit_name_expr, fold, normalize_text_expr, unit_type_expr

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
ADMIN_UNITS_DIR = REFERENCE_DIR / "admin-units"
PRE2025_UNITS_FILE = ADMIN_UNITS_DIR / "gso_units_pre2025_snapshot_2025-01-04.csv"
UNITS_2025_FILE = ADMIN_UNITS_DIR / "units_2025-07-01_flat.json"
CONVERSION_FILE = ADMIN_UNITS_DIR / "conversion_2025-07-01_old_to_new.csv"
REGIONS_PRE2025_FILE = REFERENCE_DIR / "regions_pre2025.csv"
REGIONS_2025_FILE = REFERENCE_DIR / "regions_2025-07-01.csv"

REFORM_DATE = date(2025, 7, 1)
VERSION_PRE_REFORM = "GSO-2025-01-04"
VERSION_POST_REFORM = "QD19-2025"

COMMUNE_TYPES_PRE_REFORM: tuple[str, ...] = ("Xã", "Phường", "Thị trấn")
GEOGRAPHY_LEVELS: tuple[str, ...] = ("national", "region", "province", "district", "commune")
_PARENT_LEVEL = {"region": "national", "province": "region", "district": "province"}

NATIONAL_CODE = "VN"
NATIONAL_NAME = "Việt Nam"
NATIONAL_UNIT_TYPE = "Quốc gia"
REGION_UNIT_TYPE = "Vùng"

# Urban or rural by unit type, the way the poverty standard reads "khu vực thành thị / nông thôn": wards and
# townships (thị trấn) are urban, communes (xã) rural; urban districts, towns and cities are urban, rural
# districts (huyện) rural. Special zones (đặc khu, from 2025) are left unknown: the ministry's guidance on them
# is UNCONFIRMED (docs/legal-basis.md#classification-rule). Provinces, regions and the nation mix both, so
# their area is null.
AREA_BY_UNIT_TYPE: dict[str, str] = {
    "Phường": "urban", "Thị trấn": "urban", "Xã": "rural",
    "Quận": "urban", "Thị xã": "urban", "Thành phố": "urban", "Huyện": "rural",
}

UNITS_SCHEMA = pl.Schema({
    "unit_code": pl.String, "unit_name": pl.String, "unit_type": pl.String, "level": pl.String,
    "parent_code": pl.String, "parent_level": pl.String, "province_code": pl.String,
    "district_code": pl.String, "region_key": pl.String, "area": pl.String,
})
HIERARCHY_SCHEMA = pl.Schema({
    "commune_code": pl.String, "district_code": pl.String, "province_code": pl.String, "region_key": pl.String,
})
REGIONS_SCHEMA = pl.Schema({
    "province_code": pl.String, "region_key": pl.String, "region_name_vi": pl.String,
    "region_name_en": pl.String, "confirmed": pl.Boolean,
})
CONVERSION_SCHEMA = pl.Schema({
    "old_commune_code": pl.String, "old_commune_name": pl.String, "old_district_code": pl.String,
    "old_province_code": pl.String, "new_commune_code": pl.String, "new_commune_name": pl.String,
    "new_province_code": pl.String, "note": pl.String, "note_kind": pl.String, "old_is_split": pl.Boolean,
})


def geography_version(on: date) -> str:
    """Name of the unit list valid on a date: "GSO-2025-01-04" before the reform, "QD19-2025" from it."""
    return VERSION_PRE_REFORM if _as_date(on) < REFORM_DATE else VERSION_POST_REFORM


def review_date(year: int) -> date:
    """Reference date of a review year: 31 December, so 2024 is three-tier and 2025 on is two-tier."""
    return date(year, 12, 31)


def units_at(level: str, on: date) -> pl.DataFrame:
    """Every unit at `level` on date `on`, with its parent: one row per unit, sorted by code.

    Columns: unit_code, unit_name, unit_type, level, parent_code, parent_level, province_code,
    district_code, region_key, area (see UNITS_SCHEMA). Communes' parents are districts before the reform
    and provinces from it; districts on or after 2025-07-01 give an empty frame; a province's parent is its
    region (text key), a region's parent is the nation "VN".
    """
    if level not in GEOGRAPHY_LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(GEOGRAPHY_LEVELS)}")
    return _units(level, geography_version(on)).clone()


def hierarchy_at(on: date) -> pl.DataFrame:
    """One row per lowest unit on date `on`: each commune, plus (before the reform) each island district
    without communes, whose commune_code is null. Columns: commune_code, district_code (null after the
    reform), province_code, region_key."""
    return _hierarchy(geography_version(on)).clone()


def regions(on: date) -> pl.DataFrame:
    """Region of each province on date `on`: province_code, region_key, region_name_vi, region_name_en,
    confirmed. The 63-province membership (Resolution 81/2023/QH15) is confirmed; the 34-province membership
    from 2025-07-01 is provisional (confirmed=False; see schemas/reference/README.md)."""
    return _regions(geography_version(on)).clone()


def conversion_table() -> pl.DataFrame:
    """The official old → new commune conversion (2025-07-01), cleaned: one row per (old unit, new commune).

    Many-to-many: an old commune split between new communes has several rows, all with old_is_split=True.
    Island districts that became special zones (đặc khu) have old_commune_code null and their district code.
    old_province_code comes from the old district's province in the pre-2025 list: the table's own
    "Tỉnh cũ" column is wrong on three rows (Cồn Cỏ given as 44, Tân An as 82, Hà Tiên as 89).
    """
    return _conversion().clone()


# --- loading (cached: reference frames are read by every submission and every build) -------------------

def _as_date(on: date) -> date:
    if isinstance(on, datetime):  # a datetime is a date, but does not compare with one
        return on.date()
    if not isinstance(on, date):
        raise TypeError(f"expected a datetime.date, got {type(on).__name__}")
    return on


_CODE_IN_PARENTHESES = r"\((\d+)\)\s*$"


@functools.cache
def _pre2025_units() -> pl.DataFrame:
    """The GSO snapshot as read: one row per commune, plus one row per commune-less island district."""
    raw = pl.read_csv(PRE2025_UNITS_FILE, infer_schema=False)
    # The type is the `Cấp` column, except on the one row where it contradicts the name: 27046 "Phường 5" of
    # Quận Phú Nhuận is marked "Xã" (an urban district has only wards; the conversion table agrees it is a ward).
    named_type = unit_type_expr(pl.col("Phường Xã"))
    commune_type = (
        pl.when(named_type.is_in(COMMUNE_TYPES_PRE_REFORM)).then(named_type)
        .otherwise(normalize_text_expr(pl.col("Cấp")))
    )
    return raw.select(
        province_code=pl.col("Mã TP").str.zfill(2),
        # A few names capitalise the unit type's second word ("Thành Phố Bắc Kạn", "Thị Xã Buôn Hồ").
        province_name=canonical_unit_name_expr(pl.col("Tỉnh Thành Phố")),
        district_code=pl.col("Mã QH").str.zfill(3),
        district_name=canonical_unit_name_expr(pl.col("Quận Huyện")),
        commune_code=pl.col("Mã PX").str.zfill(5),
        commune_name=canonical_unit_name_expr(pl.col("Phường Xã")),
        commune_type=pl.when(pl.col("Mã PX").is_not_null()).then(commune_type),
        listed_commune_type=normalize_text_expr(pl.col("Cấp")),
    )


@functools.cache
def _conversion_source() -> pl.DataFrame:
    """The conversion table's mapping rows with codes pulled out of "Name (code)" cells.

    Line 1 is a title, line 2 the header; province heading rows ("THÀNH PHỐ HÀ NỘI") fill only the first cell.
    """
    columns = ["new_province", "new_commune_name", "new_commune_code", "old_commune_name", "old_commune_code",
               "note", "old_district", "old_province", "trailing_empty"]
    raw = pl.read_csv(CONVERSION_FILE, skip_rows=2, has_header=False, new_columns=columns, infer_schema=False)
    return (
        raw.filter(pl.col("new_commune_code").is_not_null())
        .select(
            old_commune_code=pl.col("old_commune_code").str.strip_chars().str.zfill(5),
            # Names are labels; their unit-type word is spelled one way ("phường Ninh Hiệp", "Xa Ea Kly" occur).
            old_commune_name=canonical_unit_name_expr(pl.col("old_commune_name")),
            old_district_code=pl.col("old_district").str.extract(_CODE_IN_PARENTHESES).str.zfill(3),
            stated_old_province_code=pl.col("old_province").str.extract(_CODE_IN_PARENTHESES).str.zfill(2),
            new_commune_code=pl.col("new_commune_code").str.strip_chars().str.zfill(5),
            new_commune_name=canonical_unit_name_expr(pl.col("new_commune_name")),
            new_province_code=pl.col("new_province").str.extract(_CODE_IN_PARENTHESES).str.zfill(2),
            new_province_name=normalize_text_expr(
                pl.col("new_province").str.replace(_CODE_IN_PARENTHESES, "")),
            note=normalize_text_expr(pl.col("note")),
        )
    )


def note_kind(note: str) -> str:
    """Kind of an official conversion note ("Nhập một phần diện tích, toàn bộ dân số" → part_area_all_population).

    Kinds: whole, part, part_area, part_area_all_population, part_population, unchanged, type_change,
    rename. A note naming a remainder or a rename "from part of" another unit is `part`; an island district
    or commune arranged whole into a special zone is `whole`. An unknown note raises, so that a new wording
    in a future table is read by a person rather than guessed.
    """
    key = " ".join(fold(note).replace(",", " , ").split())
    if key.startswith("nhap mot phan dien tich , toan bo dan so"):
        return "part_area_all_population"
    if key.startswith("nhap mot phan dien tich"):
        return "part_area"
    if key.startswith("nhap mot phan dan so"):
        return "part_population"
    if key.startswith(("nhap mot phan", "phan con lai")) or "mot phan" in key:
        return "part"
    if key.startswith(("nhap toan bo", "sap xep toan bo")):
        return "whole"
    if key == "giu nguyen":
        return "unchanged"
    if key == "doi loai hinh":
        return "type_change"
    if key == "doi ten":
        return "rename"
    raise ValueError(f"unrecognised conversion note {note!r}")


@functools.cache
def _conversion() -> pl.DataFrame:
    source = _conversion_source()
    district_province = (
        _pre2025_units().select(old_district_code="district_code", district_province_code="province_code").unique()
    )
    kinds = pl.DataFrame({"note": source["note"].unique()}).with_columns(
        note_kind=pl.col("note").map_elements(note_kind, return_dtype=pl.String)
    )
    # An old unit without a commune code (an island district) is identified by its district and name.
    old_unit = pl.coalesce(
        pl.col("old_commune_code"),
        pl.concat_str(pl.col("old_district_code"), pl.col("old_commune_name").fill_null(""), separator=":"),
    )
    return (
        source.join(district_province, on="old_district_code", how="left", maintain_order="left")
        .join(kinds, on="note", how="left", maintain_order="left")
        .with_columns(
            old_province_code=pl.coalesce("district_province_code", "stated_old_province_code"),
            old_is_split=(pl.col("new_commune_code").n_unique().over(old_unit) > 1),
        )
        .select(CONVERSION_SCHEMA.names())
        .sort("new_commune_code", "old_commune_code", "old_commune_name", nulls_last=True)
    )


@functools.cache
def _communes_2025() -> pl.DataFrame:
    """The 3,321 communes of 2025-07-01 with the province code the conversion table gives each one."""
    records = json.loads(UNITS_2025_FILE.read_text(encoding="utf-8"))
    communes = pl.DataFrame(
        {
            "commune_code": [f"{int(record['code']):05d}" for record in records],
            "commune_name": [record["name"] for record in records],
            "province_name": [record["province_name"] for record in records],
        },
        schema={"commune_code": pl.String, "commune_name": pl.String, "province_name": pl.String},
    ).with_columns(
        # One name is written "xã Bắc Sơn": the unit-type word is put in its canonical spelling.
        commune_name=canonical_unit_name_expr(pl.col("commune_name")),
        province_name=normalize_text_expr(pl.col("province_name")),
    )
    province_of_commune = (
        _conversion_source().select(commune_code="new_commune_code", province_code="new_province_code").unique()
    )
    joined = communes.join(province_of_commune, on="commune_code", how="left", maintain_order="left")
    missing = joined.filter(pl.col("province_code").is_null())["commune_code"].to_list()
    if missing:
        raise ValueError(f"{len(missing)} communes of 2025-07-01 have no province in the conversion table: "
                         f"{missing[:10]}")
    if joined["commune_code"].n_unique() != joined.height:
        raise ValueError("a commune of 2025-07-01 has more than one province in the conversion table")
    return joined


def _area_expr(unit_type: pl.Expr) -> pl.Expr:
    return unit_type.replace_strict(AREA_BY_UNIT_TYPE, default=None, return_dtype=pl.String)


@functools.cache
def _regions(version: str) -> pl.DataFrame:
    # Resolution 81/2023/QH15 lists the 63-province membership; the 2025 file says itself that it is provisional.
    path = REGIONS_PRE2025_FILE if version == VERSION_PRE_REFORM else REGIONS_2025_FILE
    frame = pl.read_csv(path, infer_schema=False)
    confirmed = pl.col("confirmed").str.to_lowercase() == "true" if "confirmed" in frame.columns else pl.lit(True)
    return frame.select(
        province_code=pl.col("province_code").str.zfill(2),
        region_key=pl.col("region_key"),
        region_name_vi=normalize_text_expr(pl.col("region_name_vi")),
        region_name_en=normalize_text_expr(pl.col("region_name_en")),
        confirmed=confirmed.cast(pl.Boolean),
    ).sort("province_code")


def _with_missing_columns(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in UNITS_SCHEMA.items() if name not in frame.columns
    ).select(UNITS_SCHEMA.names())


@functools.cache
def _units(level: str, version: str) -> pl.DataFrame:
    region_of_province = _regions(version).select("province_code", "region_key")
    if level == "national":
        frame = pl.DataFrame({"unit_code": [NATIONAL_CODE], "unit_name": [NATIONAL_NAME],
                              "unit_type": [NATIONAL_UNIT_TYPE]})
    elif level == "region":
        frame = (
            _regions(version).group_by("region_key")
            .agg(unit_name=pl.col("region_name_vi").first())
            .select(unit_code="region_key", unit_name="unit_name", unit_type=pl.lit(REGION_UNIT_TYPE),
                    parent_code=pl.lit(NATIONAL_CODE), region_key="region_key")
        )
    elif level == "province":
        if version == VERSION_PRE_REFORM:
            provinces = _pre2025_units().select(unit_code="province_code", unit_name="province_name")
        else:
            provinces = _conversion_source().select(unit_code="new_province_code", unit_name="new_province_name")
        frame = (
            provinces.unique()
            .join(region_of_province, left_on="unit_code", right_on="province_code", how="left")
            .with_columns(unit_type=unit_type_expr(pl.col("unit_name")), parent_code=pl.col("region_key"),
                          province_code=pl.col("unit_code"))
        )
    elif level == "district":
        if version != VERSION_PRE_REFORM:
            return pl.DataFrame(schema=UNITS_SCHEMA)
        frame = (
            _pre2025_units()
            .select(unit_code="district_code", unit_name="district_name", province_code="province_code")
            .unique()
            .join(region_of_province, on="province_code", how="left")
            .with_columns(unit_type=unit_type_expr(pl.col("unit_name")), parent_code=pl.col("province_code"),
                          district_code=pl.col("unit_code"))
        )
    else:  # commune
        if version == VERSION_PRE_REFORM:
            frame = (
                _pre2025_units().filter(pl.col("commune_code").is_not_null())
                .select(unit_code="commune_code", unit_name="commune_name", unit_type="commune_type",
                        parent_code="district_code", province_code="province_code", district_code="district_code")
            )
        else:
            frame = _communes_2025().select(
                unit_code="commune_code", unit_name="commune_name",
                unit_type=unit_type_expr(pl.col("commune_name")),
                parent_code="province_code", province_code="province_code",
            )
        frame = frame.join(region_of_province, on="province_code", how="left")
    if level != "national":
        parent_level = "district" if level == "commune" and version == VERSION_PRE_REFORM else (
            "province" if level == "commune" else _PARENT_LEVEL[level])
        frame = frame.with_columns(parent_level=pl.lit(parent_level))
    if level in ("commune", "district"):
        frame = frame.with_columns(area=_area_expr(pl.col("unit_type")))
    frame = frame.with_columns(level=pl.lit(level))
    return _with_missing_columns(frame).cast(dict(UNITS_SCHEMA)).sort("unit_code")


@functools.cache
def _hierarchy(version: str) -> pl.DataFrame:
    region_of_province = _regions(version).select("province_code", "region_key")
    if version == VERSION_PRE_REFORM:
        lowest = _pre2025_units().select("commune_code", "district_code", "province_code")
    else:
        lowest = _communes_2025().select(
            "commune_code", district_code=pl.lit(None, dtype=pl.String), province_code="province_code")
    return (
        lowest.join(region_of_province, on="province_code", how="left")
        .select(HIERARCHY_SCHEMA.names())
        .sort("province_code", "district_code", "commune_code", nulls_last=True)
    )
