"""`lnob export`: load the current marts into SQL tables (PostgreSQL, SQLite, … through SQLAlchemy)."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Copy every mart of the current version (all years) into tables of a SQL database, one table
per mart with the mart's name, replacing tables of the same name. Column types follow the
marts: Int64 counts become BIGINT, rates DOUBLE PRECISION, codes text. Tools that cannot read
Parquet can then query the database.
"""

EPILOG = """\
examples:
  lnob export --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --schema marts
  lnob export --database-url sqlite:///marts.db
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("export", help="load the current marts into SQL tables",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, metavar="URL", help="SQLAlchemy URL of the target")
    parser.add_argument("--schema", default=None, help="database schema to write into (must exist)")
    parser.add_argument("--marts", default=None, metavar="NAMES",
                        help="comma-separated marts to export (default: all)")


def _copy_into_postgresql(connection, table, frame) -> None:
    """COPY … FROM STDIN (CSV): a million-row mart loads in seconds where INSERTs take minutes. In CSV
    an unquoted empty field is NULL and Polars quotes empty strings, so unknown stays unknown."""
    target = connection.dialect.identifier_preparer.format_table(table)
    columns = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in frame.columns)
    payload = frame.write_csv(include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%:z").encode("utf-8")
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {target} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
        for start in range(0, len(payload), 1 << 20):
            copy.write(payload[start:start + (1 << 20)])


def export_marts(folder, database_url: str, *, schema: str | None = None,
                 names: list[str] | None = None) -> dict[str, int]:
    """Replaces one table per mart with the mart's rows; returns {mart: rows written}."""
    import sqlalchemy as sa

    from schemas.marts import all_marts
    from store.mart_files import read_mart

    types = {"Int64": sa.BigInteger(), "Float64": sa.Float(precision=53), "String": sa.Text(),
             "Boolean": sa.Boolean(), "Date": sa.Date()}
    engine = sa.create_engine(database_url)
    written: dict[str, int] = {}
    try:
        for name in names or list(all_marts()):
            mart = all_marts()[name]
            frame = read_mart(folder, name)
            metadata = sa.MetaData(schema=schema)
            columns = []
            for column in mart.columns:
                kind = str(column.dtype)
                sql_type = sa.DateTime(timezone=True) if kind.startswith("Datetime") else types[kind]
                columns.append(sa.Column(column.name, sql_type, comment=f"{column.label_en} | {column.label_vi}"))
            table = sa.Table(name, metadata, *columns, comment=mart.grain)
            with engine.begin() as connection:
                table.drop(connection, checkfirst=True)
                table.create(connection)
                frame = frame.select(mart.names)
                if connection.dialect.name == "postgresql":
                    _copy_into_postgresql(connection, table, frame)
                else:
                    rows = frame.to_dicts()
                    for start in range(0, len(rows), 5000):
                        connection.execute(table.insert(), rows[start:start + 5000])
            written[name] = frame.height
    finally:
        engine.dispose()
    return written


def run(args) -> int:
    from store import publish as publishing
    from store.settings import load_settings

    folder = publishing.current_path(load_settings())
    if folder is None:
        print("lnob export: no marts published yet (run `lnob build`)", file=sys.stderr)
        return 1
    names = [n.strip() for n in args.marts.split(",")] if args.marts else None
    try:
        written = export_marts(folder, args.database_url, schema=args.schema, names=names)
    except KeyError as error:
        print(f"lnob export: {error}", file=sys.stderr)
        return 2
    for name, rows in written.items():
        print(f"{name}: {rows} rows")
    return 0
