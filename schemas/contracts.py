"""Submission contracts: the one place where every submitted column is named, typed and labelled.

Everything else (parsers, Great Expectations suites, staging, templates, the data dictionary)
reads these definitions. A column's `name` is its English key; `label_vi` is what Vietnamese
report forms print in the header row; both are accepted by ingest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from schemas.vocabulary import SUBMISSION_KINDS, SUBMISSION_LEVELS

INDICATOR_IDS: tuple[str, ...] = tuple(f"d{i:02d}" for i in range(1, 13))
CLASSIFICATIONS: tuple[str, ...] = ("poor", "near_poor", "average", "other")
HOUSEHOLD_AREAS: tuple[str, ...] = ("rural", "urban")
SUMMARY_AREAS: tuple[str, ...] = ("rural", "urban", "all")
ETHNIC_GROUP_TOTALS: tuple[str, ...] = ("ALL", "EM")
# The submission envelope's names for the shared words (schemas/vocabulary.py).
LEVELS: tuple[str, ...] = SUBMISSION_LEVELS
KINDS: tuple[str, ...] = SUBMISSION_KINDS

# Vietnamese spellings that submitters write for the coded values; ingest maps them to the codes.
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "area": {"nông thôn": "rural", "nong thon": "rural", "thành thị": "urban", "thanh thi": "urban",
             "tất cả": "all", "tat ca": "all", "chung": "all"},
    "reported_classification": {"hộ nghèo": "poor", "nghèo": "poor", "ngheo": "poor", "ho ngheo": "poor",
                                "hộ cận nghèo": "near_poor", "cận nghèo": "near_poor", "can ngheo": "near_poor",
                                "ho can ngheo": "near_poor", "trung bình": "average", "trung binh": "average",
                                "mức sống trung bình": "average", "khác": "other", "khac": "other"},
    "ethnic_group": {"tất cả": "ALL", "tat ca": "ALL", "dtts": "EM", "dân tộc thiểu số": "EM"},
}


@dataclass(frozen=True)
class Column:
    """One column of a contract."""

    name: str
    dtype: pl.DataType
    label_vi: str
    label_en: str
    required: bool = False          # the column must be present in the file
    nullable: bool = True           # an empty cell is allowed (and means "not reported")
    unit: str | None = None
    code_width: int | tuple[int, ...] | None = None   # zero-padded official code width(s)
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Contract:
    """A submission kind: its grain and its columns, in the order templates print them."""

    name: str
    grain: str
    label_vi: str
    label_en: str
    columns: tuple[Column, ...]
    unique_key: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_names(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})


# Names of the 12 deprivation indicators of Decree 07/2021 (docs/legal-basis.md#the-12-indicators). The
# indicator a column stands for is fixed by the standard a submission names; these labels are the 2022–2026 set.
INDICATOR_LABELS: dict[str, tuple[str, str]] = {
    "d01": ("Việc làm", "Employment"),
    "d02": ("Người phụ thuộc trong hộ gia đình", "Dependants in the household"),
    "d03": ("Dinh dưỡng", "Nutrition"),
    "d04": ("Bảo hiểm y tế", "Health insurance"),
    "d05": ("Trình độ giáo dục của người lớn", "Adult education level"),
    "d06": ("Tình trạng đi học của trẻ em", "Children's school attendance"),
    "d07": ("Chất lượng nhà ở", "Housing quality"),
    "d08": ("Diện tích nhà ở bình quân đầu người", "Housing area per person"),
    "d09": ("Nguồn nước sinh hoạt", "Domestic water source"),
    "d10": ("Nhà tiêu hợp vệ sinh", "Hygienic latrine"),
    "d11": ("Sử dụng dịch vụ viễn thông", "Use of telecom services"),
    "d12": ("Phương tiện phục vụ tiếp cận thông tin", "Means of accessing information"),
}


def _indicator_flags() -> tuple[Column, ...]:
    return tuple(
        Column(ind, pl.Boolean, f"Thiếu hụt {INDICATOR_LABELS[ind][0].lower()} ({ind})",
               f"Deprived: {INDICATOR_LABELS[ind][1].lower()} ({ind})", required=True, nullable=False,
               description="True when the household is deprived on this indicator of its standard.")
        for ind in INDICATOR_IDS
    )


def _indicator_counts(group: str, group_vi: str, group_en: str) -> tuple[Column, ...]:
    return tuple(
        Column(f"{group}_deprived_{ind}", pl.Int64,
               f"Số hộ {group_vi} thiếu hụt {INDICATOR_LABELS[ind][0].lower()} ({ind})",
               f"{group_en} households deprived: {INDICATOR_LABELS[ind][1].lower()} ({ind})",
               unit="households", minimum=0)
        for ind in INDICATOR_IDS
    )


HOUSEHOLD = Contract(
    name="household",
    grain="one row per household in a commune's review for one year",
    label_vi="Danh sách hộ rà soát", label_en="Household review list",
    unique_key=("commune_code", "household_id"),
    columns=(
        # ids
        Column("household_id", pl.String, "Mã hộ", "Household ID", required=True, nullable=False,
               description="Pseudonymous household identifier, unique within the commune and year."),
        Column("commune_code", pl.String, "Mã xã", "Commune code", required=True, nullable=False, code_width=5),
        Column("village", pl.String, "Thôn, bản, tổ dân phố", "Village"),
        # classifiers
        Column("area", pl.String, "Khu vực", "Area", required=True, nullable=False, allowed=HOUSEHOLD_AREAS,
               description="Where the household lives: rural (nông thôn) or urban (thành thị)."),
        Column("head_ethnicity_code", pl.String, "Mã dân tộc của chủ hộ", "Household head's ethnic group code",
               required=True, nullable=False, code_width=2,
               description="Decision 1019/QĐ-TCTK (2008) code, 01–54; the household's ethnicity is its head's."),
        # numerics
        Column("household_size", pl.Int64, "Số nhân khẩu", "Household size", required=True, nullable=False,
               unit="persons", minimum=1, maximum=50),
        Column("income_per_capita_month", pl.Float64, "Thu nhập bình quân đầu người/tháng",
               "Income per person per month", required=True, nullable=False, unit="VND", minimum=0),
        *_indicator_flags(),
        # optional
        Column("reported_classification", pl.String, "Phân loại của xã", "Commune's own classification",
               allowed=CLASSIFICATIONS,
               description="The commune's classification, compared with lnob's as a data-quality signal."),
        Column("policy_social_protection", pl.Boolean, "Hộ có đối tượng bảo trợ xã hội",
               "Household with a social-protection beneficiary"),
        Column("policy_merit", pl.Boolean, "Hộ có người có công với cách mạng", "Household with a person of merit"),
    ),
)

AREA_SUMMARY = Contract(
    name="area_summary",
    grain="one row per reported unit × ethnic group × area (× village when a commune reports by village)",
    label_vi="Tổng hợp kết quả rà soát", label_en="Review summary",
    unique_key=("unit_code", "village", "ethnic_group", "area"),
    notes=("Every count may be empty: empty means not reported, never zero.",),
    columns=(
        # ids
        Column("unit_code", pl.String, "Mã đơn vị", "Unit code", required=True, nullable=False,
               code_width=(2, 3, 5),
               description="The unit the row counts: a commune of the submitting district, a district of the "
                           "submitting province, or the submitting unit itself."),
        Column("village", pl.String, "Thôn, bản, tổ dân phố", "Village",
               description="Set only when a commune reports its villages; unit_code is then the commune."),
        Column("ethnic_group", pl.String, "Nhóm dân tộc", "Ethnic group", required=True, nullable=False,
               description="A 2-digit 2008 code, ALL for every household, or EM for all minorities together."),
        Column("area", pl.String, "Khu vực", "Area", required=True, nullable=False, allowed=SUMMARY_AREAS),
        # counts
        Column("households_total", pl.Int64, "Tổng số hộ dân cư", "Households, total", unit="households",
               minimum=0),
        Column("households_poor", pl.Int64, "Số hộ nghèo", "Poor households", unit="households", minimum=0),
        Column("households_near_poor", pl.Int64, "Số hộ cận nghèo", "Near-poor households", unit="households",
               minimum=0),
        *_indicator_counts("poor", "nghèo", "Poor"),
        *_indicator_counts("near_poor", "cận nghèo", "Near-poor"),
    ),
)

INFRASTRUCTURE_ITEMS: dict[str, tuple[str, str, bool]] = {
    # item: (Vietnamese, English, confirmed) — Decision 36/2021 Art. 4 clause 2
    # (docs/legal-basis.md#poor-districts-and-coastal-communes)
    "a": ("Xã chưa đạt tiêu chí quốc gia về y tế", "Commune fails the national health criteria", True),
    "b": ("Trường mầm non, tiểu học hoặc THCS chưa đạt chuẩn cơ sở vật chất mức độ 2",
          "Kindergarten, primary or lower-secondary school below national facility standard level 2", True),
    "c": ("Tỷ lệ phòng học mẫu giáo, nhà trẻ kiên cố dưới 75%", "Solid nursery and kindergarten classrooms < 75%",
          True),
    "d": ("Không có nhà văn hóa hoặc hội trường đa năng và khu thể thao xã đạt chuẩn",
          "No commune cultural house or multi-purpose hall plus sports ground to standard", True),
    "dd": ("Tỷ lệ hộ được sử dụng nước sạch dưới 85%", "Households with clean water < 85%", True),
    "e": ("Hạng mục e (chưa xác nhận)", "Item e (unconfirmed)", False),
    "g": ("Hạng mục g (chưa xác nhận)", "Item g (unconfirmed)", False),
    "h": ("Hạng mục h (chưa xác nhận)", "Item h (unconfirmed)", False),
    "i": ("Hạng mục i (chưa xác nhận)", "Item i (unconfirmed)", False),
}

AREA_ATTRIBUTES = Contract(
    name="area_attributes",
    grain="one row per commune (or village, or district) × year: facts that exit criteria need and household "
          "data cannot give",
    label_vi="Thông tin địa bàn", label_en="Area attributes",
    unique_key=("unit_code", "village"),
    notes=("Every attribute may be empty: a criterion whose input is empty is insufficient_data, never a pass.",),
    columns=(
        # ids
        Column("unit_code", pl.String, "Mã đơn vị", "Unit code", required=True, nullable=False, code_width=(3, 5)),
        Column("village", pl.String, "Thôn, bản", "Village",
               description="Set when the row describes a village of the commune in unit_code."),
        # location (Decision 36/2021 Art. 4.1; Decision 36 Art. 3.4)
        Column("is_coastal_or_island", pl.Boolean, "Xã giáp biển, cồn bãi, đầm phá, bán đảo, hải đảo",
               "Commune borders the sea, or is a sandbank, lagoon, peninsula or island commune"),
        Column("saline_intrusion_months", pl.Int64, "Số tháng liên tục bị xâm nhập mặn trong năm",
               "Consecutive months a year affected by saline intrusion", unit="months", minimum=0, maximum=12),
        Column("is_mountainous_highland_or_border", pl.Boolean, "Miền núi, vùng cao, biên giới",
               "Mountainous, highland or border area"),
        Column("new_rural_recognised", pl.Boolean, "Đã được công nhận đạt chuẩn nông thôn mới",
               "Recognised as meeting new-rural standards"),
        # infrastructure items of Decision 36/2021 Art. 4.2: True = the commune lacks / fails the item
        *(Column(f"lacks_infra_{item}", pl.Boolean, f"Thiếu: {vi}", f"Lacking: {en}",
                 description="Decision 36/2021 Art. 4 clause 2 item " + ("đ" if item == "dd" else item)
                 + ("" if confirmed else " (wording UNCONFIRMED)"))
          for item, (vi, en, confirmed) in INFRASTRUCTURE_ITEMS.items()),
        # Decision 33/2020 Art. 3.2 and 6.2 factors
        Column("em_people_15_60_illiterate_pct", pl.Float64,
               "Tỷ lệ người DTTS từ 15 đến 60 tuổi không biết đọc, biết viết tiếng phổ thông",
               "Ethnic-minority people aged 15–60 who cannot read or write the common language", unit="%",
               minimum=0, maximum=100),
        Column("workers_untrained_pct", pl.Float64, "Tỷ lệ lao động chưa qua đào tạo từ 3 tháng trở lên",
               "Employed workers without training of 3 months or more", unit="%", minimum=0, maximum=100),
        Column("road_to_centre_km", pl.Float64, "Chiều dài đường từ trung tâm huyện đến trung tâm xã",
               "Road length from the district centre to the commune centre", unit="km", minimum=0),
        Column("road_to_centre_unsurfaced_pct", pl.Float64, "Tỷ lệ đường chưa được nhựa hóa hoặc bê tông hóa",
               "Share of that road not asphalted or concreted", unit="%", minimum=0, maximum=100),
        Column("no_road_or_hard_to_travel", pl.Boolean, "Chưa có đường hoặc đường đi lại rất khó khăn",
               "No road to the commune centre, or the road is very hard to travel"),
        Column("households_grid_electricity_pct", pl.Float64, "Tỷ lệ hộ sử dụng điện lưới quốc gia",
               "Households using national-grid electricity", unit="%", minimum=0, maximum=100),
        # Decision 36/2021 Art. 3.3 (poor districts)
        Column("income_per_capita_year", pl.Float64, "Thu nhập bình quân đầu người/năm",
               "Average income per person per year", unit="VND", minimum=0),
    ),
)

SUBMISSION = Contract(
    name="submission",
    grain="one row per submitted file (a submission version)",
    label_vi="Thông tin bản nộp", label_en="Submission metadata",
    unique_key=("submission_id",),
    columns=(
        Column("submission_id", pl.String, "Mã bản nộp", "Submission ID", required=True, nullable=False),
        Column("level", pl.String, "Cấp nộp", "Submitting level", required=True, nullable=False, allowed=LEVELS),
        Column("unit_code", pl.String, "Mã đơn vị nộp", "Submitting unit code", required=True, nullable=False,
               code_width=(2, 3, 5)),
        Column("year", pl.Int64, "Năm rà soát", "Review year", required=True, nullable=False),
        Column("kind", pl.String, "Loại dữ liệu", "Kind of data", required=True, nullable=False, allowed=KINDS),
        Column("standard", pl.String, "Chuẩn nghèo áp dụng", "Poverty standard applied", required=True,
               nullable=False),
        Column("submitter", pl.String, "Người nộp", "Submitter"),
        Column("received_at", pl.Datetime("us", "UTC"), "Thời điểm nhận", "Received at", required=True,
               nullable=False),
        Column("content_hash", pl.String, "Mã băm nội dung (SHA-256)", "Content hash (SHA-256)", required=True,
               nullable=False),
        Column("original_name", pl.String, "Tên tệp gốc", "Original file name"),
        Column("byte_size", pl.Int64, "Dung lượng (byte)", "Size in bytes", required=True, nullable=False),
    ),
)

CONTRACTS: dict[str, Contract] = {c.name: c for c in (HOUSEHOLD, AREA_SUMMARY, AREA_ATTRIBUTES)}

# A household list holds the households reviewed (those on the lists and the applicants, Decision 24/2021),
# not every resident household, unless its submission declares otherwise: `lnob submit --complete`, the
# same field of the HTTP API and the upload page, or this cell of the household template's title block
# (its label, then "có" / "không" in the cell to its right). Rates are over resident households, which a
# reviewed-only list's commune states in its own area_summary (households_total; other counts may be empty).
COMPLETE_LIST_FIELD = "lists_every_household"
COMPLETE_LIST_LABEL: tuple[str, str] = ("Danh sách gồm mọi hộ dân cư của xã",
                                        "The list holds every resident household of the commune")
COMPLETE_LIST_ANSWERS: dict[str, bool] = {"có": True, "co": True, "yes": True, "x": True, "true": True, "1": True,
                                          "không": False, "khong": False, "no": False, "false": False, "0": False}


def contract_for(kind: str) -> Contract:
    try:
        return CONTRACTS[kind]
    except KeyError:
        raise KeyError(f"unknown kind {kind!r}; expected one of {', '.join(CONTRACTS)}") from None
