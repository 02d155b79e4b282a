"""Warehouse commands: `ingest`, `sql`, `doctor`, `export`, `report` and `cache clear`."""
from __future__ import annotations

import argparse
import json

from rich.markup import escape
from rich.table import Table

from autotts import checks
from autotts.commands._shared import add_selection, console, out_console, split
from autotts.errors import UserError, one_line
from autotts.progress import flow_progress


def cmd_ingest(args: argparse.Namespace) -> int:
    checks.input_files(args.files)
    checks.warehouse(args.warehouse, must_exist=False)
    with flow_progress(console, f"ingesting {len(args.files)} file(s) into {args.warehouse}"):
        summaries = ingest_files(args.files, args.warehouse, "exact" if args.compat == "reference" else "math")
    if args.json:
        print(json.dumps(summaries))
    else:
        for s in summaries:
            console.print(f"{s['file']}: {s['status']} as bank {s['bank_id']} "
                          f"({s['trajectories']} trajectories, {s['probes']} probes)"
                          + (f", {s['answer_timeouts']} answer checks stopped at the time bound" if s["answer_timeouts"] else "")
                          + (" [SYNTHETIC]" if s["synthetic"] else ""))
    return 0


def ingest_files(paths: list[str], warehouse: str, answer_mode: str = "math") -> list[dict]:
    """The ingest flow; a rejected file is bad input (the flow wrote nothing of it)."""
    from autotts.flows.ingest import IngestFailed, ingest_flow

    try:
        return ingest_flow(paths=paths, warehouse=warehouse, answer_mode=answer_mode)
    except IngestFailed as err:
        raise UserError(f"{err} (rejected: nothing from that file was written to {warehouse})") from None


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from autotts.warehouse.queries import run_sql

    checks.warehouse(args.warehouse)
    try:
        table = run_sql(args.warehouse, args.query)
    except duckdb.Error as err:
        raise UserError(f"SQL: {one_line(err)} (tables and views: docs/warehouse.md)") from err
    if args.json:
        print(json.dumps(table.to_pylist(), default=str))
        return 0
    out = Table(show_lines=False)
    for name in table.column_names:
        out.add_column(name)
    for row in table.to_pylist():
        out.add_row(*(_cell(v) for v in row.values()))
    out_console.print(out)
    console.print(f"{table.num_rows} row(s)")
    return 0


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape("" if value is None else str(value))


def cmd_doctor(args: argparse.Namespace) -> int:
    from autotts.warehouse.doctor import check

    checks.warehouse(args.warehouse)
    findings = check(args.warehouse)
    if args.json:
        print(json.dumps([f.__dict__ for f in findings]))
    elif not findings:
        console.print(f"[green]{args.warehouse}: all integrity checks passed[/]")
    for f in findings if not args.json else []:
        colour = "red" if f.severity == "error" else "yellow"
        console.print(f"[{colour}]{f.severity}[/]: {f.what} ({f.count})", soft_wrap=True)
    return 1 if any(f.severity == "error" for f in findings) else 0


def cmd_export(args: argparse.Namespace) -> int:
    from autotts.warehouse.export import export_parquet

    checks.warehouse(args.warehouse)
    checks.output_file(args.out, (".parquet",))
    n = export_parquet(args.warehouse, args.out, split(args.bank_id), split(args.benchmark), split(args.model))
    console.print(f"wrote {n} trajectories to {args.out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from autotts.report.build import write_report

    checks.warehouse(args.warehouse)
    checks.output_file(args.out, (".html",))
    path = write_report(args.warehouse, args.out, split(args.run))
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, works offline); open it in a browser")
    return 0


def cmd_cache_clear(args: argparse.Namespace) -> int:
    from autotts.trajectories.bank_cache import cache_root, clear

    files, freed = clear()
    console.print(f"removed {files} file(s), {freed / 1e6:.1f} MB, from {cache_root()}")
    return 0


def register(sub) -> None:
    ing = sub.add_parser("ingest", help="validate, grade and load trajectory files into a warehouse")
    ing.add_argument("files", nargs="+", metavar="FILE")
    ing.add_argument("--warehouse", required=True, metavar="W.duckdb")
    ing.add_argument("--compat", choices=("default", "reference"), default="default",
                     help="reference: string answers and ERR votes, as the AutoTTS reference simulators")
    ing.add_argument("--json", action="store_true")
    ing.set_defaults(func=cmd_ingest)

    sql = sub.add_parser("sql", help="query a warehouse (read-only); see docs/warehouse.md")
    sql.add_argument("query", metavar="SQL")
    sql.add_argument("--warehouse", required=True, metavar="W.duckdb")
    sql.add_argument("--json", action="store_true", help="print rows as a JSON list")
    sql.set_defaults(func=cmd_sql)

    doc = sub.add_parser("doctor", help="check a warehouse's integrity (exit 1 on errors)")
    doc.add_argument("--warehouse", required=True, metavar="W.duckdb")
    doc.add_argument("--json", action="store_true")
    doc.set_defaults(func=cmd_doctor)

    exp = sub.add_parser("export", help="export warehouse banks as interchange Parquet")
    exp.add_argument("--warehouse", required=True, metavar="W.duckdb")
    exp.add_argument("--out", required=True, metavar="FILE.parquet")
    add_selection(exp)
    exp.set_defaults(func=cmd_export)
    rep = sub.add_parser("report", help="a self-contained HTML report: curves, Pareto frontiers, discovery progress")
    rep.add_argument("--warehouse", required=True, metavar="W.duckdb")
    rep.add_argument("--out", default="report.html", metavar="FILE.html", help="where to write the report")
    rep.add_argument("--run", action="append", metavar="RUN_ID", help="only these runs (default: latest of each controller)")
    rep.set_defaults(func=cmd_report)
    cache = sub.add_parser("cache", help="the cache of graded banks and bank snapshots (README: Errors, logs and files)")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    cache_sub.add_parser("clear", help="remove every cached file").set_defaults(func=cmd_cache_clear)
