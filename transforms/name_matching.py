"""Match unit names written in a decision to official codes: province, then district, then commune.

Decisions publish names, not codes (docs/legal-basis.md#status-lists). A name matches a unit of the geography
valid at the decision date when, under its parent, their keys agree; keys are tried from the strictest to the
loosest and the first that finds anything decides:

1. `exact`: the name as written, without its unit-type word ("Huyện", "Xã", "Thị trấn"…), case-folded,
   with apostrophes and runs of spaces normalised ("M'Đrắk" = "M'Đrắk ").
2. `folded`: accents folded as well (`schemas.text.fold`): tone placement ("Hoà"/"Hòa"), "Đăk"/"Đắk",
   missing accents.
3. `spelling`: a final "y" read as "i" ("An Qui" = "An Quy", "Kì" = "Kỳ"), an accepted spelling variant.

Several candidates at the deciding stage are narrowed by the unit type written in the name, if any ("Thị xã
Kỳ Anh" versus "Huyện Kỳ Anh"). A name that then matches nothing is `unknown`, several `ambiguous`: both are
reported with their candidates, never guessed. `aliases` (a frame of documented renames, each with its
source) are applied before matching.
"""

from __future__ import annotations

import re

import polars as pl

from schemas.text import UNIT_TYPES, fold, normalize_text

MATCHED, UNKNOWN, AMBIGUOUS, NOT_GIVEN = "matched", "unknown", "ambiguous", "not_given"
STAGES: tuple[str, ...] = ("exact", "folded", "spelling")

_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_SEPARATORS = re.compile(r"[-‐‑‒–—―_.,;:/()]")
_LEADING_ZEROS = re.compile(r"\b0+(\d)")
_ABBREVIATIONS = {"tp.": "Thành phố", "tx.": "Thị xã", "tt.": "Thị trấn"}


def split_written_type(name: str) -> tuple[str | None, str]:
    """Split off a unit-type word written WITH its accents ("Huyện Quản Bạ" → "Huyện", "Quản Bạ").

    Accents are required here on purpose: folded, "Quản Bạ" and "Quan Hóa" would read as "Quận Bạ" and
    "Quận Hóa" and lose their first syllable.
    """
    text = normalize_text(name)
    lowered = text.casefold()
    for abbreviation, unit_type in _ABBREVIATIONS.items():
        if lowered.startswith(abbreviation):
            return unit_type, text[len(abbreviation):].strip()
    for unit_type in UNIT_TYPES:
        prefix = unit_type.casefold() + " "
        if lowered.startswith(prefix) and len(text) > len(prefix):
            return unit_type, text[len(prefix):].strip()
    return None, text


def exact_key(name: str) -> str:
    """The name without its unit-type word, case-folded, accents kept."""
    return re.sub(r"\s+", " ", _APOSTROPHES.sub("", split_written_type(name)[1])).strip().casefold()


def folded_key(name: str) -> str:
    """Accent- and case-insensitive key (tone placement, Đăk/Đắk, missing accents); separators as spaces."""
    key = fold(_SEPARATORS.sub(" ", _APOSTROPHES.sub("", split_written_type(name)[1])))
    return _LEADING_ZEROS.sub(r"\1", re.sub(r"\s+", " ", key).strip())


def spelling_key(name: str) -> str:
    """`folded_key` with a syllable-final y read as i (Quy/Qui, Kỳ/Kì, Mỹ/Mĩ)."""
    return re.sub(r"y\b", "i", folded_key(name))


def _type_key(name: str) -> str | None:
    unit_type = split_written_type(name)[0]
    return fold(unit_type) if unit_type else None


KEYS = {"exact": exact_key, "folded": folded_key, "spelling": spelling_key}


def _keyed(frame: pl.DataFrame, name_column: str) -> pl.DataFrame:
    names = frame[name_column].to_list()
    return frame.with_columns(
        *(pl.Series(f"key_{stage}", [KEYS[stage](n) if n else None for n in names], dtype=pl.String)
          for stage in STAGES),
        pl.Series("type_key", [_type_key(n) if n else None for n in names], dtype=pl.String),
    )


def match_level(names: pl.DataFrame, units: pl.DataFrame, *, name_column: str, parent_column: str | None,
                unit_parent_column: str | None) -> pl.DataFrame:
    """Match one level.

    Grain in: `names` one row per written name (`row` id, the name in `name_column`, and the parent code
    already matched in `parent_column`, or none for provinces); `units` one row per unit of the level
    (unit_code, unit_name, unit_type and the parent code in `unit_parent_column`).
    Grain out: one row per `row`: `code` (when matched), `status` (matched / unknown / ambiguous / not_given),
    `stage` (which key decided), `candidates` ("code name; …" when ambiguous).
    """
    given = names.filter(pl.col(name_column).is_not_null() & (pl.col(name_column).str.strip_chars() != ""))
    if parent_column is not None:
        given = given.filter(pl.col(parent_column).is_not_null())
    written = _keyed(given.select("row", name_column, *([parent_column] if parent_column else [])), name_column)
    if unit_parent_column is not None:
        # key only the units under the parents the list names
        units = units.filter(pl.col(unit_parent_column).is_in(given[parent_column].unique().implode()))
    official = _keyed(units.select("unit_code", "unit_name", "unit_type",
                                   *([unit_parent_column] if unit_parent_column else [])), "unit_name")
    official = official.with_columns(pl.Series("unit_type_key", [fold(t) if t else None
                                                                 for t in official["unit_type"].to_list()],
                                               dtype=pl.String))
    found = []
    for order, stage in enumerate(STAGES):
        on_left = [f"key_{stage}"] + ([parent_column] if parent_column else [])
        on_right = [f"key_{stage}"] + ([unit_parent_column] if unit_parent_column else [])
        found.append(
            written.select("row", "type_key", *on_left)
            .join(official.select("unit_code", "unit_name", "unit_type_key", *on_right),
                  left_on=on_left, right_on=on_right, how="inner")
            .select("row", "type_key", "unit_code", "unit_name", "unit_type_key",
                    pl.lit(stage).alias("stage"), pl.lit(order).alias("stage_order"))
        )
    candidates = pl.concat(found, how="vertical")
    # the strictest stage that found anything decides
    candidates = candidates.filter(pl.col("stage_order") == pl.col("stage_order").min().over("row"))
    # narrow by the written unit type when it picks out some of them
    candidates = candidates.with_columns(
        (pl.col("type_key").is_not_null() & (pl.col("type_key") == pl.col("unit_type_key"))).alias("type_fits"))
    candidates = candidates.filter(pl.col("type_fits") | ~pl.col("type_fits").any().over("row"))
    decided = candidates.group_by("row").agg(
        pl.col("unit_code").n_unique().alias("count"),
        pl.col("unit_code").sort().first().alias("code"),
        pl.col("stage").first(),
        pl.format("{} {}", pl.col("unit_code"), pl.col("unit_name")).unique().sort().str.join("; ")
        .alias("candidates"),
    )
    out = names.select("row", pl.col(name_column).alias("_name"),
                       *([pl.col(parent_column).alias("_parent")] if parent_column else [])).join(
        decided, on="row", how="left")
    parent_known = pl.col("_parent").is_not_null() if parent_column else pl.lit(True)
    name_given = pl.col("_name").is_not_null() & (pl.col("_name").str.strip_chars() != "")
    return out.select(
        "row",
        pl.when(pl.col("count") == 1).then(pl.col("code")).otherwise(None).alias("code"),
        pl.when(~name_given).then(pl.lit(NOT_GIVEN))
        .when(~parent_known).then(pl.lit(UNKNOWN))
        .when(pl.col("count") == 1).then(pl.lit(MATCHED))
        .when(pl.col("count") > 1).then(pl.lit(AMBIGUOUS))
        .otherwise(pl.lit(UNKNOWN)).alias("status"),
        pl.col("stage"),
        pl.when(pl.col("count") > 1).then(pl.col("candidates")).otherwise(None).alias("candidates"),
    ).sort("row")


def apply_aliases(names: pl.DataFrame, aliases: pl.DataFrame | None) -> pl.DataFrame:
    """Replace names the decisions wrote before a documented rename by the name in the geography.

    `aliases` columns: level (province/district/commune), name (as written), province (written, or empty for
    any), district (written, or empty for any), official_name. Keys are folded, so accents do not matter.
    """
    if aliases is None or aliases.is_empty():
        return names
    result = names
    for level in ("province", "district", "commune"):
        if level not in result.columns:
            continue
        rows = aliases.filter(pl.col("level") == level)
        for alias in rows.iter_rows(named=True):
            condition = pl.col(level).map_elements(folded_key, return_dtype=pl.String) == folded_key(alias["name"])
            for parent in ("province", "district"):
                if alias.get(parent) and parent in result.columns and parent != level:
                    condition = condition & (pl.col(parent).map_elements(folded_key, return_dtype=pl.String)
                                             == folded_key(alias[parent]))
            result = result.with_columns(
                pl.when(condition.fill_null(False)).then(pl.lit(alias["official_name"]))
                .otherwise(pl.col(level)).alias(level),
                pl.when(condition.fill_null(False))
                .then(pl.concat_str([pl.col("alias_note").fill_null(""),
                                     pl.lit(f"{level} '{alias['name']}' read as '{alias['official_name']}'")],
                                    separator=""))
                .otherwise(pl.col("alias_note")).alias("alias_note"),
            )
    return result


def match_names(names: pl.DataFrame, provinces: pl.DataFrame, districts: pl.DataFrame | None,
                communes: pl.DataFrame | None, aliases: pl.DataFrame | None = None) -> pl.DataFrame:
    """Match written province / district / commune names to codes, level by level.

    Grain in: `names` one row per listed unit with `row` (Int64 id) and the columns `province` and, as the list
    has them, `district`, `commune` (written names); `provinces`, `districts`, `communes` are
    `schemas.geography.units_at(level, decision_date)` frames.
    Grain out: one row per `row`: province_code, district_code, commune_code, unit_code (the code of the lowest
    level the list names), `status` (matched / unknown / ambiguous), `failed_level`, `stage`, `candidates`
    and `message_vi` / `message_en` for every row that did not match.
    """
    names = names.with_columns(pl.lit(None, dtype=pl.String).alias("alias_note"))
    for level in ("province", "district", "commune"):
        if level not in names.columns:
            names = names.with_columns(pl.lit(None, dtype=pl.String).alias(level))
        names = names.with_columns(pl.col(level).cast(pl.String).map_elements(
            lambda text: normalize_text(text) or None, return_dtype=pl.String).alias(level))
    names = apply_aliases(names, aliases)
    lowest = ("commune" if names["commune"].is_not_null().any()
              else "district" if names["district"].is_not_null().any() else "province")

    province = match_level(names, provinces, name_column="province", parent_column=None, unit_parent_column=None)
    names = names.join(province.select("row", pl.col("code").alias("province_code"),
                                       pl.col("status").alias("province_status"),
                                       pl.col("stage").alias("province_stage"),
                                       pl.col("candidates").alias("province_candidates")), on="row", how="left")
    if districts is not None and lowest != "province":
        district = match_level(names, districts, name_column="district", parent_column="province_code",
                               unit_parent_column="province_code")
    else:
        district = names.select("row", pl.lit(None, dtype=pl.String).alias("code"),
                                pl.lit(NOT_GIVEN).alias("status"), pl.lit(None, dtype=pl.String).alias("stage"),
                                pl.lit(None, dtype=pl.String).alias("candidates"))
    names = names.join(district.select("row", pl.col("code").alias("district_code"),
                                       pl.col("status").alias("district_status"),
                                       pl.col("stage").alias("district_stage"),
                                       pl.col("candidates").alias("district_candidates")), on="row", how="left")
    if communes is not None and lowest == "commune":
        # a commune is looked for in its district when the list names one, else in its province
        with_district = names.filter(pl.col("district").is_not_null())
        without_district = names.filter(pl.col("district").is_null())
        commune = pl.concat([
            match_level(with_district, communes, name_column="commune", parent_column="district_code",
                        unit_parent_column="district_code"),
            match_level(without_district, communes, name_column="commune", parent_column="province_code",
                        unit_parent_column="province_code"),
        ]).sort("row")
    else:
        commune = names.select("row", pl.lit(None, dtype=pl.String).alias("code"),
                               pl.lit(NOT_GIVEN).alias("status"), pl.lit(None, dtype=pl.String).alias("stage"),
                               pl.lit(None, dtype=pl.String).alias("candidates"))
    names = names.join(commune.select("row", pl.col("code").alias("commune_code"),
                                      pl.col("status").alias("commune_status"),
                                      pl.col("stage").alias("commune_stage"),
                                      pl.col("candidates").alias("commune_candidates")), on="row", how="left")

    levels = [lv for lv in ("province", "district", "commune")
              if lv == "province" or lv == lowest or (lv == "district" and lowest == "commune")]
    failed = pl.lit(None, dtype=pl.String)
    for level in reversed(levels):
        status = pl.col(f"{level}_status")
        skippable = level == "district" and lowest == "commune"
        bad = status.is_in([UNKNOWN, AMBIGUOUS]) | ((status == NOT_GIVEN) & pl.lit(not skippable))
        failed = pl.when(bad).then(pl.lit(level)).otherwise(failed)
    names = names.with_columns(failed.alias("failed_level"))

    def pick(suffix: str) -> pl.Expr:
        expr = pl.lit(None, dtype=pl.String)
        for level in reversed(levels):
            expr = pl.when(pl.col("failed_level") == level).then(pl.col(f"{level}_{suffix}")).otherwise(expr)
        return expr

    written = pl.when(pl.col("failed_level") == "province").then(pl.col("province")) \
        .when(pl.col("failed_level") == "district").then(pl.col("district")).otherwise(pl.col("commune"))
    status = pl.when(pl.col("failed_level").is_null()).then(pl.lit(MATCHED)).otherwise(pick("status"))
    status = pl.when(status == NOT_GIVEN).then(pl.lit(UNKNOWN)).otherwise(status)
    level_vi = pl.col("failed_level").replace_strict({"province": "tỉnh", "district": "huyện", "commune": "xã"},
                                                    default=None)
    return names.select(
        "row", "province", "district", "commune",
        "province_code", "district_code", "commune_code",
        pl.when(pl.col("failed_level").is_null()).then(pl.col(f"{lowest}_code")).otherwise(None).alias("unit_code"),
        pl.lit(lowest).alias("unit_level"),
        status.alias("status"),
        pl.col("failed_level"),
        pl.when(pl.col("failed_level").is_null()).then(pl.col(f"{lowest}_stage")).otherwise(pick("stage"))
        .alias("stage"),
        pick("candidates").alias("candidates"),
        pl.col("alias_note"),
        pl.when(status == UNKNOWN)
        .then(pl.format("Không tìm thấy {} '{}' trong danh mục đơn vị hành chính tại ngày quyết định", level_vi,
                        written))
        .when(status == AMBIGUOUS)
        .then(pl.format("Tên {} '{}' khớp với nhiều đơn vị: {}", level_vi, written, pick("candidates")))
        .otherwise(None).alias("message_vi"),
        pl.when(status == UNKNOWN)
        .then(pl.format("No {} named '{}' in the administrative list valid on the decision date",
                        pl.col("failed_level"), written))
        .when(status == AMBIGUOUS)
        .then(pl.format("The {} name '{}' matches several units: {}", pl.col("failed_level"), written,
                        pick("candidates")))
        .otherwise(None).alias("message_en"),
    ).sort("row")
