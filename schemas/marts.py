"""Mart layouts: the one place where every published mart is named, given its grain and labelled.

The data dictionary is generated from these definitions; the build writes exactly these columns, in
this order, with these dtypes, and checks it. Every mart shares the same key names where it has them:
`year`, `level`, `unit_code`, `ethnic_group`, `area`.

Definitions used throughout (decided here, stated once):
* Rates are percentages (0–100), Float64, computed from summed Int64 counts at each level, never
  averaged and never rounded. A rate whose denominator is unknown or zero is null.
* A count that was not reported is null ("unknown"), never zero, and every sum over a unit's children
  stays null when any expected child's count is unknown.
* Multidimensional poverty (Alkire–Foster), with households as the unit of identification and
  analysis, equal weights over the standard's 12 indicators and k = the standard's
  `poor_min_deprivations` (3 under Decree 07/2021): a household is multidimensionally poor (MPI-poor)
  when deprivation_count ≥ k, whatever its income. H = MPI-poor households / households (in %);
  A = mean share of the 12 indicators on which MPI-poor households are deprived (in %);
  M0 = H × A = (sum of deprivation_count over MPI-poor households) / (12 × households), an index 0–1.
  Only household data allow it: where any household count came from a summary, they are null.
* Above the income line, a household is `average` when its income is ≤ the standard's upper bound for
  average living standard, else `other`. When the standard gives no bound (e.g. nd351_2025, bound not
  yet confirmed), lnob never invents one: the household is `not_poor` and `households_average` is null.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from schemas.contracts import INDICATOR_IDS, Column
from schemas.vocabulary import (
    APPROVAL_STATES,
    COMPARISONS,
    ENTRY_CANDIDATE,
    EXIT_VERDICTS,
    FIGURES_STATUSES,
    INSUFFICIENT,
    LIST_KINDS,
    MART_LEVELS,
    MET,
    NOT_MET,
    REPORTED,
)

NATIONAL_CODE = "VN"
ALL_GROUPS = "ALL"
ETHNIC_MINORITIES = "EM"
KINH = "01"
ALL_AREAS = "all"
CLASSIFICATIONS: tuple[str, ...] = ("poor", "near_poor", "average", "not_poor", "other")

# Decision 24/2021 Art. 7 (docs/legal-basis.md#review-scope-and-calendar): "before 15 November" (preliminary)
# and "before 20 December" (official). "Before" is read strictly: a submission received on the 15th / 20th
# (Vietnam time) is late.
DEADLINE_PRELIMINARY: tuple[int, int] = (11, 15)
DEADLINE_OFFICIAL: tuple[int, int] = (12, 20)
DEADLINE_TIME_ZONE = "Asia/Ho_Chi_Minh"

# A summary and the roll-up of detailed data disagree when the difference exceeds BOTH tolerances:
# the absolute one (households) keeps tiny units from flagging on one household, the relative one
# (share of the detailed value) keeps large units from flagging on rounding. Build parameters override.
RECONCILIATION_ABSOLUTE_TOLERANCE: int = 0
RECONCILIATION_RELATIVE_TOLERANCE: float = 0.0


@dataclass(frozen=True)
class Mart:
    """A published mart: its grain, its columns in file order, and the order rows are written in."""

    name: str
    grain: str
    label_vi: str
    label_en: str
    columns: tuple[Column, ...]
    sort_key: tuple[str, ...]
    partition_by: tuple[str, ...] = ("year",)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"mart {self.name} has no column {name!r}")


def _count(name: str, vi: str, en: str, description: str = "") -> Column:
    return Column(name, pl.Int64, vi, en, unit="households", minimum=0, description=description)


def _rate(name: str, vi: str, en: str, description: str = "") -> Column:
    return Column(name, pl.Float64, vi, en, unit="%", minimum=0, maximum=100, description=description)


# keys ------------------------------------------------------------------------------------------------
YEAR = Column("year", pl.Int64, "Năm rà soát", "Review year", nullable=False)
LEVEL = Column("level", pl.String, "Cấp", "Level", nullable=False, allowed=MART_LEVELS)
UNIT_CODE = Column("unit_code", pl.String, "Mã đơn vị", "Unit code", nullable=False,
                   description="Official code (commune 5, district 3, province 2 digits); the region's text key; "
                               "VN for the nation.")
ETHNIC_GROUP = Column("ethnic_group", pl.String, "Nhóm dân tộc", "Ethnic group", nullable=False,
                      description="A 2008 code (01–54) of the household head, EM for all minorities, ALL.")
AREA = Column("area", pl.String, "Khu vực", "Area", nullable=False, allowed=("rural", "urban", "all"))
UNIT_KEYS = (YEAR, LEVEL, UNIT_CODE)
CELL_KEYS = (*UNIT_KEYS, ETHNIC_GROUP, AREA)

# where the unit sits --------------------------------------------------------------------------------
PLACE = (
    Column("parent_code", pl.String, "Mã đơn vị cấp trên", "Parent unit code",
           description="The unit this one rolls up into (null for the nation)."),
    Column("province_code", pl.String, "Mã tỉnh", "Province code", code_width=2,
           description="Null for regions and the nation."),
    Column("region_key", pl.String, "Vùng", "Region key", description="Null for the nation."),
    Column("geography_version", pl.String, "Phiên bản danh mục hành chính", "Administrative list version",
           nullable=False, description="GSO-2025-01-04 (three tiers) or QD19-2025 (two tiers), as valid on "
                                       "31 December of the review year."),
)

# provenance and completeness ----------------------------------------------------------------------
SOURCE_LEVEL = Column(
    "source_level", pl.String, "Cấp của nguồn số liệu", "Level of the data source",
    allowed=("commune", "district", "province"),
    description="The coarsest submitting level whose figures went into the row: commune when every figure "
                "comes from commune data; district or province when a gap was filled from that level's "
                "summary. Null when nothing was reported.")
COVERAGE = (
    Column("child_units_expected", pl.Int64, "Số đơn vị cấp dưới theo danh mục", "Child units expected",
           description="Units directly below this one in the administrative list valid at the review date; "
                       "null for the lowest units (communes, and island districts without communes)."),
    Column("child_units_reported", pl.Int64, "Số đơn vị cấp dưới có số liệu", "Child units reported",
           description="Child units whose households_total is known for this ethnic group and area."),
    Column("lowest_units_expected", pl.Int64, "Số xã (đơn vị cơ sở) theo danh mục", "Lowest units expected",
           description="Communes (plus island districts without communes) in or under this unit."),
    Column("lowest_units_reported", pl.Int64, "Số xã (đơn vị cơ sở) tự nộp số liệu",
           "Lowest units that sent their own data",
           description="Of those, the ones that sent accepted data of their own (household list or summary)."),
    Column("lowest_units_without_resident_total", pl.Int64, "Số xã có danh sách rà soát nhưng chưa có tổng số hộ",
           "Lowest units with a reviewed-only list and no resident total",
           description="Where households_total is unknown: the communes under this row whose household list holds "
                       "the reviewed households only and for which no summary gives the resident total for this "
                       "cell. 0 where households_total is known.", minimum=0),
    _count("households_from_household_data", "Số hộ lấy từ danh sách hộ", "Households from household lists",
           "Households counted from household-level data (the rest came from summaries)."),
    _count("households_from_summaries", "Số hộ lấy từ biểu tổng hợp", "Households from summaries"),
    _count("households_derived", "Số hộ suy ra từ các dòng khác của biểu tổng hợp",
           "Households derived from a summary's other rows",
           "Households of this row whose figures a summary did not state for this ethnic group but determined: "
           "Kinh = ALL − EM (or EM = ALL − Kinh) of the same unit and area, and every group zero where ALL is "
           "zero (an uninhabited unit). 0 when nothing was derived."),
    Column("household_data_share", pl.Float64, "Tỷ lệ hộ lấy từ danh sách hộ", "Share of households from "
           "household lists", unit="%", minimum=0, maximum=100),
    SOURCE_LEVEL,
)

RESIDENT_TOTAL = _count(
    "households_total", "Tổng số hộ dân cư", "Resident households, total",
    "Every resident household of the unit, the denominator of every rate: a household list's own count when its "
    "submission declares that it lists every resident household, else the resident total of the most detailed "
    "summary row about the unit (its own area_summary first). Null when none is known "
    "(households_total_missing_reason says why).")
MISSING_REASON = Column(
    "households_total_missing_reason", pl.String, "Lý do chưa có tổng số hộ dân cư",
    "Why the resident total is unknown", allowed=("reviewed_list_without_resident_total", "not_reported"),
    description="Null when households_total is known. reviewed_list_without_resident_total: a household list "
                "under this row holds the reviewed households only and no summary gives the resident total "
                "(lowest_units_without_resident_total counts them); not_reported: some unit under it reported "
                "nothing for this cell.")
HEADLINE_COUNTS = (
    RESIDENT_TOTAL,
    _count("households_reviewed", "Số hộ trong danh sách rà soát", "Households on the review lists",
           "Households listed in the household lists (the households reviewed: those on the lists and the "
           "applicants, or every resident household where a list is declared complete). Null where any part "
           "came from a summary, which does not report it."),
    MISSING_REASON,
    _count("households_poor", "Số hộ nghèo", "Poor households"),
    _count("households_near_poor", "Số hộ cận nghèo", "Near-poor households"),
    _count("households_poor_or_near_poor", "Số hộ nghèo và cận nghèo", "Poor and near-poor households"),
    _count("households_average", "Số hộ có mức sống trung bình", "Households with an average living standard",
           "Null when the standard gives no upper bound, or when any part came from summaries or from a household "
           "list of the reviewed households only."),
)
RATES = (
    _rate("poor_rate", "Tỷ lệ hộ nghèo", "Poor household rate"),
    _rate("near_poor_rate", "Tỷ lệ hộ cận nghèo", "Near-poor household rate"),
    _rate("poor_or_near_poor_rate", "Tỷ lệ hộ nghèo và cận nghèo", "Poor and near-poor household rate"),
)
CHANGES = (
    Column("poor_rate_change_pp", pl.Float64, "Thay đổi tỷ lệ hộ nghèo so với năm trước",
           "Change in poor rate since the previous year", unit="percentage points",
           description="This year's rate minus the previous year's for the same level, unit, ethnic group and "
                       "area. Across the 2025 reform the previous year is restated on the new units through the "
                       "official conversion table (a merged province against the sum of the provinces merged "
                       "into it); null when either is unknown, or for a commune made from part of a split one."),
    Column("near_poor_rate_change_pp", pl.Float64, "Thay đổi tỷ lệ hộ cận nghèo so với năm trước",
           "Change in near-poor rate since the previous year", unit="percentage points"),
    Column("poor_or_near_poor_rate_change_pp", pl.Float64, "Thay đổi tỷ lệ hộ nghèo và cận nghèo so với năm trước",
           "Change in poor and near-poor rate since the previous year", unit="percentage points"),
)
MULTIDIMENSIONAL = (
    # Not the legal "hộ nghèo" (income ≤ line AND ≥ 3 deprivations): the labels must not borrow its name.
    _count("households_mpi_poor", "Số hộ thiếu hụt từ k chỉ số trở lên (không xét thu nhập)",
           "Households deprived on k or more indicators, whatever their income (Alkire–Foster)",
           "Households deprived on at least k = poor_min_deprivations indicators, whatever their income. Not the "
           "poor households of the standard, which also need an income at or below the line."),
    Column("mpi_deprivations_sum", pl.Int64, "Tổng số chỉ số thiếu hụt của các hộ thiếu hụt từ k chỉ số",
           "Sum of deprivation counts over households deprived on k or more indicators", unit="indicators",
           minimum=0),
    _rate("mpi_headcount_ratio", "Tỷ lệ hộ thiếu hụt từ k chỉ số trở lên, không xét thu nhập (H)",
          "Share of households deprived on k or more indicators, whatever their income (H)",
          "H = households_mpi_poor / households_total × 100 (Alkire–Foster headcount ratio). Not the "
          "poor-household rate (tỷ lệ hộ nghèo), which is poor_rate."),
    _rate("mpi_intensity", "Mức độ thiếu hụt bình quân (A)", "Intensity of deprivation (A)",
          "A = mpi_deprivations_sum / (12 × households_mpi_poor) × 100."),
    Column("mpi_adjusted_headcount", pl.Float64, "Chỉ số nghèo đa chiều điều chỉnh (M0)", "Adjusted headcount "
           "ratio (M0)", unit="index 0–1", minimum=0, maximum=1,
           description="M0 = H × A = mpi_deprivations_sum / (12 × households_total)."),
)

POVERTY_NOTES: tuple[str, ...] = (
    ("Rates are percentages computed from this row's summed counts, never averaged or rounded; null when the "
     "denominator is unknown or 0."),
    ("A count not reported is null, and a unit's count is null as soon as one expected child's is, unless a "
     "summary of the unit itself fills the gap (source_level then names that summary's level)."),
    ("Households are classified by the standard their submission names: poor = income ≤ line AND "
     "deprivations ≥ poor_min_deprivations (3); near-poor = income ≤ line AND fewer; the line depends on "
     "rural/urban; ≤ is inclusive."),
    ("Multidimensional poverty (Alkire–Foster), households as the unit, equal weights over the 12 indicators, "
     "k = poor_min_deprivations: MPI-poor = deprivation_count ≥ k whatever the income; H = MPI-poor / "
     "households; A = mean deprivation share of MPI-poor households; M0 = H × A. Household data only."),
    ("Rates are over resident households (tổng số hộ dân cư), not over the households reviewed. A household "
     "list holds the reviewed households (Decision 24/2021) unless its submission declares that it lists every "
     "resident household: from a reviewed-only list the poor and near-poor counts are known, the resident "
     "total comes from a summary, and the counts over all households (average-living, deprivations of all "
     "households, MPI) are null."),
)

# whether the figures are official ----------------------------------------------------------------
APPROVAL = (
    Column("figures_status", pl.String, "Tình trạng số liệu", "Status of the figures", nullable=False,
           allowed=FIGURES_STATUSES,
           description="official when the unit and every unit beneath it is approved (locked, chốt số liệu) by the "
                       "level above, as schemas/approval_chains.json says who approves whom; otherwise "
                       "preliminary. A region or the nation is official when every province in it is."),
    Column("child_units_approved", pl.Int64, "Số đơn vị cấp dưới đã phê duyệt", "Child units approved",
           minimum=0,
           description="Units directly below this one whose figures are official; null for the lowest units "
                       "(compare child_units_expected)."),
)

POVERTY_COLUMNS = (*CELL_KEYS, *PLACE, *HEADLINE_COUNTS, *RATES, *CHANGES, *MULTIDIMENSIONAL, *COVERAGE,
                   *APPROVAL)
CELL_SORT = ("year", "level", "unit_code", "ethnic_group", "area")

POVERTY_BY_AREA = Mart(
    name="poverty_by_area",
    grain="one row per year × level × unit × area (rural, urban, all), all ethnic groups together",
    label_vi="Hộ nghèo, cận nghèo theo địa bàn", label_en="Poverty by area",
    columns=POVERTY_COLUMNS, sort_key=CELL_SORT,
    notes=("ethnic_group is always ALL here; poverty_by_ethnicity holds the same rows and the other groups.",
           *POVERTY_NOTES),
)

POVERTY_BY_ETHNICITY = Mart(
    name="poverty_by_ethnicity",
    grain="one row per year × level × unit × ethnic group (ALL, EM, 01, and every other code with data "
          "under the unit) × area (rural, urban, all)",
    label_vi="Hộ nghèo, cận nghèo theo dân tộc", label_en="Poverty by ethnic group",
    columns=POVERTY_COLUMNS, sort_key=CELL_SORT,
    notes=("EM is every code but 01 (Kinh); a household's group is its head's.", *POVERTY_NOTES),
)

DEPRIVATION_BY_AREA = Mart(
    name="deprivation_by_area",
    grain="one row per year × level × unit × ethnic group × area × deprivation indicator (d01–d12), where "
          "at least one of the deprived counts is known",
    label_vi="Hộ thiếu hụt theo chỉ số", label_en="Households deprived, by indicator",
    columns=(
        *CELL_KEYS,
        Column("indicator", pl.String, "Chỉ số thiếu hụt", "Deprivation indicator", nullable=False,
               allowed=INDICATOR_IDS,
               description="d01–d12 of the year's standard (`standard`); what an id means depends on it: under "
                           "nd07_2021 d12 is the means of accessing information, under nd351_2025 household "
                           "waste treatment. indicator_label_vi / indicator_label_en name it."),
        Column("standard", pl.String, "Chuẩn nghèo của các chỉ số", "Standard of the indicators",
               description="The poverty standard of the review year (schemas/standards), whose 12 indicators "
                           "these are, e.g. nd07_2021 (2022–2026) or nd351_2025 (from 2027)."),
        Column("indicator_label_vi", pl.String, "Tên chỉ số", "Indicator name (Vietnamese)",
               description="The indicator's name in the standard file."),
        Column("indicator_label_en", pl.String, "Tên chỉ số (tiếng Anh)", "Indicator name (English)",
               description="The indicator's English name in the standard file."),
        *PLACE,
        RESIDENT_TOTAL,
        _count("households_poor", "Số hộ nghèo", "Poor households"),
        _count("households_near_poor", "Số hộ cận nghèo", "Near-poor households"),
        _count("households_deprived", "Số hộ thiếu hụt chỉ số", "Households deprived on the indicator",
               "Among all households; household data only (summaries do not report it)."),
        _count("households_poor_deprived", "Số hộ nghèo thiếu hụt chỉ số", "Poor households deprived"),
        _count("households_near_poor_deprived", "Số hộ cận nghèo thiếu hụt chỉ số", "Near-poor households deprived"),
        _rate("deprived_share_of_all", "Tỷ lệ hộ thiếu hụt (trên tổng số hộ)", "Deprived, share of all households"),
        _rate("deprived_share_of_poor", "Tỷ lệ hộ nghèo thiếu hụt (trên số hộ nghèo)",
              "Deprived, share of poor households"),
        _rate("deprived_share_of_near_poor", "Tỷ lệ hộ cận nghèo thiếu hụt (trên số hộ cận nghèo)",
              "Deprived, share of near-poor households"),
        SOURCE_LEVEL,
    ),
    sort_key=(*CELL_SORT, "indicator"),
)

RECONCILIATION = Mart(
    name="reconciliation",
    grain="one row per year × level × unit × ethnic group × area × measure × summary submission where a "
          "summary differs from the roll-up of the detailed data beyond both tolerances",
    label_vi="Đối chiếu số liệu giữa các cấp", label_en="Reconciliation across levels",
    columns=(
        *CELL_KEYS,
        Column("measure", pl.String, "Chỉ tiêu", "Measure", nullable=False,
               description="A count column of the area_summary contract (households_total, households_poor, …)."),
        Column("summary_value", pl.Int64, "Số liệu biểu tổng hợp", "Value in the summary", unit="households"),
        Column("detail_value", pl.Int64, "Số liệu tổng hợp từ cấp dưới", "Value rolled up from detailed data",
               unit="households"),
        Column("difference", pl.Int64, "Chênh lệch (tổng hợp − chi tiết)", "Difference (summary − detail)",
               unit="households"),
        Column("relative_difference", pl.Float64, "Chênh lệch tương đối", "Relative difference", unit="%",
               description="difference / detail_value × 100; null when the detail value is 0."),
        Column("summary_submission_id", pl.String, "Mã bản nộp tổng hợp", "Summary submission", nullable=False),
        Column("summary_level", pl.String, "Cấp nộp biểu tổng hợp", "Level that sent the summary", nullable=False),
        Column("summary_unit_code", pl.String, "Đơn vị nộp biểu tổng hợp", "Unit that sent the summary",
               nullable=False),
        Column("detail_submission_ids", pl.String, "Các bản nộp chi tiết", "Detailed submissions",
               description="Submission ids of the detailed data rolled up, sorted, comma-separated."),
        Column("absolute_tolerance", pl.Int64, "Ngưỡng chênh lệch tuyệt đối", "Absolute tolerance",
               unit="households"),
        Column("relative_tolerance", pl.Float64, "Ngưỡng chênh lệch tương đối", "Relative tolerance",
               unit="share 0–1"),
    ),
    sort_key=(*CELL_SORT, "measure", "summary_submission_id"),
)

SUBMISSION_COVERAGE = Mart(
    name="submission_coverage",
    grain="one row per year × unit expected to report (every commune, district before the 2025 reform, and "
          "province of the list valid at the review date; plus any submitting unit not on that list)",
    label_vi="Tình hình nộp báo cáo", label_en="Submission coverage",
    columns=(
        *UNIT_KEYS,
        *PLACE,
        Column("submitted", pl.Boolean, "Đã nộp", "Submitted", nullable=False,
               description="The unit has at least one accepted, current submission for the year."),
        Column("submission_kinds", pl.String, "Loại dữ liệu đã nộp", "Kinds submitted",
               description="household, area_summary, area_attributes; comma-separated."),
        Column("submission_ids", pl.String, "Mã các bản nộp đang dùng", "Accepted submission versions used"),
        Column("received_at", pl.Datetime("us", "UTC"), "Thời điểm nhận bản nộp mới nhất",
               "When the latest accepted version was received"),
        Column("received_date_local", pl.Date, "Ngày nhận (giờ Việt Nam)", "Date received (Vietnam time)"),
        Column("on_time_preliminary", pl.Boolean, "Đúng hạn báo cáo sơ bộ (trước 15/11)",
               "On time for the preliminary report (before 15 November)",
               description="Decision 24/2021 Art. 7; the latest accepted version counts. Null when not submitted."),
        Column("on_time_official", pl.Boolean, "Đúng hạn báo cáo chính thức (trước 20/12)",
               "On time for the official report (before 20 December)"),
        Column("findings_count", pl.Int64, "Số lỗi phát hiện", "Findings (errors)", minimum=0),
        Column("warnings_count", pl.Int64, "Số cảnh báo", "Warnings", minimum=0),
        Column("households_listed", pl.Int64, "Số hộ trong danh sách hộ", "Households in household lists",
               unit="households"),
        Column("classification_disagreements", pl.Int64, "Số hộ phân loại khác với xã",
               "Households the commune classified differently", unit="households",
               description="Null when the commune sent no household list with its own classification."),
        Column("figures_source_level", pl.String, "Cấp của nguồn số liệu", "Where the unit's figures came from",
               description="source_level of the unit's ALL × all row in poverty_by_area."),
    ),
    sort_key=("year", "level", "unit_code"),
)

CLASSIFICATION_DISAGREEMENTS = Mart(
    name="classification_disagreements",
    grain="one row per year × household whose commune-reported classification differs from lnob's",
    label_vi="Hộ có phân loại khác nhau", label_en="Classification disagreements",
    columns=(
        *UNIT_KEYS, ETHNIC_GROUP, AREA,
        Column("household_id", pl.String, "Mã hộ", "Household ID", nullable=False),
        Column("submission_id", pl.String, "Mã bản nộp", "Submission", nullable=False),
        Column("standard", pl.String, "Chuẩn nghèo", "Poverty standard", nullable=False),
        Column("reported_classification", pl.String, "Phân loại của xã", "Commune's classification",
               allowed=CLASSIFICATIONS),
        Column("classification", pl.String, "Phân loại theo chuẩn", "Classification by the standard",
               allowed=CLASSIFICATIONS),
        Column("income_per_capita_month", pl.Float64, "Thu nhập bình quân đầu người/tháng",
               "Income per person per month", unit="VND"),
        Column("income_line", pl.Float64, "Chuẩn thu nhập", "Income line", unit="VND"),
        Column("deprivation_count", pl.Int64, "Số chỉ số thiếu hụt", "Deprivations", unit="indicators"),
        Column("disagreements_in_commune", pl.Int64, "Số hộ khác nhau trong xã", "Disagreements in the commune",
               unit="households"),
        Column("households_compared_in_commune", pl.Int64, "Số hộ được đối chiếu trong xã",
               "Households compared in the commune", unit="households",
               description="Households of the commune's list that carry the commune's own classification."),
    ),
    sort_key=("year", "unit_code", "household_id", "submission_id"),
    notes=(("A household the standard calls not_poor (no upper bound known) agrees with a commune's "
            "average or other."),),
)

POVERTY_LOCAL_STANDARD = Mart(
    name="poverty_local_standard",
    grain="one row per year × local standard × level × unit × ethnic group × area, for the units of a province "
          "that has its own (higher) poverty standard",
    label_vi="Hộ nghèo, cận nghèo theo chuẩn nghèo của địa phương", label_en="Poverty under a local standard",
    columns=(
        Column("year", pl.Int64, "Năm rà soát", "Review year", nullable=False),
        Column("standard_id", pl.String, "Mã chuẩn nghèo địa phương", "Local standard", nullable=False,
               description="The local standard file (schemas/standards/local/ or LNOB_LOCAL_STANDARDS_DIR)."),
        Column("standard_scope", pl.String, "Phạm vi chuẩn", "Scope of the standard", nullable=False,
               allowed=("local",),
               description="Always local: these figures sit beside the national ones, never in their place."),
        Column("based_on", pl.String, "Chuẩn quốc gia được nâng", "National standard it raises", nullable=False),
        LEVEL, UNIT_CODE, ETHNIC_GROUP, AREA, *PLACE,
        *HEADLINE_COUNTS, *RATES,
        _rate("poor_rate_national_standard", "Tỷ lệ hộ nghèo theo chuẩn quốc gia",
              "Poor household rate under the national standard",
              "The same unit, group and area in poverty_by_ethnicity, for comparison."),
        Column("child_units_expected", pl.Int64, "Số đơn vị cấp dưới theo danh mục", "Child units expected"),
        Column("child_units_reported", pl.Int64, "Số đơn vị cấp dưới có số liệu", "Child units reported"),
        SOURCE_LEVEL,
    ),
    sort_key=("year", "standard_id", "level", "unit_code", "ethnic_group", "area"),
    notes=(("Only household lists can be classified under a local standard: a commune that sent only a summary "
            "has unknown counts here (its resident total may still come from that summary)."),
           "Levels commune, district and province only: a local standard covers one province."),
)

# Which legal deadline the province's approval is held to: the provincial chairman reports the official
# results to the ministry before 20 December (Decision 24/2021 Art. 7,
# docs/legal-basis.md#review-scope-and-calendar). The preliminary report (before 15 November) comes from the provincial department and approves
# nothing: submission_coverage.on_time_preliminary covers it. That the central team's approval of a province
# marks the day the official report arrived is lnob's reading (schemas/approval_chains.json).
APPROVAL_DEADLINE: tuple[int, int] = DEADLINE_OFFICIAL
ON_TIME, LATE, NOT_YET = "on_time", "late", "not_yet"
APPROVAL_TIMINGS: tuple[str, ...] = (ON_TIME, LATE, NOT_YET)


def _approval_counts(level: str, vi: str) -> tuple[Column, ...]:
    plural = f"{level}s"
    return (
        Column(f"{plural}_expected", pl.Int64, f"Số {vi} theo danh mục", f"{plural.capitalize()} expected",
               nullable=False, minimum=0,
               description=f"{plural.capitalize()} of the province in the administrative list valid at the review "
                           "date (0 where the list has none, as after the 2025 reform for districts)."),
        Column(f"{plural}_submitted", pl.Int64, f"Số {vi} đã nộp", f"{plural.capitalize()} that submitted",
               nullable=False, minimum=0, description="With at least one submission of the year, whatever its verdict."),
        Column(f"{plural}_accepted", pl.Int64, f"Số {vi} có số liệu được chấp nhận",
               f"{plural.capitalize()} with accepted data", nullable=False, minimum=0,
               description="With a current accepted submission of the year."),
        Column(f"{plural}_approved", pl.Int64, f"Số {vi} đã phê duyệt (chốt số liệu)",
               f"{plural.capitalize()} approved (locked)", nullable=False, minimum=0),
        Column(f"{plural}_returned", pl.Int64, f"Số {vi} bị trả lại để sửa", f"{plural.capitalize()} returned",
               nullable=False, minimum=0),
        Column(f"{plural}_awaiting_approval", pl.Int64, f"Số {vi} chờ phê duyệt",
               f"{plural.capitalize()} awaiting approval", nullable=False, minimum=0,
               description="With accepted data, neither approved nor returned (never acted on, or reopened)."),
    )


APPROVAL_COVERAGE = Mart(
    name="approval_coverage",
    grain="one row per year × province of the administrative list valid at the review date",
    label_vi="Tình hình phê duyệt số liệu theo tỉnh", label_en="Approval coverage by province",
    columns=(
        YEAR,
        Column("province_code", pl.String, "Mã tỉnh", "Province code", nullable=False, code_width=2),
        Column("region_key", pl.String, "Vùng", "Region key"),
        PLACE[3],
        *_approval_counts("commune", "xã"),
        *_approval_counts("district", "huyện"),
        Column("province_submitted", pl.Boolean, "Tỉnh đã nộp", "Province submitted", nullable=False,
               description="The province itself sent a submission of the year (a summary), whatever its verdict."),
        Column("province_accepted", pl.Boolean, "Tỉnh có số liệu được chấp nhận", "Province has accepted data",
               nullable=False),
        Column("province_approval_state", pl.String, "Tình trạng phê duyệt của tỉnh", "Province's approval state",
               allowed=APPROVAL_STATES,
               description="approved (locked), returned or reopened; null when never acted on. The central team "
                           "approves the provinces (schemas/approval_chains.json)."),
        Column("province_approval_by", pl.String, "Người thực hiện", "Who acted on the province's approval"),
        Column("province_approval_at", pl.Datetime("us", "UTC"), "Thời điểm", "When the approval state was set"),
        Column("province_approved_date_local", pl.Date, "Ngày phê duyệt (giờ Việt Nam)",
               "Date approved (Vietnam time)", description="Null unless the province is approved now."),
        Column("approval_deadline", pl.Date, "Hạn báo cáo chính thức (tỉnh → bộ)",
               "Deadline of the official report (province → ministry)",
               description="20 December of the review year: the provincial chairman reports the official results "
                           "to the ministry before it (Decision 24/2021 Art. 7)."),
        Column("deadline_confirmed", pl.Boolean, "Hạn đã được xác nhận", "Deadline confirmed",
               description="False (UNCONFIRMED) for review dates after the 2025 reform: the procedure without "
                           "districts was not found, and Decision 24/2021's calendar is carried over."),
        Column("approval_timing", pl.String, "Phê duyệt đúng hạn", "Approval on time", allowed=APPROVAL_TIMINGS,
               description="on_time when the province was approved before the deadline (Vietnam-time date, "
                           "strictly before), late when on or after it, not_yet when it is not approved now."),
    ),
    sort_key=("year", "province_code"),
    notes=(("Reading the central team's approval of a province as the day its official report arrived is lnob's "
           "reading of Decision 24/2021 Art. 7, UNCONFIRMED."),),
)

MARTS: dict[str, Mart] = {m.name: m for m in (
    POVERTY_BY_AREA, POVERTY_BY_ETHNICITY, DEPRIVATION_BY_AREA, RECONCILIATION, SUBMISSION_COVERAGE,
    CLASSIFICATION_DISAGREEMENTS, POVERTY_LOCAL_STANDARD, APPROVAL_COVERAGE,
)}


# exit and target marts -------------------------------------------------------------------------------
# Built from the status rules and targets of schemas/rules.py; their words come from schemas/vocabulary.py.

_KEY_COLUMNS = (
    Column("year", pl.Int64, "Năm rà soát", "Review year"),
    Column("status_kind", pl.String, "Loại danh sách", "Status kind", allowed=LIST_KINDS),
    Column("level", pl.String, "Cấp", "Level", description="commune, district or village"),
    Column("unit_code", pl.String, "Mã đơn vị", "Unit code", code_width=(3, 5)),
    Column("village", pl.String, "Thôn", "Village", description="Set for ed_village rows; empty otherwise"),
)
_UNIT_COLUMNS = (
    Column("unit_name", pl.String, "Tên đơn vị", "Unit name"),
    Column("province_code", pl.String, "Mã tỉnh", "Province code", code_width=2),
    Column("region_key", pl.String, "Vùng", "Region"),
)

EXIT_CANDIDATES = Mart(
    sort_key=("year", "status_kind", "unit_code", "village"),
    name="exit_candidates",
    grain="one row per year × status kind × unit on the list at the review date",
    label_vi="Đơn vị đề xuất thoát khỏi danh sách", label_en="Exit candidates",
    columns=(
        *_KEY_COLUMNS, *_UNIT_COLUMNS,
        Column("verdict", pl.String, "Kết luận", "Verdict",
               allowed=EXIT_VERDICTS,
               description="no_confirmed_rule: the list's criteria are shown in exit_criteria, but no confirmed "
                           "legal rule turns them into a verdict (the poor-district scoring of Decision 36/2021 "
                           "Art. 3 was never found)"),
        Column("depends_on_unconfirmed", pl.Boolean, "Phụ thuộc ngưỡng chưa xác nhận",
               "Verdict depends on an unconfirmed threshold or a provisional rule"),
        Column("provisional_rule", pl.Boolean, "Quy tắc tạm thời", "Provisional rule"),
        Column("criteria_not_met", pl.String, "Tiêu chí không đạt", "Criteria not met",
               description="Comma-separated criterion ids (details in exit_criteria)"),
        Column("criteria_insufficient", pl.String, "Tiêu chí thiếu dữ liệu", "Criteria without data"),
        Column("classified_as", pl.String, "Phân loại theo số liệu", "Classification from the figures",
               description="For region_iii_commune: region_iii, region_i, region_ii, out_of_scope or "
                           "insufficient_data (Decision 33/2020 Arts. 3–5); empty for other kinds"),
        Column("list_decisions", pl.String, "Quyết định của danh sách", "Decisions behind the membership"),
        Column("source_submissions", pl.String, "Bản nộp nguồn", "Source submissions",
               description="Comma-separated submission ids the values came from"),
        Column("rule_file", pl.String, "Tệp quy tắc", "Rule file"),
    ),
)

ENTRY_CANDIDATES = Mart(
    sort_key=("year", "status_kind", "unit_code", "village"),
    name="entry_candidates",
    grain="one row per year × status kind × unit not on the list that meets the entry criteria",
    label_vi="Đơn vị đáp ứng tiêu chí vào danh sách", label_en="Entry candidates",
    columns=(
        *_KEY_COLUMNS, *_UNIT_COLUMNS,
        Column("verdict", pl.String, "Kết luận", "Verdict", allowed=(ENTRY_CANDIDATE,)),
        Column("depends_on_unconfirmed", pl.Boolean, "Phụ thuộc ngưỡng chưa xác nhận",
               "Verdict depends on an unconfirmed threshold or a provisional rule"),
        Column("provisional_rule", pl.Boolean, "Quy tắc tạm thời", "Provisional rule"),
        Column("source_submissions", pl.String, "Bản nộp nguồn", "Source submissions"),
        Column("rule_file", pl.String, "Tệp quy tắc", "Rule file"),
    ),
)

EXIT_CRITERIA = Mart(
    sort_key=("year", "status_kind", "unit_code", "village", "criterion_order"),
    name="exit_criteria",
    grain="one row per year × status kind × evaluated unit × criterion (units on a list, and entry candidates)",
    label_vi="Đánh giá từng tiêu chí", label_en="Criterion-by-criterion evaluation",
    notes=("Join to exit_candidates or entry_candidates on year, status_kind, unit_code, village.",
           "Criteria that do not apply to the unit (a Mekong Delta variant elsewhere) have no row."),
    columns=(
        *_KEY_COLUMNS,
        Column("on_list", pl.Boolean, "Có trong danh sách", "On the list at the review date"),
        Column("criterion_id", pl.String, "Mã tiêu chí", "Criterion"),
        Column("criterion_order", pl.Int64, "Thứ tự tiêu chí trong quy tắc", "Order of the criterion in its rule"),
        Column("role", pl.String, "Vai trò", "Role", allowed=("rule", "indicator")),
        Column("label_vi", pl.String, "Tiêu chí (tiếng Việt)", "Criterion (Vietnamese)"),
        Column("label_en", pl.String, "Tiêu chí (tiếng Anh)", "Criterion (English)"),
        Column("measure", pl.String, "Chỉ tiêu đo", "Measure"),
        Column("value", pl.Float64, "Giá trị", "Value",
               description="Unrounded; rates are 100 × count / count; flags are 1 (true) or 0 (false)"),
        Column("value_text", pl.String, "Giá trị (chữ)", "Value as text"),
        Column("comparison", pl.String, "Phép so sánh", "Comparison", allowed=tuple(COMPARISONS)),
        Column("threshold", pl.Float64, "Ngưỡng", "Threshold", description="flags: 1 (true) or 0 (false)"),
        Column("unit", pl.String, "Đơn vị tính", "Unit"),
        Column("variant", pl.String, "Biến thể", "Variant", description="e.g. mekong_delta when a regional "
               "threshold replaced the general one"),
        Column("outcome", pl.String, "Kết quả", "Outcome", allowed=(MET, NOT_MET, INSUFFICIENT, REPORTED)),
        Column("numerator", pl.Int64, "Tử số", "Numerator (count)"),
        Column("denominator", pl.Int64, "Mẫu số", "Denominator (count)"),
        Column("detail", pl.String, "Chi tiết", "Detail"),
        Column("citation", pl.String, "Căn cứ pháp lý", "Legal citation"),
        Column("confirmed", pl.Boolean, "Đã xác nhận", "Confirmed"),
        Column("source_submissions", pl.String, "Bản nộp nguồn", "Source submissions"),
    ),
)

TARGET_PROGRESS = Mart(
    sort_key=("year", "target_id", "level", "unit_code", "basis"),
    name="target_progress",
    grain="one row per year × target × level × unit × basis",
    label_vi="Tiến độ mục tiêu", label_en="Progress towards the targets",
    columns=(
        Column("year", pl.Int64, "Năm rà soát", "Review year"),
        Column("target_id", pl.String, "Mã mục tiêu", "Target"),
        Column("level", pl.String, "Cấp", "Level", allowed=("national", "province")),
        Column("unit_code", pl.String, "Mã đơn vị", "Unit code", description="VN for national"),
        Column("basis", pl.String, "Cơ sở", "Basis",
               allowed=("review_figures", "recognised_by_decision", "projected_with_exit_candidates"),
               description="review_figures for rates and counts; for list exits, recognised_by_decision (removals "
                           "by decision) and projected_with_exit_candidates (those plus this year's exit "
                           "candidates), never mixed"),
        Column("label_vi", pl.String, "Mục tiêu", "Target (Vietnamese)"),
        Column("label_en", pl.String, "Mục tiêu (tiếng Anh)", "Target (English)"),
        Column("baseline_year", pl.Int64, "Năm gốc", "Baseline year"),
        Column("baseline_value", pl.Float64, "Giá trị gốc", "Baseline value"),
        Column("value", pl.Float64, "Giá trị", "Value"),
        Column("change_per_year", pl.Float64, "Mức giảm bình quân mỗi năm (điểm %)",
               "Average decrease per year (percentage points)"),
        Column("numerator", pl.Int64, "Tử số", "Numerator"),
        Column("denominator", pl.Int64, "Mẫu số", "Denominator"),
        Column("units_expected", pl.Int64, "Số đơn vị của danh sách", "Listed units",
               description="For a rate over a status list's units: the units on the list at the start of the "
                           "period"),
        Column("units_with_figures", pl.Int64, "Số đơn vị có số liệu", "Listed units with figures"),
        Column("goal", pl.Float64, "Mục tiêu", "Goal"),
        Column("goal_comparison", pl.String, "So sánh với mục tiêu", "Goal comparison"),
        Column("goal_text", pl.String, "Mục tiêu (chữ)", "Goal as stated"),
        Column("expected_by_year", pl.Float64, "Mức cần đạt đến năm này", "Expected by this year"),
        Column("status", pl.String, "Tình trạng", "Status",
               allowed=("on_track", "off_track", "insufficient_data", "not_judged"),
               description="A national goal is judged on the national row only: other rows show their unit's "
                           "contribution (not_judged), as do indicators and years after the programme period"),
        Column("on_track", pl.Boolean, "Đúng tiến độ", "On track"),
        Column("confirmed", pl.Boolean, "Mục tiêu đã xác nhận", "Target confirmed"),
        Column("provisional", pl.Boolean, "Dựa trên quy tắc tạm thời", "Rests on a provisional rule",
               nullable=False),
        Column("partial_list", pl.Boolean, "Danh sách chưa đầy đủ", "Rests on a partial list", nullable=False),
        Column("source", pl.String, "Nguồn số liệu", "Where the figure came from"),
        Column("note", pl.String, "Ghi chú", "Note"),
    ),
)

EXIT_MARTS: dict[str, Mart] = {m.name: m for m in (EXIT_CANDIDATES, EXIT_CRITERIA, ENTRY_CANDIDATES,
                                                         TARGET_PROGRESS)}


def mart(name: str) -> Mart:
    try:
        return MARTS[name]
    except KeyError:
        raise KeyError(f"unknown mart {name!r}; expected one of {', '.join(MARTS)}") from None


def all_marts() -> dict[str, Mart]:
    """Every published mart: the poverty marts, then the exit and target marts."""
    return {**MARTS, **EXIT_MARTS}
