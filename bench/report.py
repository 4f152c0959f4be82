"""latest.json (headline keys first, every detail after) and latest.md (the tables), and the table copied
into bench/README.md between its markers."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

TARGETS = {
    "ratio_duckdb": ("nightly build ≤ 0.6 × DuckDB", lambda v: v <= 0.6),
    "ratio_floor": ("nightly build ≤ 4 × the scan floor", lambda v: v <= 4.0),
    "lnob_peak_rss_mib": ("nightly build peak memory < 1 GiB", lambda v: v < 1024.0),
    "ingest_one_file_s": ("one commune file < 1 s after imports", lambda v: v < 1.0),
    "batch_files_per_s": ("batch validation ≥ 100 commune files/s", lambda v: v >= 100.0),
    "event_verdict_p95_s": ("submit → verdict p95 < 2 s with one warm worker", lambda v: v < 2.0),
}
README_START = "<!-- latest results: start -->"
README_END = "<!-- latest results: end -->"


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top is not None and bottom else None


def _layout_summary(layout: dict) -> dict:
    contenders = layout["contenders"]
    lnob, duckdb, floor, pandas = (contenders[c] for c in ("lnob", "duckdb", "floor", "pandas"))
    pandas_s = statistics.median(pandas["times_extrapolated_s"])
    return {
        "households": layout["households"], "files": layout["files"],
        "lnob_s": lnob["median_s"], "duckdb_s": duckdb["median_s"], "floor_s": floor["median_s"],
        "pandas_s_extrapolated": pandas_s,
        "lnob_peak_rss_mib": lnob["build_peak_rss_mib"], "lnob_peak_rss_with_write_mib": lnob["peak_rss_mib"],
        "lnob_write_s": lnob["write_s"],
        "duckdb_peak_rss_mib": duckdb["peak_rss_mib"], "floor_peak_rss_mib": floor["peak_rss_mib"],
        "pandas_peak_rss_mib_sample": pandas["peak_rss_mib"],
        "ratio_duckdb": _ratio(lnob["median_s"], duckdb["median_s"]),
        "ratio_floor": _ratio(lnob["median_s"], floor["median_s"]),
        "ratio_pandas": _ratio(lnob["median_s"], pandas_s),
        "results_equal": layout["comparison"]["equal"],
    }


def summarise(run: dict) -> dict:
    layouts = {name: _layout_summary(layout) for name, layout in run["layouts"].items()}
    headline = layouts[run["headline_layout"]]
    ingest = run.get("ingest")
    latest = {
        "scale": run["scale"], "year": run["year"], "layout": run["headline_layout"],
        "households": headline["households"], "files": headline["files"],
        **{key: headline[key] for key in (
            "lnob_s", "duckdb_s", "floor_s", "pandas_s_extrapolated", "lnob_peak_rss_mib", "duckdb_peak_rss_mib",
            "ratio_duckdb", "ratio_floor", "results_equal")},
        "results_equal": all(layout["results_equal"] for layout in layouts.values()),
        "ingest_one_file_s": ingest["one_file"]["total_s"] if ingest else None,
        "batch_files_per_s": ingest["batch"]["files_per_s"] if ingest else None,
        "http_verdicts_per_s": ingest["http"]["verdicts_per_s"] if ingest and ingest.get("http") else None,
        "http_p50_s": ingest["http"]["p50_s"] if ingest and ingest.get("http") else None,
        "http_p95_s": ingest["http"]["p95_s"] if ingest and ingest.get("http") else None,
        "http_ratio_to_batch": ingest["http"]["ratio_to_batch"] if ingest and ingest.get("http") else None,
        **_warm_summary(ingest),
        "prefect_one_file_s": ingest["prefect"]["one_file"]["wall_s"] if ingest and ingest.get("prefect") else None,
        "prefect_batch_files_per_s": (ingest["prefect"]["batch"]["files_per_s"]
                                      if ingest and ingest.get("prefect") else None),
    }
    latest["targets"] = {key: {"target": text, "value": latest.get(key),
                               "met": None if latest.get(key) is None else bool(check(latest[key]))}
                         for key, (text, check) in TARGETS.items()}
    latest["by_layout"] = layouts
    latest["run"] = run
    return latest


def _warm_summary(ingest: dict | None) -> dict:
    """The headline keys of the warm-worker path: one worker's submit → verdict p50 / p95, and every run."""
    warm = (ingest or {}).get("warm_workers")
    if not warm:
        return {}
    one = next((run for run in warm["runs"] if run["workers"] == 1), warm["runs"][0])
    return {"event_verdict_p50_s": one["verdict_p50_s"], "event_verdict_p95_s": one["verdict_p95_s"],
            "event_verdict_max_s": one["verdict_max_s"], "workers": warm["runs"]}


def _f(value, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{suffix}"
    return f"{value:,}{suffix}"


def markdown(latest: dict) -> str:
    run = latest["run"]
    machine = run["machine"]
    lines = [
        (f"Scale {latest['scale']:g}: {latest['households']:,} households, review year {latest['year']}; "
        f"{run['repeats']} runs per contender, median shown; each contender in its own process. "
        f"Measured {run['started_at']} on {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['memory_gib']} GiB, {machine['os']}, Python {machine['python']}, "
        f"polars {machine['versions']['polars']}, duckdb {machine['versions']['duckdb']}, "
        f"pandas {machine['versions']['pandas']}; load average at start "
        f"{', '.join(str(x) for x in machine['load_average_at_start'] or [])} (shared machine)."),
        "",
    ]
    for name, layout in run["layouts"].items():
        summary = latest["by_layout"][name]
        c = layout["contenders"]
        described = ("one staging file per commune, as ingest writes it" if name == "commune"
                     else "one staging file per province (compacted)")
        headline = " — headline" if name == latest["layout"] else ""
        lines += [
            f"**Nightly household build, {described}** ({summary['files']:,} files{headline})",
            "",
            "| contender | wall time (median) | runs | peak RSS | lnob ÷ contender |",
            "|---|---:|---|---:|---:|",
            (f"| lnob `build_year` (classify + every mart level) | {_f(summary['lnob_s'])} s | "
            f"{', '.join(_f(t) for t in c['lnob']['times_s'])} | {_f(summary['lnob_peak_rss_mib'], 0)} MiB | 1.00 |"),
            (f"| DuckDB SQL, same counts | {_f(summary['duckdb_s'])} s | "
            f"{', '.join(_f(t) for t in c['duckdb']['times_s'])} | {_f(summary['duckdb_peak_rss_mib'], 0)} MiB | "
            f"{_f(summary['ratio_duckdb'])} |"),
            (f"| floor: read the needed columns | {_f(summary['floor_s'])} s | "
            f"{', '.join(_f(t) for t in c['floor']['times_s'])} | {_f(summary['floor_peak_rss_mib'], 0)} MiB | "
            f"{_f(summary['ratio_floor'])} |"),
            (f"| pandas on a sample (1/{c['pandas']['extrapolation_factor']:.1f} of the households), time extrapolated "
             f"| {_f(summary['pandas_s_extrapolated'])} s | "
             f"{', '.join(_f(t) for t in c['pandas']['times_s'])} (sample) | "
             f"{_f(summary['pandas_peak_rss_mib_sample'], 0)} MiB (sample) | {_f(summary['ratio_pandas'])} |"),
            "",
            (f"lnob's counts equal DuckDB's: **{'yes' if summary['results_equal'] else 'NO'}** "
            f"({layout['comparison']['rows_lnob']:,} rows × {layout['comparison']['measures_compared']} counts, "
            f"every level, ethnic group and area, unknowns included). Writing the marts afterwards: "
            f"{_f(summary['lnob_write_s'])} s (peak RSS with writing {_f(summary['lnob_peak_rss_with_write_mib'], 0)} MiB)."),
            "",
        ]
    ingest = run.get("ingest")
    if ingest:
        one, batch, warm = ingest["one_file"], ingest["batch"], ingest["one_file_warm"]
        imports = ingest["import_s"]
        lines += [
            ("**Ingest** (commune household CSVs of about 3,000 households, scale 1, in-process path: no Prefect "
            "server configured)"),
            "",
            "| measure | wall time | Great Expectations | Prefect | lnob's own code |",
            "|---|---:|---:|---:|---:|",
            (f"| one file, submit → verdict, first in a process after imports ({one['households']:,} households) | "
            f"{_f(one['total_s'])} s | {_f(one['gx_s'])} s (suites {_f(one['gx_setup_s'])} + validate "
            f"{_f(one['gx_validate_s'])}) | {_f(one['prefect_s'])} s | {_f(one['lnob_s'])} s |"),
            f"| one file, next ones in the same process (median of {warm['runs']}) | {_f(warm['median_s'])} s | | | |",
            (f"| `lnob submit` command, fresh process, imports included | {_f(ingest['cli_one_file']['wall_s'])} s "
            f"| import {_f(imports['great_expectations'])} s | import {_f(imports['prefect'])} s (not on this path) "
            f"| import `pipeline.ingest` {_f(imports['pipeline.ingest'])} s |"),
            (f"| batch of {batch['files']} files ({batch['households']:,} households) validated together | "
            f"{_f(batch['total_s'])} s = **{_f(batch['files_per_s'], 1)} files/s** | {_f(batch['gx_s'])} s | "
            f"{_f(batch['prefect_s'])} s | {_f(batch['lnob_s'])} s (registering them before: "
            f"{_f(batch['register_s'])} s) |"),
            "",
        ]
        http = ingest.get("http")
        if http:
            lines += [
                (f"**Ingest over HTTP**: {http['clients']} clients uploading {http['files']} of these files at once "
                 f"to a real `lnob serve` on loopback ({http['validation_workers']} validation workers, uploads "
                 f"validated together in batches): **{_f(http['verdicts_per_s'], 1)} verdicts/s**, upload → verdict "
                 f"p50 {_f(http['p50_s'])} s, p95 {_f(http['p95_s'])} s; "
                 f"{_f(http['ratio_to_batch'])} of the batch path's files/s above."),
                "",
            ]
        if ingest.get("prefect"):
            lines += _prefect_lines(ingest["prefect"], batch)
        if ingest.get("warm_workers"):
            lines += _warm_lines(ingest["warm_workers"])
    lines += ["**Targets**", "", "| target | measured | met |", "|---|---:|---|"]
    for key, target in latest["targets"].items():
        digits = 0 if key == "lnob_peak_rss_mib" else 2
        met = "—" if target["met"] is None else ("yes" if target["met"] else "**no**")
        lines.append(f"| {target['target']} | {_f(target['value'], digits)} | {met} |")
    return "\n".join(lines) + "\n"


def _prefect_lines(prefected: dict, in_process_batch: dict) -> list[str]:
    """The same files through a real Prefect server, its deployment, automation and a process worker."""
    one, batch = prefected["one_file"], prefected["batch"]

    def orchestration(part: dict, before: float) -> float:
        return part["wall_s"] - before - part["task_s"]

    return [
        (f"**Ingest through Prefect** (a Prefect server, the `ingest-submission` deployment with its event "
         f"trigger, and one process worker polling every {_f(prefected['worker_query_seconds'], 0)} s, all on "
         f"this machine; starting them took {_f(prefected['setup_s'], 1)} s, not counted)"),
        "",
        ("| measure | wall time | in lnob's validation tasks (GX and lnob) | in Prefect | of which: to run created "
        "| created → running (worker poll, process start) | running → task | other |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        (f"| one file: `lnob submit` (keeps, records, emits; {_f(one['submit_command_s'])} s) → verdict "
         f"({one['households']:,} households) | {_f(one['wall_s'])} s | {_f(one['task_s'])} s "
         f"({one['tasks']} task runs) | {_f(orchestration(one, one['submit_command_s']))} s | "
         f"{_f(one['to_run_created_s'])} s from the command's start | {_f(one['run_created_to_running_s'])} s "
         f"| {_f(one['running_to_task_s'])} s | {_f(one['between_tasks_s'] + (one['after_tasks_s'] or 0))} s |"),
        (f"| batch of {batch['files']} files, one deployment run, {batch['batch_size']} files per task: "
         f"**{_f(batch['files_per_s'], 1)} files/s** | {_f(batch['wall_s'])} s | {_f(batch['task_s'])} s "
         f"({batch['tasks']} task runs; in-process the same files took {_f(in_process_batch['total_s'])} s) "
         f"| {_f(orchestration(batch, 0.0))} s | {_f(batch['to_run_created_s'])} s | "
         f"{_f(batch['run_created_to_running_s'])} s | {_f(batch['running_to_task_s'])} s | "
         f"{_f(batch['between_tasks_s'] + (batch['after_tasks_s'] or 0))} s |"),
        "",
        ("Each flow run is a new process: its task imports Great Expectations (about 3 s) before validating, "
         "which the in-process figures above count once per process. The worker's poll interval bounds how "
         "soon a run starts (`PREFECT_WORKER_QUERY_SECONDS`)."),
        "",
    ]


def _warm_lines(warm: dict) -> list[str]:
    """Submit → verdict through warm `lnob worker` processes (Prefect task workers)."""
    lines = [
        (f"**Ingest through warm workers** (`lnob worker`: Prefect task workers, each with one warm validation "
         f"process; a real Prefect server on this machine, starting it took {_f(warm['setup_s'], 1)} s, not "
         f"counted). Latency runs from the start of `lnob submit`'s send to the registry's final status."),
        "",
        ("| workers | files (households, mean) | arriving | submit → verdict p50 | p95 | max | of which the send, "
         "p50 / p95 | burst: files/s |"),
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in warm["runs"]:
        lines.append(
            f"| {run['workers']} | {run['files']} ({_f(run['households_mean'], 0)}) | {_f(run['per_second'], 1)}/s | "
            f"{_f(run['verdict_p50_s'])} s | {_f(run['verdict_p95_s'])} s | {_f(run['verdict_max_s'])} s | "
            f"{_f(run['send_p50_s'])} s / {_f(run['send_p95_s'])} s | {_f(run['saturation_files_per_s'], 1)} |")
    return [*lines, ""]


def _headline_json(latest: dict) -> str:
    return json.dumps(latest, indent=2, ensure_ascii=False, default=str) + "\n"


def write(latest: dict, results_dir: Path, *, readme: Path | list[Path] | None = None) -> list[Path]:
    """latest.json and latest.md under results_dir, and the table copied between the markers of each
    README given (bench/README.md and the project's README)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = results_dir / "latest.json", results_dir / "latest.md"
    table = markdown(latest)
    json_path.write_text(_headline_json(latest), encoding="utf-8")
    md_path.write_text("# lnob benchmark — latest results\n\n" + table, encoding="utf-8")
    written = [json_path, md_path]
    readmes = [] if readme is None else [readme] if isinstance(readme, Path) else list(readme)
    for path in readmes:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if README_START in text and README_END in text:
            before, rest = text.split(README_START, 1)
            _, after = rest.split(README_END, 1)
            path.write_text(f"{before}{README_START}\n{table}{README_END}{after}", encoding="utf-8")
            written.append(path)
    return written
