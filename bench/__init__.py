"""lnob's benchmark (`make bench`, `python -m bench --scale S`): the nightly household build against DuckDB,
the scan floor and pandas, on the same staging files, each contender in its own child process; and ingest
(one commune file, a batch of commune files). Results go to bench/results/latest.json and latest.md."""
