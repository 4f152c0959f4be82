"""What each contender computes, written as a data team would: the DuckDB SQL peer, the pandas peer and the
scan floor. Each is given the staging files, the administrative hierarchy at the review date and the
standard's thresholds, and returns level × unit × ethnic group × area counts (DuckDB) or timings only.

The DuckDB query computes what lnob's household pass computes: the classification (income line by area,
poor when income ≤ line AND deprivations ≥ k), the counts of the poverty marts (total, poor, near-poor,
average, MPI-poor, MPI deprivations) and the per-indicator deprived counts, per commune × ethnic code ×
area; then the ethnic groups EM (every code but 01) and ALL, the area "all", and every level of the
hierarchy. Like lnob, a unit's counts are unknown (NULL) unless every lowest unit under it has data, and
every unit has the required cells (ALL, EM, 01 × rural, urban, all), zero when it has no such household.
"""

from __future__ import annotations

from collections.abc import Sequence

INDICATORS = tuple(f"d{i:02d}" for i in range(1, 13))
KINH = "01"
# The columns lnob's household pass reads (classification, roll-up, provenance, the commune's own
# classification): what the scan floor reads.
SCANNED_COLUMNS = ("submission_id", "submitting_level", "standard", "commune_code", "head_ethnicity_code", "area",
                   "income_per_capita_month", *INDICATORS, "reported_classification")
HEADLINE = ("households_total", "households_poor", "households_near_poor", "households_average",
            "households_mpi_poor", "mpi_deprivations_sum")
MEASURES = (*HEADLINE, *(f"households_deprived_{d}" for d in INDICATORS),
            *(f"poor_deprived_{d}" for d in INDICATORS), *(f"near_poor_deprived_{d}" for d in INDICATORS))
KEYS = ("level", "unit_code", "ethnic_group", "area")


def thresholds(standard_id: str) -> dict:
    """Income lines and average-living upper bounds by area, and k, from the standard's file."""
    from schemas.standards import income_lines, load_standard

    standard = load_standard(standard_id)
    upper = standard.get("average_living_upper") or {}

    def value(entry):
        return None if entry is None else float(entry["value"] if isinstance(entry, dict) else entry)

    return {"line": income_lines(standard_id), "upper": {a: value(upper.get(a)) for a in ("rural", "urban")},
            "k": int(standard["rule"]["poor_min_deprivations"])}


def _sql_number(value: float | None) -> str:
    return "NULL" if value is None else repr(float(value))


def duckdb_sql(files: Sequence[str], limits: dict) -> str:
    """One SQL statement over the Parquet files and a `hierarchy` table (commune_code, district_code,
    province_code, region_key: one row per lowest unit)."""
    file_list = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    line = (f"CASE area WHEN 'urban' THEN {_sql_number(limits['line']['urban'])} "
            f"ELSE {_sql_number(limits['line']['rural'])} END")
    upper = (f"CASE area WHEN 'urban' THEN {_sql_number(limits['upper']['urban'])} "
             f"ELSE {_sql_number(limits['upper']['rural'])} END")
    k = limits["k"]
    deprivation_sum = " + ".join(f"{d}::INTEGER" for d in INDICATORS)
    known = "count(classification) = count(*)"   # a household of unknown class makes its cell's class counts unknown
    cell_measures = ",\n        ".join([
        "count(*) AS households_total",
        f"CASE WHEN {known} THEN count(*) FILTER (classification = 'poor') END AS households_poor",
        f"CASE WHEN {known} THEN count(*) FILTER (classification = 'near_poor') END AS households_near_poor",
        (f"CASE WHEN {known} AND count(*) FILTER (classification = 'not_poor') = 0 "
        "THEN count(*) FILTER (classification = 'average') END AS households_average"),
        f"count(*) FILTER (deprivations >= {k}) AS households_mpi_poor",
        f"coalesce(sum(deprivations) FILTER (deprivations >= {k}), 0) AS mpi_deprivations_sum",
        *(f"count(*) FILTER ({d}) AS households_deprived_{d}" for d in INDICATORS),
        *(f"count(*) FILTER (classification = 'poor' AND {d}) AS poor_deprived_{d}" for d in INDICATORS),
        *(f"count(*) FILTER (classification = 'near_poor' AND {d}) AS near_poor_deprived_{d}" for d in INDICATORS),
    ])
    measure_list = ", ".join(MEASURES)
    # A sum that stays NULL when any part is NULL.
    summed = ",\n        ".join(f"CASE WHEN count({m}) = count(*) THEN sum({m}) END AS {m}" for m in MEASURES)
    finished = ",\n    ".join(f"CASE WHEN u.complete THEN coalesce(r.{m}, 0) END::BIGINT AS {m}" for m in MEASURES)
    levels = [("commune", "commune_code"), ("district", "district_code"), ("province", "province_code"),
              ("region", "region_key"), ("national", "'VN'")]
    rolled = "\n    UNION ALL\n    ".join(
        f"SELECT '{level}' AS level, {column} AS unit_code, ethnic_group, area,\n        {summed}\n"
        f"    FROM placed WHERE {column} IS NOT NULL GROUP BY {column}, ethnic_group, area"
        for level, column in levels)
    units = "\n    UNION ALL\n    ".join(
        f"SELECT '{level}' AS level, {column} AS unit_code, "
        f"count(*) = count(*) FILTER (h.commune_code IN (SELECT commune_code FROM cells)) AS complete\n"
        f"    FROM hierarchy h WHERE {column} IS NOT NULL GROUP BY {column}"
        for level, column in levels if level != "commune")
    return f"""
WITH households AS (
    SELECT commune_code, head_ethnicity_code AS ethnic_group, area, income_per_capita_month AS income,
        {deprivation_sum} AS deprivations, {", ".join(INDICATORS)}
    FROM read_parquet([{file_list}])
),
classified AS (
    SELECT *, CASE
        WHEN income IS NULL THEN NULL
        WHEN income <= {line} AND deprivations >= {k} THEN 'poor'
        WHEN income <= {line} THEN 'near_poor'
        WHEN {upper} IS NULL THEN 'not_poor'
        WHEN income <= {upper} THEN 'average'
        ELSE 'other' END AS classification
    FROM households
),
cells AS (  -- commune × ethnic code × area: the only pass over households
    SELECT commune_code, ethnic_group, area,
        {cell_measures}
    FROM classified GROUP BY commune_code, ethnic_group, area
),
grouped AS (  -- each code, EM (every code but Kinh) and ALL
    SELECT commune_code, ethnic_group, area, {measure_list} FROM cells
    UNION ALL SELECT commune_code, 'EM', area, {measure_list} FROM cells WHERE ethnic_group <> '{KINH}'
    UNION ALL SELECT commune_code, 'ALL', area, {measure_list} FROM cells
),
with_all_areas AS (
    SELECT * FROM grouped
    UNION ALL SELECT commune_code, ethnic_group, 'all', {", ".join(f"sum({m})" for m in MEASURES)}
    FROM grouped GROUP BY commune_code, ethnic_group
),
placed AS (
    SELECT c.*, h.district_code, h.province_code, h.region_key
    FROM with_all_areas c JOIN hierarchy h USING (commune_code)
),
rolled AS (
    {rolled}
),
units AS (  -- complete: every lowest unit under it sent household data
    SELECT 'commune' AS level, commune_code AS unit_code,
        commune_code IN (SELECT commune_code FROM cells) AS complete
    FROM hierarchy WHERE commune_code IS NOT NULL
    UNION ALL
    {units}
),
required AS (
    SELECT level, unit_code, ethnic_group, area FROM units,
        (VALUES ('ALL'), ('EM'), ('{KINH}')) g(ethnic_group), (VALUES ('rural'), ('urban'), ('all')) a(area)
),
cell_keys AS (
    SELECT level, unit_code, ethnic_group, area FROM rolled UNION SELECT * FROM required
)
SELECT k.level, k.unit_code, k.ethnic_group, k.area,
    {finished},
    CASE WHEN u.complete AND coalesce(r.households_total, 0) > 0
         THEN r.households_poor * 100.0 / r.households_total END AS poor_rate,
    CASE WHEN u.complete AND coalesce(r.households_total, 0) > 0
         THEN r.households_near_poor * 100.0 / r.households_total END AS near_poor_rate
FROM cell_keys k
JOIN units u USING (level, unit_code)
LEFT JOIN rolled r USING (level, unit_code, ethnic_group, area)
"""


def pandas_rollup(files: Sequence[str], hierarchy, limits: dict):
    """The same counts with pandas (a sample of files: the caller extrapolates the time)."""
    import numpy as np
    import pandas as pd

    columns = ["commune_code", "head_ethnicity_code", "area", "income_per_capita_month", *INDICATORS]
    households = pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)
    urban = (households["area"] == "urban").to_numpy()
    line = np.where(urban, limits["line"]["urban"], limits["line"]["rural"])
    upper_values = limits["upper"]
    upper = np.where(urban, upper_values["urban"] or np.inf, upper_values["rural"] or np.inf)
    income = households["income_per_capita_month"].to_numpy()
    deprivations = households[list(INDICATORS)].sum(axis=1).to_numpy()
    below = income <= line
    poor = below & (deprivations >= limits["k"])
    frame = pd.DataFrame({
        "commune_code": households["commune_code"], "ethnic_group": households["head_ethnicity_code"],
        "area": households["area"], "households_total": 1, "households_poor": poor,
        "households_near_poor": below & ~poor, "households_average": ~below & (income <= upper),
        "households_mpi_poor": deprivations >= limits["k"],
        "mpi_deprivations_sum": np.where(deprivations >= limits["k"], deprivations, 0),
    })
    for d in INDICATORS:
        flag = households[d].to_numpy()
        frame[f"households_deprived_{d}"] = flag
        frame[f"poor_deprived_{d}"] = flag & poor
        frame[f"near_poor_deprived_{d}"] = flag & below & ~poor
    keys = ["commune_code", "ethnic_group", "area"]
    cells = frame.groupby(keys, observed=True).sum().reset_index()
    measures = [c for c in cells.columns if c not in keys]
    grouped = pd.concat([
        cells,
        cells[cells["ethnic_group"] != KINH].groupby(["commune_code", "area"]).sum(numeric_only=True)
        .reset_index().assign(ethnic_group="EM"),
        cells.groupby(["commune_code", "area"]).sum(numeric_only=True).reset_index().assign(ethnic_group="ALL"),
    ])
    grouped = pd.concat([grouped, grouped.groupby(["commune_code", "ethnic_group"])[measures].sum()
                         .reset_index().assign(area="all")])
    placed = grouped.merge(hierarchy, on="commune_code", how="inner").assign(national="VN")
    levels = [("commune", "commune_code"), ("district", "district_code"), ("province", "province_code"),
              ("region", "region_key"), ("national", "national")]
    return pd.concat([
        placed.groupby([column, "ethnic_group", "area"])[measures].sum().reset_index()
        .rename(columns={column: "unit_code"}).assign(level=level)
        for level, column in levels])


def scan_floor(files: Sequence[str]) -> int:
    """Read the columns lnob's household pass needs from every file, with the same Parquet reader lnob uses
    (Polars, streaming, files read in parallel), and compute nothing but each column's null count (which
    needs the decoded column, not its values). pyarrow reading file after file was 5-7× slower here on the
    per-commune layout, so it would make a flattering floor."""
    import polars as pl

    counts = (pl.scan_parquet(list(files)).select(pl.len().alias("__rows__"),
                                                   *(pl.col(c).null_count() for c in SCANNED_COLUMNS))
              .collect(engine="streaming"))
    return int(counts["__rows__"][0])
