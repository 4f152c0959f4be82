"""`python -m bench --scale S`: generate (or reuse) the staging data, run every contender in its own child
process on the same files, check lnob's counts against DuckDB's, measure ingest, write the results.

    python -m bench --scale 0.01                 # quick check (a few minutes)
    python -m bench                              # national scale, ~27 million households
    python -m bench --scale 0.05 --layouts commune --skip-ingest
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import data as bench_data
from bench.compare import compare_counts
from bench.measure import run_child

RESULTS_DIR = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent / "README.md"
PROJECT_README = Path(__file__).resolve().parent.parent / "README.md"
CONTENDERS = ("lnob", "duckdb", "floor", "pandas")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Benchmark lnob's nightly household build against DuckDB, the scan floor and pandas, and "
                    "measure ingest.", epilog=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the national households (1.0 ≈ 27 M)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (data are reused per seed and scale)")
    parser.add_argument("--year", type=int, default=2024,
                        help="review year (2024: three tiers, ~10,000 communes; 2025+: two tiers)")
    parser.add_argument("--provinces", default=None,
                        help="only these provinces, comma-separated codes (quick checks; the rest of the country "
                             "is then missing, so region and national counts are unknown)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender (the median is reported)")
    parser.add_argument("--layouts", default="commune,province",
                        help="staging layouts to measure, comma-separated: commune (one file per commune, as "
                             "ingest writes it), province (compacted)")
    parser.add_argument("--headline-layout", default="commune", choices=bench_data.LAYOUTS,
                        help="the layout whose figures are the headline keys of latest.json")
    parser.add_argument("--pandas-every", type=int, default=10, help="pandas runs on every n-th file, extrapolated")
    parser.add_argument("--batch-files", type=int, default=None,
                        help="commune files validated as one batch (default 500, or 100 below scale 0.1)")
    parser.add_argument("--warm-files", type=int, default=3, help="single files submitted after the first")
    parser.add_argument("--skip-ingest", action="store_true", help="measure the build only")
    parser.add_argument("--skip-prefect", action="store_true",
                        help="measure ingest in-process only, without starting a Prefect server and worker")
    parser.add_argument("--http-clients", type=int, default=20,
                        help="concurrent HTTP clients uploading the batch's files to `lnob serve` (default 20)")
    parser.add_argument("--warm-steady", type=int, default=200,
                        help="commune files arriving steadily through warm `lnob worker`s (0 leaves it out)")
    parser.add_argument("--warm-burst", type=int, default=100, help="files sent at once for the saturation rate")
    parser.add_argument("--warm-per-second", type=float, default=2.0, help="arrival rate of the steady files")
    parser.add_argument("--prefect-batch-size", type=int, default=200,
                        help="files per validation task in the Prefect run (the deployment's batch_size)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--data-dir", type=Path, default=bench_data.DATA_ROOT)
    parser.add_argument("--no-readme", action="store_true",
                        help="do not copy the table into bench/README.md and README.md")
    args = parser.parse_args(argv)
    args.layouts = [layout.strip() for layout in args.layouts.split(",") if layout.strip()]
    for layout in args.layouts:
        if layout not in bench_data.LAYOUTS:
            parser.error(f"unknown layout {layout!r}; choose from {', '.join(bench_data.LAYOUTS)}")
    if args.headline_layout not in args.layouts:
        args.headline_layout = args.layouts[0]
    args.provinces = (tuple(sorted(p.strip().zfill(2) for p in args.provinces.split(",") if p.strip()))
                      if args.provinces else None)
    if args.batch_files is None:
        args.batch_files = 500 if args.scale >= 0.1 else 100
    return args


def say(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def measure_layout(args: argparse.Namespace, layout: str, work: Path) -> dict:
    staged = bench_data.staged(layout, args.seed, args.scale, args.year, root=args.data_dir, say=say,
                               provinces=args.provinces)
    say(f"{layout} layout: {staged.households:,} households in {len(staged.files):,} files"
        + (" (reused)" if staged.reused else f" (generated in {staged.generation_s:.1f} s)"))
    from schemas.standards import standard_for_year

    files = [f.__dict__ for f in staged.files]
    base = {"year": args.year, "standard": standard_for_year(args.year), "repeats": args.repeats, "files": files}
    results: dict[str, dict] = {}
    for contender in CONTENDERS:
        spec = {**base, "contender": contender, "result_path": str(work / f"{layout}-{contender}.parquet"),
                "sample_every": args.pandas_every}
        result = run_child("bench.contenders", spec)
        results[contender] = result
        shown = result["median_s"] if contender != "pandas" else sorted(result["times_extrapolated_s"])[
            len(result["times_extrapolated_s"]) // 2]
        say(f"  {contender:7s} median {shown:8.2f} s{' (extrapolated)' if contender == 'pandas' else ''}, "
            f"peak RSS {result['peak_rss_mib']:8.0f} MiB")
    comparison = compare_counts(work / f"{layout}-lnob.parquet", work / f"{layout}-duckdb.parquet")
    say(f"  lnob and DuckDB counts {'equal' if comparison['equal'] else 'DIFFER'}: "
        f"{comparison['rows_lnob']:,} rows × {comparison['measures_compared']} counts compared"
        + ("" if comparison["equal"] else f", {comparison['different_rows']:,} rows differ"))
    return {"layout": layout, "households": staged.households, "files": len(staged.files),
            "generation_s": None if staged.reused else staged.generation_s, "reused_data": staged.reused,
            "contenders": results, "comparison": comparison}


def measure_ingest(args: argparse.Namespace, work: Path) -> dict:
    from bench import ingest

    needed = 1 + args.warm_files + args.batch_files + 1
    available = ingest.commune_files(needed, args.seed, root=args.data_dir, say=say)
    if len(available) < needed:
        raise SystemExit(f"only {len(available)} commune files for ingest; {needed} needed")
    # The single-file figures use the files closest to a typical commune (~3,000 households); the batch
    # takes the others in order, as a district's communes would arrive.
    typical = sorted(range(len(available)), key=lambda i: (abs(available[i]["rows"] - 3000), i))
    singles = [available[i] for i in typical[:1 + args.warm_files + 1]]
    chosen = {id(f) for f in singles}
    batch = [f for f in available if id(f) not in chosen][:args.batch_files]
    say(f"ingest: 1 + {args.warm_files} single files, then a batch of {len(batch)} "
        f"({sum(f['rows'] for f in batch):,} households)")
    spec = {"home": str(work / "ingest-home"), "files": [*singles[:-1], *batch], "warm_files": args.warm_files,
            "batch_files": len(batch)}
    result = run_child("bench.ingest", spec)
    result["cli_one_file"] = ingest.cli_submit_seconds(singles[-1], work / "ingest-cli-home")
    say(f"ingest over HTTP: {args.http_clients} clients uploading {len(batch)} commune files to `lnob serve` …")
    result["http"] = http = ingest.http_throughput([singles[0], *batch], work / "ingest-http-home",
                                                   clients=args.http_clients)
    http["batch_files_per_s"] = result["batch"]["files_per_s"]
    http["ratio_to_batch"] = (http["verdicts_per_s"] / http["batch_files_per_s"]
                              if http["verdicts_per_s"] and http["batch_files_per_s"] else None)
    say(f"  {http['verdicts_per_s']:.1f} verdicts/s (p50 {http['p50_s']:.2f} s, p95 {http['p95_s']:.2f} s), "
        f"{http['ratio_to_batch'] or float('nan'):.2f} of the batch path's files/s")
    result["import_s"] = {module: ingest.import_seconds(module)
                          for module in ("great_expectations", "prefect", "pipeline.ingest", "lnob.cli")}
    one, batched = result["one_file"], result["batch"]
    say(f"  one file: {one['total_s']:.2f} s after imports (GX {one['gx_s']:.2f} s), warm "
        f"{result['one_file_warm']['median_s'] or float('nan'):.2f} s, `lnob submit` {result['cli_one_file']['wall_s']:.2f} s")
    say(f"  batch: {batched['files']} files in {batched['total_s']:.2f} s = {batched['files_per_s']:.1f} files/s "
        f"(GX {batched['gx_s']:.2f} s)")
    if not args.skip_prefect:
        say("ingest through Prefect: server, deployment and worker on loopback …")
        prefect_spec = {"files": [singles[0], *batch], "batch_files": len(batch), "year": ingest.INGEST_YEAR,
                        "batch_size": args.prefect_batch_size}
        result["prefect"] = prefected = run_child("bench.prefect_path", prefect_spec)
        one, batched = prefected["one_file"], prefected["batch"]
        say(f"  one file: submit → verdict {one['wall_s']:.2f} s (tasks {one['task_s']:.2f} s); batch: "
            f"{batched['files']} files in {batched['wall_s']:.2f} s = {batched['files_per_s']:.1f} files/s")
        if args.warm_steady:
            result["warm_workers"] = measure_warm_workers(args)
    return result


def measure_warm_workers(args: argparse.Namespace) -> dict:
    """Submit → verdict through warm `lnob worker`s (1 and 2) and a real Prefect server (bench/warm_path.py)."""
    from bench import ingest

    needed = 2 + args.warm_steady + args.warm_burst
    files = [{**f, "year": ingest.INGEST_YEAR}
             for f in ingest.commune_files(needed, args.seed, root=args.data_dir, say=say)[:needed]]
    say(f"ingest through warm workers: {args.warm_steady} files at {args.warm_per_second:g}/s, then a burst of "
        f"{args.warm_burst}, with 1 and with 2 workers …")
    warm = run_child("bench.warm_path", {"files": files, "steady": args.warm_steady, "burst": args.warm_burst,
                                          "per_second": args.warm_per_second})
    for run in warm["runs"]:
        say(f"  {run['workers']} worker(s): p50 {run['verdict_p50_s']:.2f} s, p95 {run['verdict_p95_s']:.2f} s, "
            f"max {run['verdict_max_s']:.2f} s; burst {run['saturation_files_per_s']:.1f} files/s")
    return warm


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench import machine, report

    started = time.perf_counter()
    run = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine.describe(),
           "scale": args.scale, "provinces": list(args.provinces) if args.provinces else None,
           "seed": args.seed, "year": args.year, "repeats": args.repeats,
           "headline_layout": args.headline_layout, "layouts": {}}
    say(f"scale {args.scale:g}, year {args.year}, seed {args.seed}, {args.repeats} runs per contender, "
        f"layouts {', '.join(args.layouts)}")
    work = Path(tempfile.mkdtemp(prefix="lnob-bench-work-"))
    try:
        for layout in args.layouts:
            run["layouts"][layout] = measure_layout(args, layout, work)
        run["ingest"] = None if args.skip_ingest else measure_ingest(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run["total_s"] = time.perf_counter() - started
    latest = report.summarise(run)
    paths = report.write(latest, args.results_dir, readme=None if args.no_readme else [README, PROJECT_README])
    say(f"done in {run['total_s']:.0f} s: {', '.join(str(p) for p in paths)}")
    print(report.markdown(latest))
    return 0 if latest["results_equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
