"""One contender per child process: `python -m bench.contenders spec.json out.json`.

spec: {"contender": lnob|duckdb|floor|pandas, "year", "standard", "repeats", "files": [{submission_id,
level, unit_code, path, rows}], "result_path" (Parquet of the last run's counts, for the equality check),
"sample_every" (pandas)}. Writes {"times_s": [...], "rss_after_imports_mib", ...} to out.json; the parent
adds the child's peak RSS. Timings start after the imports and the reference data (hierarchy, standard)
are loaded, the same for every contender.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import current_rss_mib, high_water_mib
from bench.peers import KEYS, MEASURES, SCANNED_COLUMNS, duckdb_sql, pandas_rollup, scan_floor, thresholds


def _hierarchy(year: int):
    from schemas.geography import geography_version, hierarchy_at, review_date

    on = review_date(year)
    return hierarchy_at(on), geography_version(on)


def run_lnob(spec: dict) -> dict:

    from pipeline.build import SubmissionInput, build_year, write_year
    from schemas.standards import load_standard

    year, standard_id = spec["year"], spec["standard"]
    hierarchy, version = _hierarchy(year)
    standards = {standard_id: load_standard(standard_id)}
    submissions = [SubmissionInput(f["submission_id"], f["level"], f["unit_code"], year, "household", f["path"],
                                   standard_id) for f in spec["files"]]
    rss_after_imports = current_rss_mib()
    times, frames = [], None
    for _ in range(spec["repeats"]):
        frames = None
        gc.collect()
        started = time.perf_counter()
        frames = build_year(year, submissions, hierarchy=hierarchy, geography_version=version, standards=standards,
                            default_standard=standard_id)
        times.append(time.perf_counter() - started)
    build_peak = high_water_mib()
    # The wide poverty rows (every count, every level and group) that the poverty marts and the deprivation
    # mart are cut from: what the peers are compared against.
    wide = frames["deprivation_by_area"].source
    wide.select(*KEYS, *MEASURES).write_parquet(spec["result_path"])
    poverty_rows = {name: frames[name].height for name in ("poverty_by_area", "poverty_by_ethnicity")}
    with tempfile.TemporaryDirectory(prefix="lnob-bench-marts-") as folder:
        started = time.perf_counter()
        entries = write_year(frames, Path(folder), year)
        write_s = time.perf_counter() - started
    return {"times_s": times, "rss_after_imports_mib": rss_after_imports, "build_peak_rss_mib": build_peak,
            "write_s": write_s, "mart_rows": {name: entry["rows"] for name, entry in entries.items()},
            "poverty_rows": poverty_rows}


def run_duckdb(spec: dict) -> dict:
    import duckdb

    hierarchy, _ = _hierarchy(spec["year"])
    hierarchy_table = hierarchy.to_arrow()
    sql = duckdb_sql([f["path"] for f in spec["files"]], thresholds(spec["standard"]))
    connection = duckdb.connect()
    connection.register("hierarchy", hierarchy_table)
    rss_after_imports = current_rss_mib()
    times, result = [], None
    for _ in range(spec["repeats"]):
        result = None
        started = time.perf_counter()
        result = connection.sql(sql).to_arrow_table()
        times.append(time.perf_counter() - started)
    import pyarrow.parquet as pq

    pq.write_table(result, spec["result_path"])
    return {"times_s": times, "rss_after_imports_mib": rss_after_imports, "rows": result.num_rows,
            "threads": connection.execute("SELECT current_setting('threads')").fetchone()[0]}


def run_floor(spec: dict) -> dict:
    import polars  # noqa: F401 - imported before timing, as for the others

    files = [f["path"] for f in spec["files"]]
    rss_after_imports = current_rss_mib()
    times, rows = [], 0
    for _ in range(spec["repeats"]):
        started = time.perf_counter()
        rows = scan_floor(files)
        times.append(time.perf_counter() - started)
    return {"times_s": times, "rss_after_imports_mib": rss_after_imports, "rows": rows,
            "columns": list(SCANNED_COLUMNS)}


def run_pandas(spec: dict) -> dict:
    import pandas  # noqa: F401

    every = spec.get("sample_every", 10)
    files = sorted(spec["files"], key=lambda f: f["submission_id"])
    sample = files[::every]
    hierarchy, _ = _hierarchy(spec["year"])
    hierarchy = hierarchy.to_pandas()
    limits = thresholds(spec["standard"])
    rss_after_imports = current_rss_mib()
    times = []
    for _ in range(spec["repeats"]):
        gc.collect()
        started = time.perf_counter()
        pandas_rollup([f["path"] for f in sample], hierarchy, limits)
        times.append(time.perf_counter() - started)
    sample_rows = sum(f["rows"] for f in sample)
    total_rows = sum(f["rows"] for f in files)
    factor = total_rows / sample_rows if sample_rows else float("nan")
    return {"times_s": times, "rss_after_imports_mib": rss_after_imports, "sample_files": len(sample),
            "sample_households": sample_rows, "extrapolation_factor": factor,
            "times_extrapolated_s": [t * factor for t in times]}


CONTENDERS = {"lnob": run_lnob, "duckdb": run_duckdb, "floor": run_floor, "pandas": run_pandas}


def main(argv: list[str]) -> int:
    spec_path, out_path = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    result = CONTENDERS[spec["contender"]](spec)
    result["median_s"] = statistics.median(result["times_s"])
    result["vm_hwm_mib"] = high_water_mib()
    Path(out_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
