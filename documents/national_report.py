"""The national report: one self-contained HTML file built from the current published marts.

Vietnamese first, English beside. Every chart is inline SVG drawn by matplotlib from the table printed
under it (so every number in a chart is also in a table), and every figure and table names its source
mart and the mart version. Nothing is fetched when the file is opened: no scripts, no web fonts.

A mart missing from the current version (or no published version at all) leaves its section saying so;
the report is still written.

Tables carry their data twice on purpose: the formatted text people read, and `data-column` /
`data-value` attributes on every cell with the exact value from the mart, for machines and tests.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from schemas.contracts import INDICATOR_IDS, INDICATOR_LABELS
from schemas.marts import ALL_AREAS, ALL_GROUPS, ETHNIC_MINORITIES, KINH, MARTS, NATIONAL_CODE, all_marts
from store.mart_files import mart_files, read_mart
from store.settings import Settings
from transforms.rollup import percentage

Progress = Callable[[str], None]

# Marts the report reads; the last three (schemas.marts.EXIT_MARTS) sit beside the poverty marts.
ALL_MARTS = all_marts()
REPORT_MARTS: tuple[str, ...] = (
    "poverty_by_area", "poverty_by_ethnicity", "deprivation_by_area", "submission_coverage", "reconciliation",
    "exit_candidates", "exit_criteria", "target_progress", "approval_coverage",
)
# Reconciliation warnings beyond this many are counted, not listed.
MAX_LISTED_ROWS = 500

LEVEL_LABELS = {"national": ("Toàn quốc", "National"), "region": ("Vùng", "Region"),
                "province": ("Tỉnh", "Province"), "district": ("Huyện", "District"),
                "commune": ("Xã", "Commune")}


# -- reading the marts ---------------------------------------------------------------------------------

@dataclass
class PublishedMarts:
    """The marts of one published version, read once."""

    version: str | None
    root: Path | None
    manifest: dict = field(default_factory=dict)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    def get(self, name: str) -> pl.DataFrame | None:
        return self.frames.get(name)

    def labels(self, mart_name: str, column: str) -> tuple[str, str]:
        """Vietnamese and English label of a mart column: the mart layout, else the manifest, else the name."""
        layout = ALL_MARTS.get(mart_name)
        for found in layout.columns if layout is not None else ():
            if found.name == column:
                return found.label_vi, found.label_en
        for entry in _manifest_schema(self.manifest, mart_name):
            if entry.get("name") == column:
                return (entry.get("label_vi") or column, entry.get("label_en") or column)
        return column, column


def _manifest_schema(manifest: dict, mart_name: str) -> list[dict]:
    marts = manifest.get("marts") or {}
    entry = marts.get(mart_name) if isinstance(marts, dict) else next(
        (m for m in marts if isinstance(m, dict) and m.get("name") == mart_name), None)
    schema = (entry or {}).get("schema") or []
    if isinstance(schema, dict):
        return [{"name": name, **(value if isinstance(value, dict) else {"type": value})}
                for name, value in schema.items()]
    return [item for item in schema if isinstance(item, dict)]


def _read_mart(root: Path, name: str) -> pl.DataFrame | None:
    """One mart of the version folder (every year), or None when the version has none of it."""
    return read_mart(root, name) if mart_files(root, name) else None


def load_published_marts(settings: Settings) -> PublishedMarts:
    from store.publish import current_path, current_version

    root = current_path(settings)
    if root is None or not root.is_dir():
        return PublishedMarts(version=None, root=None)
    manifest_path = root / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    frames = {}
    for name in REPORT_MARTS:
        frame = _read_mart(root, name)
        if frame is not None:
            frames[name] = frame
    return PublishedMarts(version=current_version(settings), root=root, manifest=manifest, frames=frames)


# -- names of units ------------------------------------------------------------------------------------

class UnitNames:
    """Names of units as the administrative list valid on 31 December of each year gives them."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], dict[str, str]] = {}

    def name(self, year: int, level: str, code: str) -> str:
        if level == "national" or code == NATIONAL_CODE:
            return "Toàn quốc"
        return self._names(year, level).get(code, code)

    def _names(self, year: int, level: str) -> dict[str, str]:
        key = (year, level)
        if key not in self._cache:
            try:
                from schemas.geography import review_date, units_at

                units = units_at(level, review_date(year))
                self._cache[key] = dict(zip(units["unit_code"].to_list(), units["unit_name"].to_list(),
                                            strict=True))
            except (ImportError, KeyError, ValueError):  # a name is a label: the code stands in for it
                self._cache[key] = {}
        return self._cache[key]


# -- HTML pieces ---------------------------------------------------------------------------------------

def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _bilingual(vi: str, en: str) -> str:
    return f'{_e(vi)} <span class="en" lang="en">{_e(en)}</span>'


@dataclass(frozen=True)
class TableColumn:
    key: str
    label_vi: str
    label_en: str
    kind: str = "text"   # text | count | rate | pp | bool | words (a code shown in both languages)


# Codes a mart holds, shown in both languages; the cell's data-value keeps the code.
WORDS: dict[str, tuple[str, str]] = {
    "official": ("chính thức", "official"), "preliminary": ("sơ bộ", "preliminary"),
    "approved": ("đã phê duyệt", "approved"), "returned": ("bị trả lại", "returned"),
    "reopened": ("đã mở lại", "reopened"),
    "on_time": ("đúng hạn", "on time"), "late": ("muộn", "late"), "not_yet": ("chưa phê duyệt", "not yet"),
}


def _format(value: object, kind: str) -> tuple[str, str]:
    """(text shown, exact data-value) of a cell. A missing value shows a dash and has an empty data-value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–", ""
    if kind == "words" and str(value) in WORDS:
        vi, en = WORDS[str(value)]
        return f"{vi} / {en}", str(value)
    if kind == "count" and isinstance(value, int | float):
        return f"{int(value):,}".replace(",", "\u202f"), str(int(value))
    if kind in ("rate", "pp") and isinstance(value, int | float):
        sign = "+" if kind == "pp" and value > 0 else ""
        return f"{sign}{value:.2f}", repr(float(value))
    if kind == "bool" or isinstance(value, bool):
        return ("có / yes" if value else "không / no"), ("true" if value else "false")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M"), value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}", repr(value)
    if isinstance(value, list | tuple):
        joined = "; ".join(str(v) for v in value)
        return joined, joined
    return str(value), str(value)


def _table(table_id: str, caption_vi: str, caption_en: str, columns: Sequence[TableColumn],
           rows: Sequence[dict], *, mart: str, version: str | None, note: str = "") -> str:
    head = "".join(
        f'<th scope="col" data-column="{_e(c.key)}" class="{c.kind}">{_e(c.label_vi)}'
        f'<br><span class="en" lang="en">{_e(c.label_en)}</span></th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            text, value = _format(row.get(c.key), c.kind)
            cells.append(f'<td data-column="{_e(c.key)}" data-value="{_e(value)}" class="{c.kind}">{_e(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        body.append(f'<tr><td colspan="{len(columns)}" class="empty">Không có dòng nào / No rows</td></tr>')
    source = _source_line(mart, version)
    return (
        f'<div class="table-wrap"><table id="{_e(table_id)}" data-mart="{_e(mart)}" data-version="{_e(version or "")}">'
        f"<caption>{_bilingual(caption_vi, caption_en)}<br><small>{source}</small>"
        f"{f'<br><small>{note}</small>' if note else ''}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _source_line(mart: str, version: str | None) -> str:
    return (f'Nguồn: mart <code>{_e(mart)}</code>, phiên bản <code>{_e(version or "–")}</code> '
            f'<span class="en" lang="en">Source: mart <code>{_e(mart)}</code>, version '
            f'<code>{_e(version or "–")}</code></span>')


def _figure(figure_id: str, svg: str, caption_vi: str, caption_en: str, *, mart: str, version: str | None,
            table_id: str) -> str:
    return (
        f'<figure id="{_e(figure_id)}" data-mart="{_e(mart)}" data-version="{_e(version or "")}" '
        f'data-table="{_e(table_id)}">{svg}'
        f"<figcaption>{_bilingual(caption_vi, caption_en)}<br>{_source_line(mart, version)}. "
        f'Số liệu của hình ở <a href="#{_e(table_id)}">bảng bên dưới</a> '
        f'<span class="en" lang="en">(numbers in the <a href="#{_e(table_id)}">table below</a>)</span>'
        "</figcaption></figure>"
    )


def _missing(mart: str, version: str | None) -> str:
    where = f"phiên bản {version}" if version else "chưa có phiên bản nào được công bố"
    where_en = f"version {version}" if version else "no version has been published"
    return (f'<p class="missing" data-missing-mart="{_e(mart)}">Chưa có mart <code>{_e(mart)}</code> '
            f'({_e(where)}): phần này chưa thể lập. <span class="en" lang="en">Mart <code>{_e(mart)}</code> '
            f"is not available ({_e(where_en)}): this section cannot be drawn yet.</span></p>")


def _section(section_id: str, title_vi: str, title_en: str, body: str, intro: str = "") -> str:
    return (f'<section id="{_e(section_id)}"><h2>{_bilingual(title_vi, title_en)}</h2>'
            f"{f'<p>{intro}</p>' if intro else ''}{body}</section>")


def _no_rows_for_year(year: int | None) -> str:
    return (f'<p class="missing">Không có số liệu cho năm {_e(year)}. '
            f'<span class="en" lang="en">No data for {_e(year)}.</span></p>')


# -- the sections --------------------------------------------------------------------------------------

RATE_COLUMNS = (
    TableColumn("households_total", "Tổng số hộ", "Households", "count"),
    TableColumn("households_poor", "Hộ nghèo", "Poor", "count"),
    TableColumn("households_near_poor", "Hộ cận nghèo", "Near-poor", "count"),
    TableColumn("poor_rate", "Tỷ lệ hộ nghèo (%)", "Poor rate (%)", "rate"),
    TableColumn("near_poor_rate", "Tỷ lệ hộ cận nghèo (%)", "Near-poor rate (%)", "rate"),
    TableColumn("poor_or_near_poor_rate", "Tỷ lệ nghèo và cận nghèo (%)", "Poor and near-poor rate (%)", "rate"),
)
FIGURES_STATUS = TableColumn("figures_status", "Tình trạng số liệu", "Figures", "words")


@dataclass
class ReportContext:
    marts: PublishedMarts
    year: int | None
    names: UnitNames
    progress: Progress

    @property
    def version(self) -> str | None:
        return self.marts.version


def _all_households(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter((pl.col("ethnic_group") == ALL_GROUPS) & (pl.col("area") == ALL_AREAS))


# When the nation's figures are unknown (some communes have not reported, and a missing count stays
# unknown through every sum), a section shows the most aggregated units whose figures are known instead,
# and says so: never a partial sum presented as the nation.
SCOPE_ORDER: tuple[str, ...] = ("national", "region", "province", "district", "commune")
MAX_FALLBACK_UNITS = 6


@dataclass(frozen=True)
class Scope:
    level: str
    unit_codes: tuple[str, ...]

    @property
    def national(self) -> bool:
        return self.level == "national"


def _known_scope(rows: pl.DataFrame, value_column: str) -> Scope | None:
    """The highest level with a known `value_column`, and (below the nation) its largest units."""
    known = rows.filter(pl.col(value_column).is_not_null())
    for level in SCOPE_ORDER:
        at_level = known.filter(pl.col("level") == level)
        if at_level.height == 0:
            continue
        if level in ("national", "region"):
            return Scope(level, tuple(sorted(at_level["unit_code"].unique().to_list())))
        largest = (at_level.group_by("unit_code").agg(pl.col("households_total").max())
                   .sort(["households_total", "unit_code"], descending=[True, False], nulls_last=True)
                   .head(MAX_FALLBACK_UNITS))
        return Scope(level, tuple(largest["unit_code"].to_list()))
    return None


def _scope_note(ctx: ReportContext, scope: Scope | None) -> str:
    """Why the nation's figure is missing: how many communes sent data of their own."""
    if scope is not None and scope.national:
        return ""
    frame = ctx.marts.get("poverty_by_area")
    national = None if frame is None else _all_households(frame).filter(
        (pl.col("level") == "national") & (pl.col("year") == ctx.year))
    coverage = ""
    if national is not None and national.height:
        row = national.row(0, named=True)
        reported, expected = row.get("lowest_units_reported"), row.get("lowest_units_expected")
        if expected:
            coverage = (f" {_format(reported, 'count')[0]} / {_format(expected, 'count')[0]} xã đã tự nộp số liệu "
                        f'<span class="en" lang="en">({_format(reported, "count")[0]} of '
                        f'{_format(expected, "count")[0]} communes sent data of their own)</span>.')
    if scope is None:
        return (f'<p class="missing">Chưa có số liệu đã biết cho phần này.{coverage} '
                '<span class="en" lang="en">No known figures for this section yet.</span></p>')
    vi, en = LEVEL_LABELS[scope.level]
    return (f'<p class="missing" data-scope="{_e(scope.level)}">Chưa có số liệu toàn quốc: số liệu còn thiếu ở '
            f"các đơn vị chưa nộp, không bao giờ được coi là bằng không.{coverage} Dưới đây là các đơn vị cấp "
            f"{_e(vi.lower())} đã có đủ số liệu (tối đa {MAX_FALLBACK_UNITS}, lớn nhất trước). "
            '<span class="en" lang="en">No national figure yet: counts of units that have not reported are '
            f"unknown, never zero. Shown instead: the {_e(en.lower())}s whose figures are known (at most "
            f"{MAX_FALLBACK_UNITS}, largest first).</span></p>")


def _reform_note(rows: pl.DataFrame) -> str:
    """Rows over years on two lists of units (the 2025 reform) do not cover the same territory under the same
    code or region: say so, and that the change column is computed on the same territory."""
    if "geography_version" not in rows.columns or rows.get_column("geography_version").n_unique() < 2:
        return ""
    return ('<p class="note" data-note="reform">Từ năm 2025 số liệu theo danh mục đơn vị hành chính mới: một tỉnh, '
            "một vùng trước và sau năm 2025 có thể là các địa bàn khác nhau dù cùng mã hoặc cùng tên. Cột thay đổi "
            "so sánh cùng một địa bàn: số liệu năm trước được quy đổi theo bảng chuyển đổi chính thức. "
            '<span class="en" lang="en">From 2025 the figures follow the new list of administrative units: a '
            "province or region before and after 2025 may be a different territory under the same code or name. "
            "The change column compares the same territory: the previous year is restated through the official "
            "conversion table.</span></p>")


def _in_scope(rows: pl.DataFrame, scope: Scope) -> pl.DataFrame:
    return rows.filter((pl.col("level") == scope.level) & pl.col("unit_code").is_in(list(scope.unit_codes)))


def section_rates(ctx: ReportContext) -> str:
    mart = "poverty_by_area"
    frame = ctx.marts.get(mart)
    title = ("Tỷ lệ hộ nghèo, cận nghèo toàn quốc và theo vùng qua các năm",
             "National and regional poor and near-poor rates over the years")
    if frame is None:
        return _section("rates", *title, _missing(mart, ctx.version))
    candidates = _all_households(frame).filter(pl.col("year") <= ctx.year)
    scope = _known_scope(candidates, "poor_rate")
    note = _scope_note(ctx, scope)
    if scope is None:
        return _section("rates", *title, note)
    if scope.national:
        rows_frame = candidates.filter(pl.col("level").is_in(["national", "region"]))
    else:
        rows_frame = _in_scope(candidates, scope)
    rows_frame = (rows_frame.with_columns((pl.col("level") == "national").alias("_national"))
                  .sort(["year", "_national", "unit_code"], descending=[False, True, False]))
    rows = [{**r, "unit_name": ctx.names.name(r["year"], r["level"], r["unit_code"])}
            for r in rows_frame.iter_rows(named=True)]
    years = sorted({r["year"] for r in rows})
    from documents import charts

    body = [note, _reform_note(rows_frame)]
    if scope.national:
        ctx.progress("vẽ biểu đồ tỷ lệ toàn quốc / drawing the national rates chart")
        national = {r["year"]: r for r in rows if r["level"] == "national"}
        national_svg = charts.line_chart(
            "fig-national-rates", "Toàn quốc: tỷ lệ hộ nghèo, cận nghèo (%) / National rates (%)", years,
            [("Hộ nghèo / poor", [national.get(y, {}).get("poor_rate") for y in years]),
             ("Hộ cận nghèo / near-poor", [national.get(y, {}).get("near_poor_rate") for y in years]),
             ("Nghèo + cận nghèo / both", [national.get(y, {}).get("poor_or_near_poor_rate") for y in years])],
            "%", colors=(charts.POOR, charts.NEAR_POOR, charts.COMBINED))
        body.append(_figure("figure-national-rates", national_svg, "Tỷ lệ hộ nghèo, cận nghèo toàn quốc theo năm",
                            "National poor and near-poor rates by year", mart=mart, version=ctx.version,
                            table_id="table-rates"))
    series_level = "region" if scope.national else scope.level
    series_units = sorted({r["unit_code"] for r in rows if r["level"] == series_level})
    if series_units:
        ctx.progress("vẽ biểu đồ theo đơn vị / drawing the chart by unit")
        cell = {(r["unit_code"], r["year"]): r for r in rows if r["level"] == series_level}
        level_vi, level_en = LEVEL_LABELS[series_level]
        svg = charts.line_chart(
            "fig-unit-rates", f"Theo {level_vi.lower()}: tỷ lệ hộ nghèo và cận nghèo (%) / By {level_en.lower()} (%)",
            years, [(ctx.names.name(ctx.year, series_level, code),
                     [cell.get((code, y), {}).get("poor_or_near_poor_rate") for y in years]) for code in series_units],
            "%")
        body.append(_figure("figure-unit-rates", svg, f"Tỷ lệ hộ nghèo và cận nghèo theo {level_vi.lower()}",
                            f"Poor and near-poor rate by {level_en.lower()}", mart=mart, version=ctx.version,
                            table_id="table-rates"))
    columns = (TableColumn("year", "Năm", "Year"), TableColumn("level", "Cấp", "Level"),
               TableColumn("unit_code", "Mã", "Code"), TableColumn("unit_name", "Tên", "Name"), *RATE_COLUMNS,
               TableColumn("poor_rate_change_pp", "Thay đổi tỷ lệ nghèo (điểm %)", "Change in poor rate (pp)", "pp"),
               TableColumn("lowest_units_reported", "Số xã tự nộp số liệu", "Communes with own data", "count"),
               TableColumn("lowest_units_expected", "Số xã theo danh mục", "Communes expected", "count"),
               FIGURES_STATUS)
    caption = (("Toàn quốc và các vùng, mọi dân tộc, mọi khu vực", "Nation and regions, all ethnic groups, all areas")
               if scope.national else ("Các đơn vị đã có đủ số liệu, mọi dân tộc, mọi khu vực",
                                       "Units whose figures are known, all ethnic groups, all areas"))
    body.append(_table("table-rates", *caption, columns, rows, mart=mart, version=ctx.version))
    return _section("rates", *title, "".join(body))


def section_ethnicity(ctx: ReportContext) -> str:
    mart = "poverty_by_ethnicity"
    frame = ctx.marts.get(mart)
    title = ("Hộ dân tộc thiểu số so với hộ dân tộc Kinh", "Ethnic-minority versus Kinh households")
    if frame is None:
        return _section("ethnicity", *title, _missing(mart, ctx.version))
    group_names = {ETHNIC_MINORITIES: ("Dân tộc thiểu số", "Ethnic minorities"), KINH: ("Kinh", "Kinh"),
                   ALL_GROUPS: ("Tất cả", "All")}
    candidates = frame.filter((pl.col("area") == ALL_AREAS) & pl.col("ethnic_group").is_in(list(group_names))
                              & (pl.col("year") <= ctx.year))
    scope = _known_scope(candidates.filter(pl.col("ethnic_group") == ETHNIC_MINORITIES), "poor_rate")
    note = _scope_note(ctx, scope)
    if scope is None:
        return _section("ethnicity", *title, note)
    scoped = candidates.filter(pl.col("level") == "national") if scope.national else _in_scope(candidates, scope)
    rows_frame = scoped.sort("year", "unit_code", "ethnic_group")
    rows = [{**r, "group_name": " / ".join(dict.fromkeys(group_names[r["ethnic_group"]])),
             "unit_name": ctx.names.name(r["year"], r["level"], r["unit_code"])}
            for r in rows_frame.iter_rows(named=True)]
    cell = {(r["unit_code"], r["ethnic_group"], r["year"]): r for r in rows}
    if scope.national:
        keys = [("VN", y) for y in sorted({r["year"] for r in rows})]
        categories = [str(y) for _, y in keys]
    else:
        keys = [(code, ctx.year) for code in scope.unit_codes]
        categories = [ctx.names.name(ctx.year, scope.level, code) for code in scope.unit_codes]
    ctx.progress("vẽ biểu đồ dân tộc / drawing the ethnic-group chart")
    from documents import charts

    def values(group: str, column: str) -> list:
        return [cell.get((code, group, year), {}).get(column) for code, year in keys]

    svg = charts.grouped_bars(
        "fig-minority-kinh", "Tỷ lệ hộ nghèo, cận nghèo (%): DTTS và Kinh / Minority and Kinh (%)", categories,
        [("DTTS – nghèo / minority poor", values(ETHNIC_MINORITIES, "poor_rate")),
         ("DTTS – cận nghèo / minority near-poor", values(ETHNIC_MINORITIES, "near_poor_rate")),
         ("Kinh – nghèo / Kinh poor", values(KINH, "poor_rate")),
         ("Kinh – cận nghèo / Kinh near-poor", values(KINH, "near_poor_rate"))],
        "%", colors=(charts.MINORITY, "#7fd1b9", charts.KINH, "#b9dcf2"))
    columns = (TableColumn("year", "Năm", "Year"), TableColumn("unit_code", "Mã đơn vị", "Unit code"),
               TableColumn("unit_name", "Đơn vị", "Unit"), TableColumn("ethnic_group", "Nhóm", "Group"),
               TableColumn("group_name", "Tên nhóm", "Group name"), *RATE_COLUMNS,
               TableColumn("poor_rate_change_pp", "Thay đổi tỷ lệ nghèo (điểm %)", "Change in poor rate (pp)", "pp"))
    where = ("toàn quốc", "national") if scope.national else (
        f"các {LEVEL_LABELS[scope.level][0].lower()} có đủ số liệu, năm {ctx.year}",
        f"{LEVEL_LABELS[scope.level][1].lower()}s with known figures, {ctx.year}")
    body = note + _figure("figure-minority-kinh", svg, f"Tỷ lệ hộ nghèo, cận nghèo: dân tộc thiểu số và Kinh, "
                          f"{where[0]}", f"Poor and near-poor rates: ethnic minorities and Kinh, {where[1]}",
                          mart=mart, version=ctx.version, table_id="table-minority-kinh")
    body += _table("table-minority-kinh", "Theo nhóm dân tộc của chủ hộ (EM = mọi dân tộc thiểu số, 01 = Kinh)",
                   "By the household head's ethnic group (EM = all minorities, 01 = Kinh)",
                   columns, rows, mart=mart, version=ctx.version)
    return _section("ethnicity", *title, body)


def section_provinces(ctx: ReportContext) -> str:
    mart = "poverty_by_area"
    frame = ctx.marts.get(mart)
    title = (f"Xếp hạng các tỉnh theo tỷ lệ hộ nghèo và cận nghèo, năm {ctx.year}",
             f"Provinces ranked by poor and near-poor rate, {ctx.year}")
    if frame is None:
        return _section("provinces", *title, _missing(mart, ctx.version))
    provinces = _all_households(frame).filter((pl.col("level") == "province") & (pl.col("year") == ctx.year))
    rows_frame = (provinces.filter(pl.col("poor_or_near_poor_rate").is_not_null())
                  .sort(["poor_or_near_poor_rate", "unit_code"], descending=[True, False]))
    unknown = provinces.filter(pl.col("poor_or_near_poor_rate").is_null()).sort("unit_code")
    unknown_note = ""
    if unknown.height:
        names = ", ".join(f"{ctx.names.name(ctx.year, 'province', c)} ({c})" for c in unknown["unit_code"])
        unknown_note = (f'<p class="missing" data-unknown-provinces="{unknown.height}">{unknown.height} tỉnh chưa có '
                        f'số liệu, không xếp hạng <span class="en" lang="en">({unknown.height} provinces without '
                        f"known figures, not ranked)</span>: {_e(names)}.</p>")
    if rows_frame.height == 0:
        return _section("provinces", *title, unknown_note or _no_rows_for_year(ctx.year))
    rows = []
    for rank, r in enumerate(rows_frame.iter_rows(named=True), start=1):
        rows.append({**r, "rank": rank,
                     "unit_name": ctx.names.name(ctx.year, "province", r["unit_code"]),
                     "region_name": ctx.names.name(ctx.year, "region", r["region_key"]) if r.get("region_key")
                     else None})
    ctx.progress("vẽ biểu đồ xếp hạng tỉnh / drawing the province ranking")
    from documents import charts

    svg = charts.horizontal_bars(
        "fig-provinces", f"Tỷ lệ hộ nghèo và cận nghèo theo tỉnh, {ctx.year} (%) / By province (%)",
        [f"{r['unit_name']} ({r['unit_code']})" for r in rows],
        [("Hộ nghèo / poor", [r["poor_rate"] for r in rows]),
         ("Hộ cận nghèo / near-poor", [r["near_poor_rate"] for r in rows])],
        "%", stacked=True, colors=(charts.POOR, charts.NEAR_POOR))
    columns = (TableColumn("rank", "Hạng", "Rank"), TableColumn("unit_code", "Mã tỉnh", "Code"),
               TableColumn("unit_name", "Tỉnh", "Province"), TableColumn("region_name", "Vùng", "Region"),
               *RATE_COLUMNS,
               TableColumn("poor_or_near_poor_rate_change_pp", "Thay đổi so với năm trước (điểm %)",
                           "Change since last year (pp)", "pp"),
               TableColumn("lowest_units_expected", "Số xã theo danh mục", "Communes expected", "count"),
               TableColumn("lowest_units_reported", "Số xã tự nộp số liệu", "Communes with own data", "count"),
               TableColumn("source_level", "Cấp của nguồn số liệu", "Data source level"), FIGURES_STATUS)
    body = _figure("figure-provinces", svg, "Tỷ lệ hộ nghèo (đỏ) và cận nghèo (cam) cộng dồn theo tỉnh",
                   "Poor (red) and near-poor (orange) rates stacked, by province", mart=mart,
                   version=ctx.version, table_id="table-provinces")
    body += _table("table-provinces", f"Các tỉnh xếp theo tỷ lệ hộ nghèo và cận nghèo giảm dần, năm {ctx.year}",
                   f"Provinces by poor and near-poor rate, highest first, {ctx.year}", columns, rows, mart=mart,
                   version=ctx.version)
    body += unknown_note
    return _section("provinces", *title, body)


def section_deprivation(ctx: ReportContext) -> str:
    mart = "deprivation_by_area"
    frame = ctx.marts.get(mart)
    title = (f"Hồ sơ thiếu hụt dịch vụ xã hội cơ bản (12 chỉ số), năm {ctx.year}",
             f"Deprivation profile (12 indicators), {ctx.year}")
    if frame is None:
        return _section("deprivation", *title, _missing(mart, ctx.version))
    candidates = _all_households(frame).filter(pl.col("year") == ctx.year)
    scope = _known_scope(candidates, "deprived_share_of_poor")
    note = _scope_note(ctx, scope)
    if scope is None:
        return _section("deprivation", *title, note)
    units = ("VN",) if scope.national else scope.unit_codes
    level = "national" if scope.national else scope.level
    by_key = {(r["unit_code"], r["indicator"]): r for r in
              candidates.filter((pl.col("level") == level) & pl.col("unit_code").is_in(list(units))).iter_rows(
                  named=True)}
    rows = [{**by_key.get((code, ind), {}), "unit_code": code, "unit_name": ctx.names.name(ctx.year, level, code),
             "indicator": ind, "label_vi": INDICATOR_LABELS[ind][0], "label_en": INDICATOR_LABELS[ind][1]}
            for code in units for ind in INDICATOR_IDS]
    ctx.progress("vẽ biểu đồ thiếu hụt / drawing the deprivation profile")
    from documents import charts

    labels = [f"{ind} {INDICATOR_LABELS[ind][0]}" for ind in INDICATOR_IDS]
    if scope.national:
        series = [("trong hộ nghèo / of poor", [r.get("deprived_share_of_poor") for r in rows]),
                  ("trong hộ cận nghèo / of near-poor", [r.get("deprived_share_of_near_poor") for r in rows]),
                  ("trong mọi hộ / of all", [r.get("deprived_share_of_all") for r in rows])]
        colors = (charts.POOR, charts.NEAR_POOR, charts.COMBINED)
        chart_title = f"Tỷ lệ hộ thiếu hụt theo chỉ số, {ctx.year} (%) / Deprived, by indicator (%)"
    else:
        series = [(ctx.names.name(ctx.year, level, code),
                   [by_key.get((code, ind), {}).get("deprived_share_of_poor") for ind in INDICATOR_IDS])
                  for code in units]
        colors = None
        chart_title = f"Tỷ lệ hộ nghèo thiếu hụt theo chỉ số, {ctx.year} (%) / Poor households deprived (%)"
    svg = charts.horizontal_bars("fig-deprivation", chart_title, labels, series, "%", colors=colors)
    columns = (TableColumn("unit_code", "Mã đơn vị", "Unit code"), TableColumn("unit_name", "Đơn vị", "Unit"),
               TableColumn("indicator", "Chỉ số", "Indicator"), TableColumn("label_vi", "Tên chỉ số", "Name (vi)"),
               TableColumn("label_en", "Tên tiếng Anh", "Name (en)"),
               TableColumn("households_poor_deprived", "Hộ nghèo thiếu hụt", "Poor deprived", "count"),
               TableColumn("deprived_share_of_poor", "% hộ nghèo", "% of poor", "rate"),
               TableColumn("households_near_poor_deprived", "Hộ cận nghèo thiếu hụt", "Near-poor deprived",
                           "count"),
               TableColumn("deprived_share_of_near_poor", "% hộ cận nghèo", "% of near-poor", "rate"),
               TableColumn("households_deprived", "Mọi hộ thiếu hụt", "All households deprived", "count"),
               TableColumn("deprived_share_of_all", "% mọi hộ", "% of all", "rate"))
    where = ("Toàn quốc", "National") if scope.national else (
        f"Các {LEVEL_LABELS[level][0].lower()} có đủ số liệu", f"{LEVEL_LABELS[level][1]}s with known figures")
    body = note + _figure("figure-deprivation", svg, f"Tỷ lệ hộ thiếu hụt theo 12 chỉ số – {where[0]}",
                          f"Share of households deprived on each of the 12 indicators – {where[1]}", mart=mart,
                          version=ctx.version, table_id="table-deprivation")
    body += _table("table-deprivation", f"{where[0]}, năm {ctx.year}; chỉ tính từ danh sách hộ",
                   f"{where[1]}, {ctx.year}; from household lists only", columns, rows, mart=mart,
                   version=ctx.version)
    return _section("deprivation", *title, body)


VERDICT_LABELS = {"exit_candidate": ("Đề xuất thoát", "Exit candidate"), "remains": ("Chưa thoát", "Remains"),
                  "insufficient_data": ("Thiếu dữ liệu", "Insufficient data"),
                  "no_confirmed_rule": ("Chưa có quy tắc được xác nhận (chỉ báo cáo giá trị)",
                                        "No confirmed rule (values only)")}
STATUS_KIND_LABELS = {
    "poor_district": ("Huyện nghèo", "Poor district"),
    "ed_commune_coastal": ("Xã ĐBKK bãi ngang ven biển, hải đảo", "Extremely disadvantaged coastal commune"),
    "region_iii_commune": ("Xã khu vực III", "Region III commune"),
    "ed_village": ("Thôn ĐBKK", "Extremely disadvantaged village"),
}


def _both(labels: dict[str, tuple[str, str]], key: str | None) -> str | None:
    if key is None:
        return None
    vi, en = labels.get(key, (key, key))
    return vi if vi == en else f"{vi} / {en}"


def _reasons(criteria: pl.DataFrame | None, year: int | None) -> dict[tuple, str]:
    """Per unit: the criteria it no longer meets, with the value used and the threshold."""
    if criteria is None or criteria.height == 0:
        return {}
    not_met = criteria.filter((pl.col("year") == year) & (pl.col("outcome") == "not_met")).sort(
        "status_kind", "unit_code", "village", "criterion_id")
    reasons: dict[tuple, list[str]] = {}
    for row in not_met.iter_rows(named=True):
        value = row.get("value_text") or ("–" if row.get("value") is None else f"{row['value']:g}")
        threshold = "" if row.get("threshold") is None else f" (ngưỡng / threshold {row['comparison']} " \
            f"{row['threshold']:g}{' ' + row['unit'] if row.get('unit') else ''})"
        key = (row["status_kind"], row["unit_code"], row.get("village") or "")
        reasons.setdefault(key, []).append(f"{row['label_vi']}: {value}{threshold}")
    return {key: "; ".join(items) for key, items in reasons.items()}


def section_exits(ctx: ReportContext) -> str:
    mart = "exit_candidates"
    frame = ctx.marts.get(mart)
    title = (f"Đơn vị đủ điều kiện xem xét thoát khỏi danh sách, năm {ctx.year}",
             f"Exit candidates and their reasons, {ctx.year}")
    if frame is None:
        return _section("exits", *title, _missing(mart, ctx.version))
    year_rows = frame.filter(pl.col("year") == ctx.year)
    if year_rows.height == 0:
        return _section("exits", *title, _no_rows_for_year(ctx.year))
    intro = ("lnob không công nhận thoát nghèo: đơn vị trong danh sách mà số liệu năm nay không còn đáp ứng tiêu chí "
             "vào danh sách được nêu là đề xuất thoát, với từng tiêu chí không đạt; tiêu chí thiếu số liệu không bao "
             'giờ được coi là đạt. <span class="en" lang="en">lnob does not decree status: a listed unit whose '
             "figures no longer meet the entry criteria is an exit candidate, with each criterion it fails; a "
             "criterion without data never passes.</span>")
    summary = (year_rows.group_by("status_kind").agg(
        pl.len().cast(pl.Int64).alias("units_on_list"),
        *[(pl.col("verdict") == verdict).sum().cast(pl.Int64).alias(verdict) for verdict in VERDICT_LABELS])
        .sort("status_kind"))
    summary_rows = [{**r, "status_name": _both(STATUS_KIND_LABELS, r["status_kind"])}
                    for r in summary.iter_rows(named=True)]
    ctx.progress("vẽ biểu đồ ứng viên thoát / drawing the exit-candidate chart")
    from documents import charts

    svg = charts.grouped_bars(
        "fig-exits", f"Đơn vị trong danh sách theo kết luận, {ctx.year} / Listed units by verdict",
        [STATUS_KIND_LABELS.get(r["status_kind"], (r["status_kind"],))[0] for r in summary_rows],
        [(" / ".join(VERDICT_LABELS[v]), [r[v] for r in summary_rows]) for v in VERDICT_LABELS],
        "số đơn vị / units", colors=(charts.MINORITY, charts.POOR, "#999999"), value_format="{:.0f}")
    summary_columns = (TableColumn("status_kind", "Loại danh sách", "Status kind"),
                       TableColumn("status_name", "Tên", "Name"),
                       TableColumn("units_on_list", "Số đơn vị trong danh sách", "Units on the list", "count"),
                       *(TableColumn(v, vi, en, "count") for v, (vi, en) in VERDICT_LABELS.items()))
    reasons = _reasons(ctx.marts.get("exit_criteria"), ctx.year)
    listed = year_rows.filter(pl.col("verdict") != "remains").sort("status_kind", "verdict", "unit_code")
    rows = []
    for r in listed.iter_rows(named=True):
        key = (r["status_kind"], r["unit_code"], r.get("village") or "")
        rows.append({**r, "status_name": _both(STATUS_KIND_LABELS, r["status_kind"]),
                     "verdict_name": _both(VERDICT_LABELS, r["verdict"]),
                     "reasons": reasons.get(key) or r.get("criteria_not_met")})
    columns = (TableColumn("status_kind", "Loại danh sách", "Status kind"),
               TableColumn("unit_code", "Mã đơn vị", "Unit code"), TableColumn("unit_name", "Tên đơn vị", "Unit"),
               TableColumn("village", "Thôn", "Village"),
               TableColumn("province_code", "Mã tỉnh", "Province"), TableColumn("verdict", "Kết luận", "Verdict"),
               TableColumn("verdict_name", "Kết luận (chữ)", "Verdict (words)"),
               TableColumn("reasons", "Lý do: tiêu chí không còn đạt (giá trị, ngưỡng)",
                           "Reasons: criteria no longer met (value, threshold)"),
               TableColumn("criteria_insufficient", "Tiêu chí thiếu dữ liệu", "Criteria without data"),
               TableColumn("depends_on_unconfirmed", "Phụ thuộc ngưỡng chưa xác nhận", "Depends on unconfirmed "
                           "thresholds", "bool"),
               TableColumn("list_decisions", "Quyết định của danh sách", "List decisions"),
               TableColumn("source_submissions", "Bản nộp nguồn", "Source submissions"))
    body = _figure("figure-exits", svg, "Số đơn vị trong danh sách theo kết luận", "Listed units by verdict",
                   mart=mart, version=ctx.version, table_id="table-exit-summary")
    body += _table("table-exit-summary", f"Đơn vị trong danh sách theo loại và kết luận, năm {ctx.year}",
                   f"Listed units by status kind and verdict, {ctx.year}", summary_columns, summary_rows,
                   mart=mart, version=ctx.version)
    reasons_note = "" if ctx.marts.get("exit_criteria") is not None else (
        "Chưa có mart exit_criteria: lý do chỉ nêu mã tiêu chí. "
        '<span class="en" lang="en">No exit_criteria mart: reasons give criterion ids only.</span>')
    body += _table("table-exit-candidates", "Đề xuất thoát và đơn vị thiếu dữ liệu, với lý do",
                   "Exit candidates and units without enough data, with the reasons", columns, rows, mart=mart,
                   version=ctx.version, note=reasons_note)
    return _section("exits", *title, body, intro)


TARGET_STATUS_LABELS = {"on_track": ("Đúng tiến độ", "On track"), "off_track": ("Chậm tiến độ", "Off track"),
                        "insufficient_data": ("Thiếu dữ liệu", "Insufficient data"),
                        "not_judged": ("Không đánh giá (phần đóng góp, chỉ số theo dõi)",
                                       "Not judged (a contribution or an indicator)")}


def section_targets(ctx: ReportContext) -> str:
    mart = "target_progress"
    frame = ctx.marts.get(mart)
    title = ("Tiến độ so với mục tiêu quốc gia", "Progress against the national targets")
    if frame is None:
        return _section("targets", *title, _missing(mart, ctx.version))
    rows_frame = frame.filter((pl.col("year") == ctx.year) & (pl.col("level") == "national")).sort(
        "target_id", "basis")
    if rows_frame.height == 0:
        return _section("targets", *title, _no_rows_for_year(ctx.year))
    rows = [{**r, "status_name": _both(TARGET_STATUS_LABELS, r.get("status"))} for r in rows_frame.iter_rows(named=True)]
    columns = (TableColumn("target_id", "Mã mục tiêu", "Target"), TableColumn("label_vi", "Mục tiêu", "Target (vi)"),
               TableColumn("label_en", "Mục tiêu (tiếng Anh)", "Target (en)"), TableColumn("basis", "Cơ sở", "Basis"),
               TableColumn("baseline_year", "Năm gốc", "Baseline year"),
               TableColumn("baseline_value", "Giá trị gốc", "Baseline value", "rate"),
               TableColumn("value", "Giá trị năm nay", "Value this year", "rate"),
               TableColumn("change_per_year", "Mức giảm bình quân/năm (điểm %)", "Decrease per year (pp)", "rate"),
               TableColumn("goal_text", "Mục tiêu (chữ)", "Goal as stated"),
               TableColumn("expected_by_year", "Mức cần đạt đến năm này", "Expected by this year", "rate"),
               TableColumn("status", "Tình trạng", "Status"),
               TableColumn("status_name", "Tình trạng (chữ)", "Status (words)"),
               TableColumn("confirmed", "Mục tiêu đã xác nhận", "Target confirmed", "bool"),
               TableColumn("provisional", "Dựa trên quy tắc tạm thời", "Rests on a provisional rule", "bool"),
               TableColumn("partial_list", "Danh sách chưa đầy đủ", "Rests on a partial list", "bool"),
               TableColumn("note", "Ghi chú", "Note"))
    return _section("targets", *title, _table(
        "table-target-progress", f"Các mục tiêu của Chương trình MTQG giảm nghèo bền vững, toàn quốc, năm {ctx.year}",
        f"Targets of the national sustainable poverty-reduction programme, national, {ctx.year}", columns, rows,
        mart=mart, version=ctx.version))


def section_coverage(ctx: ReportContext) -> str:
    title = ("Mức độ đầy đủ của số liệu và cảnh báo đối chiếu", "Data coverage and reconciliation warnings")
    parts = [_coverage_part(ctx), _approval_part(ctx), _reconciliation_part(ctx)]
    return _section("coverage", *title, "".join(parts))


def _coverage_part(ctx: ReportContext) -> str:
    mart = "submission_coverage"
    frame = ctx.marts.get(mart)
    heading = f"<h3>{_bilingual('Tình hình nộp báo cáo theo tỉnh', 'Submissions by province')}</h3>"
    if frame is None:
        return heading + _missing(mart, ctx.version)
    year_frame = frame.filter(pl.col("year") == ctx.year)
    if year_frame.height == 0:
        return heading + _no_rows_for_year(ctx.year)

    def by_level(level: str, column: str, condition: pl.Expr) -> pl.Expr:
        return (condition & (pl.col("level") == level)).sum().cast(pl.Int64).alias(column)

    summary = (
        year_frame.filter(pl.col("province_code").is_not_null())
        .group_by("province_code")
        .agg(by_level("commune", "communes_expected", pl.lit(True)),
             by_level("commune", "communes_submitted", pl.col("submitted")),
             by_level("district", "districts_expected", pl.lit(True)),
             by_level("district", "districts_submitted", pl.col("submitted")),
             by_level("province", "province_submitted", pl.col("submitted")),
             pl.col("on_time_official").fill_null(False).sum().cast(pl.Int64).alias("on_time_official"),
             pl.col("findings_count").sum().cast(pl.Int64).alias("findings"),
             pl.col("warnings_count").sum().cast(pl.Int64).alias("warnings"))
        .with_columns(percentage("communes_submitted", "communes_expected").alias("communes_submitted_share"))
        .sort("province_code")
    )
    rows = [{**r, "unit_name": ctx.names.name(ctx.year, "province", r["province_code"])}
            for r in summary.iter_rows(named=True)]
    columns = (TableColumn("province_code", "Mã tỉnh", "Province code"),
               TableColumn("unit_name", "Tỉnh", "Province"),
               TableColumn("communes_expected", "Số xã theo danh mục", "Communes expected", "count"),
               TableColumn("communes_submitted", "Số xã đã nộp", "Communes submitted", "count"),
               TableColumn("communes_submitted_share", "% xã đã nộp", "% communes submitted", "rate"),
               TableColumn("districts_expected", "Số huyện theo danh mục", "Districts expected", "count"),
               TableColumn("districts_submitted", "Số huyện đã nộp", "Districts submitted", "count"),
               TableColumn("province_submitted", "Tỉnh đã nộp", "Province submitted", "count"),
               TableColumn("on_time_official", "Đơn vị nộp đúng hạn (trước 20/12)", "Units on time (before 20 Dec)",
                           "count"),
               TableColumn("findings", "Lỗi", "Errors", "count"), TableColumn("warnings", "Cảnh báo", "Warnings",
                                                                             "count"))
    body = heading
    if rows:
        ctx.progress("vẽ biểu đồ mức độ nộp báo cáo / drawing the coverage chart")
        from documents import charts

        svg = charts.horizontal_bars(
            "fig-coverage", f"Tỷ lệ xã đã nộp số liệu, {ctx.year} (%) / Communes submitted (%)",
            [f"{r['unit_name']} ({r['province_code']})" for r in rows],
            [("% xã đã nộp / % communes submitted", [r["communes_submitted_share"] for r in rows])],
            "%", colors=(charts.COMBINED,))
        body += _figure("figure-coverage", svg, "Tỷ lệ xã đã có bản nộp được chấp nhận, theo tỉnh",
                        "Share of communes with an accepted submission, by province", mart=mart,
                        version=ctx.version, table_id="table-coverage")
    body += _table("table-coverage", f"Đơn vị phải báo cáo và đã nộp, năm {ctx.year}",
                   f"Units expected to report and those that did, {ctx.year}", columns, rows, mart=mart,
                   version=ctx.version)
    return body


def _approval_part(ctx: ReportContext) -> str:
    """Per province: units approved at each level and the province's own approval against the deadline of the
    official report (approval_coverage)."""
    mart = "approval_coverage"
    frame = ctx.marts.get(mart)
    heading = f"<h3>{_bilingual('Tình hình phê duyệt số liệu theo tỉnh', 'Approval by province')}</h3>"
    if frame is None:
        return heading + _missing(mart, ctx.version)
    year_frame = frame.filter(pl.col("year") == ctx.year).sort("province_code")
    if year_frame.height == 0:
        return heading + _no_rows_for_year(ctx.year)
    rows = [{**r, "unit_name": ctx.names.name(ctx.year, "province", r["province_code"])}
            for r in year_frame.iter_rows(named=True)]
    approved = sum(1 for r in rows if r["province_approval_state"] == "approved")
    unconfirmed = any(r["deadline_confirmed"] is False for r in rows)
    intro = (f'<p data-provinces-approved="{approved}">{approved}/{len(rows)} tỉnh đã được phê duyệt (số liệu chính '
             f"thức); số liệu của các tỉnh còn lại là sơ bộ. Hạn báo cáo chính thức của tỉnh lên bộ: trước 20/12 "
             f'(Quyết định 24/2021, Điều 7). <span class="en" lang="en">{approved} of {len(rows)} provinces are '
             f"approved (official figures); the others' figures are preliminary. The official report from a "
             f"province to the ministry is due before 20 December (Decision 24/2021 Art. 7).</span></p>")
    if unconfirmed:
        intro += ('<p class="missing" data-deadline-unconfirmed="true">Sau cải cách năm 2025, quy trình và thời hạn '
                  'CHƯA ĐƯỢC XÁC NHẬN. <span class="en" lang="en">After the 2025 reform the procedure and its '
                  "deadline are UNCONFIRMED.</span></p>")
    columns = (TableColumn("province_code", "Mã tỉnh", "Province code"), TableColumn("unit_name", "Tỉnh", "Province"),
               *(TableColumn(f"{level}s_{name}", f"{vi_name} {vi_level}", f"{en_level} {en_name}", "count")
                 for level, vi_level, en_level in (("commune", "xã", "Communes"), ("district", "huyện", "Districts"))
                 for name, vi_name, en_name in (("expected", "Số", "expected"), ("accepted", "Số có số liệu", "accepted"),
                                                ("approved", "Đã phê duyệt", "approved"),
                                                ("returned", "Bị trả lại", "returned"),
                                                ("awaiting_approval", "Chờ phê duyệt", "awaiting approval"))),
               TableColumn("province_approval_state", "Phê duyệt của tỉnh", "Province approval", "words"),
               TableColumn("province_approval_at", "Thời điểm (UTC)", "When (UTC)"),
               TableColumn("approval_timing", "So với hạn 20/12", "Against 20 December", "words"))
    return heading + intro + _table(
        "table-approval", f"Đơn vị đã phê duyệt và phê duyệt của tỉnh, năm {ctx.year}",
        f"Units approved and the province's own approval, {ctx.year}", columns, rows, mart=mart,
        version=ctx.version)


def _reconciliation_part(ctx: ReportContext) -> str:
    mart = "reconciliation"
    frame = ctx.marts.get(mart)
    heading = f"<h3>{_bilingual('Cảnh báo đối chiếu giữa các cấp', 'Reconciliation warnings across levels')}</h3>"
    if frame is None:
        return heading + _missing(mart, ctx.version)
    year_frame = frame.filter(pl.col("year") == ctx.year).sort(
        [c for c in MARTS["reconciliation"].sort_key if c in frame.columns])
    total = year_frame.height
    rows = [{**r, "unit_name": ctx.names.name(ctx.year, r["level"], r["unit_code"])}
            for r in year_frame.head(MAX_LISTED_ROWS).iter_rows(named=True)]
    columns = [TableColumn("level", "Cấp", "Level"), TableColumn("unit_code", "Mã đơn vị", "Unit code"),
               TableColumn("unit_name", "Tên đơn vị", "Unit name")]
    for name in ("ethnic_group", "area", "measure", "summary_value", "detail_value", "difference",
                 "relative_difference", "summary_level", "summary_unit_code", "summary_submission_id"):
        vi, en = ctx.marts.labels(mart, name)
        kind = {"summary_value": "count", "detail_value": "count", "difference": "count",
                "relative_difference": "rate"}.get(name, "text")
        columns.append(TableColumn(name, vi, en, kind))
    note = ""
    if total > MAX_LISTED_ROWS:
        note = (f"{MAX_LISTED_ROWS} trên {total} dòng được liệt kê; xem mart để có đủ. "
                f'<span class="en" lang="en">{MAX_LISTED_ROWS} of {total} rows listed; see the mart for all.</span>')
    intro = (f'<p data-warnings-total="{total}">Số cảnh báo: {total}. <span class="en" lang="en">Warnings: '
             f"{total}.</span> Biểu tổng hợp khác với số liệu cộng từ cấp dưới vượt cả hai ngưỡng. "
             '<span class="en" lang="en">A summary differs from the roll-up of the detailed data beyond both '
             "tolerances.</span></p>")
    return heading + intro + _table("table-reconciliation", f"Chênh lệch giữa biểu tổng hợp và số liệu chi tiết, "
                                    f"năm {ctx.year}", f"Summaries against detailed data, {ctx.year}", columns,
                                    rows, mart=mart, version=ctx.version, note=note)


SECTIONS: tuple[tuple[str, str, str, Callable[[ReportContext], str]], ...] = (
    ("rates", "Tỷ lệ qua các năm", "Rates over the years", section_rates),
    ("ethnicity", "DTTS và Kinh", "Minority and Kinh", section_ethnicity),
    ("provinces", "Xếp hạng tỉnh", "Provinces ranked", section_provinces),
    ("deprivation", "Thiếu hụt", "Deprivation", section_deprivation),
    ("exits", "Ứng viên thoát", "Exit candidates", section_exits),
    ("targets", "Mục tiêu", "Targets", section_targets),
    ("coverage", "Mức độ đầy đủ", "Coverage", section_coverage),
)


# -- the page ------------------------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; --ink: #1d2731; --muted: #5b6770; --line: #d5dbe0; --accent: #0b5394; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0; line-height: 1.45; background: #fff; }
header { background: #0b3d66; color: #fff; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.5rem; }
header .en { color: #cfe2f3; }
header p { margin: .2rem 0; }
nav { padding: .6rem 2rem; border-bottom: 1px solid var(--line); font-size: .9rem; }
nav a { margin-right: 1rem; color: var(--accent); text-decoration: none; }
main { padding: 0 2rem 2rem; max-width: 1200px; }
section { border-bottom: 1px solid var(--line); padding: 1rem 0 1.5rem; }
h2 { font-size: 1.2rem; margin: .8rem 0; }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
.en { color: var(--muted); font-weight: normal; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: var(--muted); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .82rem; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
caption small { font-weight: normal; color: var(--muted); }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; vertical-align: top; }
th { background: #eef3f7; text-align: left; }
td.count, td.rate, td.pp { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); font-style: italic; }
td[data-column="unit_name"], td[data-column="region_name"], td[data-column="group_name"] { min-width: 9rem; }
td[data-column="reasons"], td[data-column="label_vi"], td[data-column="label_en"] { min-width: 14rem; }
.missing { background: #fff6e0; border-left: 4px solid #e69f00; padding: .5rem .8rem; }
.keyfigures { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.keyfigures div { border: 1px solid var(--line); border-radius: 4px; padding: .6rem 1rem; min-width: 12rem; }
.keyfigures strong { font-size: 1.4rem; display: block; }
code { font-size: .85em; }
footer { padding: 1rem 2rem; color: var(--muted); font-size: .8rem; }
@media print { nav { display: none; } section { page-break-inside: avoid; } }
"""


def _key_figures(ctx: ReportContext) -> str:
    frame = ctx.marts.get("poverty_by_area")
    if frame is None:
        return ""
    national = _all_households(frame).filter((pl.col("level") == "national") & (pl.col("year") == ctx.year))
    if national.height == 0:
        return ""
    row = national.row(0, named=True)
    if row.get("poor_rate") is None:
        return ""
    items = [("Tỷ lệ hộ nghèo", "Poor rate", row.get("poor_rate"), "rate"),
             ("Tỷ lệ hộ cận nghèo", "Near-poor rate", row.get("near_poor_rate"), "rate"),
             ("Số hộ nghèo", "Poor households", row.get("households_poor"), "count"),
             ("Tổng số hộ", "Households", row.get("households_total"), "count")]
    cells = []
    for vi, en, value, kind in items:
        text, _ = _format(value, kind)
        cells.append(f"<div><strong>{_e(text)}{'%' if kind == 'rate' and value is not None else ''}</strong>"
                     f"{_bilingual(vi, en)}</div>")
    return (f'<div class="keyfigures" data-mart="poverty_by_area">{"".join(cells)}</div>'
            f"<p><small>{_source_line('poverty_by_area', ctx.version)}; các số này có trong "
            '<a href="#table-rates">bảng tỷ lệ</a> <span class="en" lang="en">(also in the rates table)</span>'
            "</small></p>")


def _about(ctx: ReportContext) -> str:
    rows = []
    for name in REPORT_MARTS:
        frame = ctx.marts.get(name)
        layout = ALL_MARTS.get(name)
        rows.append({"mart": name, "grain": layout.grain if layout else "",
                     "rows": frame.height if frame is not None else None,
                     "present": frame is not None})
    columns = (TableColumn("mart", "Mart", "Mart"), TableColumn("grain", "Đơn vị dòng", "Grain"),
               TableColumn("rows", "Số dòng", "Rows", "count"), TableColumn("present", "Có trong phiên bản",
                                                                          "In this version", "bool"))
    return _section("about", "Nguồn số liệu", "About the data",
                    _table("table-marts", "Các mart dùng cho báo cáo", "Marts used by this report", columns, rows,
                           mart="manifest.json", version=ctx.version))


def available_years(marts: PublishedMarts) -> list[int]:
    years: set[int] = set()
    for name in ("poverty_by_area", "poverty_by_ethnicity", "submission_coverage"):
        frame = marts.get(name)
        if frame is not None and "year" in frame.columns:
            years.update(int(y) for y in frame["year"].drop_nulls().unique().to_list())
    return sorted(years)


def render_report(marts: PublishedMarts, year: int | None = None, progress: Progress | None = None) -> str:
    """The report as HTML text, for `year` (default: the latest year in the marts)."""
    progress = progress or (lambda message: None)
    years = available_years(marts)
    if year is None and years:
        year = years[-1]
    ctx = ReportContext(marts=marts, year=year, names=UnitNames(), progress=progress)
    sections = []
    for index, (section_id, _vi, en, build) in enumerate(SECTIONS, start=1):
        progress(f"phần {index}/{len(SECTIONS)}: {en}")
        sections.append(build(ctx))
    nav = "".join(f'<a href="#{sid}">{_e(vi)} <span class="en" lang="en">{_e(en)}</span></a>'
                  for sid, vi, en, _ in SECTIONS)
    built_at = marts.manifest.get("built_at") or marts.manifest.get("build_time") or ""
    version_text = marts.version or "chưa có / none"
    year_text = year if year is not None else "–"
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="lnob-mart-version" content="{_e(marts.version or "")}">'
        f'<meta name="lnob-report-year" content="{_e(year or "")}">'
        f"<title>Báo cáo rà soát hộ nghèo, hộ cận nghèo {_e(year_text)} – National poverty review report</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<header><h1>Báo cáo kết quả rà soát hộ nghèo, hộ cận nghèo năm {_e(year_text)} "
        f'<span class="en" lang="en">National poverty review report, {_e(year_text)}</span></h1>'
        f"<p>Phiên bản mart <code>{_e(version_text)}</code>"
        f"{f' (lập lúc {_e(built_at)})' if built_at else ''} · "
        f'<span class="en" lang="en">mart version <code>{_e(version_text)}</code>'
        f"{f' (built {_e(built_at)})' if built_at else ''}</span></p>"
        f"<p>Các năm có số liệu: {_e(', '.join(str(y) for y in years) or '–')} "
        f'<span class="en" lang="en">Years with data</span></p></header>'
        f"<nav>{nav}</nav><main>{_key_figures(ctx)}{''.join(sections)}{_about(ctx)}</main>"
        "<footer>lnob – Không để ai bị bỏ lại phía sau · Leave No One Behind. Tỷ lệ tính bằng % từ số hộ cộng "
        "dồn, không làm tròn khi so sánh; ô trống (–) là chưa có số liệu. "
        '<span class="en" lang="en">Rates are percentages computed from summed household counts; a dash means '
        "no data.</span></footer></body></html>\n"
    )


def write_report(settings: Settings, out_path: str | Path, year: int | None = None, *,
                 progress: Progress | None = None) -> Path:
    """Build the report from the current published marts and write it to `out_path`; returns the path.

    Raises ValueError when `year` is given and the published marts hold other years only."""
    progress = progress or (lambda message: None)
    progress("đọc các mart đang công bố / reading the current marts")
    marts = load_published_marts(settings)
    if marts.version is None:
        progress("chưa có phiên bản mart nào được công bố / no mart version is published yet")
    else:
        progress(f"phiên bản / version {marts.version}: {len(marts.frames)} of {len(REPORT_MARTS)} marts")
    years = available_years(marts)
    if year is not None and years and year not in years:
        raise ValueError(f"no figures for {year} in mart version {marts.version} (years: "
                         f"{', '.join(map(str, years))}) / phiên bản mart {marts.version} không có số liệu năm {year}")
    text = render_report(marts, year, progress)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_path.with_name(f".{out_path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(out_path)
    progress(f"đã ghi / wrote {out_path} ({out_path.stat().st_size // 1024} KiB) at "
             f"{datetime.now(UTC):%H:%M:%S} UTC")
    return out_path
