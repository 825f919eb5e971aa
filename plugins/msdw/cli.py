"""``msdw`` — the platform's command line.

    msdw generate --out DIR --start D --end D [--profile district|city|province] [--seed N]
                  [--defects RATE] [--formats csv,bom,gb18030,xlsx] [--file-defects KIND:FEED:DATE ...]
    msdw bootstrap                      create/upgrade schemas, roles, audit and raw tables
    msdw run --landing DIR --from D --to D [--no-marts]
    msdw demo [--start D --end D --profile P --seed N]   generate, run end to end, report
    msdw status                         where things are, latest loads and publications
    msdw report --month YYYY-MM [--no-pdf]   quality report (auditors; HTML + PDF) and work report
    msdw publish --list | --restore ID --reason TEXT [--by NAME]
                                        publications of the marts; re-point BI to an earlier one
    msdw serve [--port 8080]            Airflow's scheduler, dag-processor, triggerer, api-server
    msdw docs [--port 8081] [--no-generate] [--no-serve]
                                        dbt docs, quality gate pages and reports on http://127.0.0.1
    msdw airflow ARGS...                the airflow CLI with the project's settings
    msdw dbt ARGS...                    dbt with the project's profile and connection

Errors end with a one-line message and a non-zero exit code (2 for usage).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path

EXIT_USAGE = 2
EXIT_FAILED = 1


class UsageError(Exception):
    pass


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _month(value: str) -> date:
    try:
        y, m = value.split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {value!r}") from None


def _range(start: date, end: date) -> None:
    if end < start:
        raise UsageError(f"--end/--to {end} is before --start/--from {start}")


# --- commands -----------------------------------------------------------------------


def cmd_generate(a: argparse.Namespace) -> int:
    from msdw.generate import generate

    _range(a.start, a.end)
    t0 = time.perf_counter()
    summary = generate(
        Path(a.out), a.start, a.end, profile=a.profile, seed=a.seed, defects=a.defects,
        formats=tuple(a.formats.split(",")), file_defects=tuple(a.file_defects or ()),
    )
    print(summary)
    print(f"generated in {time.perf_counter() - t0:.1f}s → {Path(a.out).resolve()}")
    return 0


def cmd_bootstrap(a: argparse.Namespace) -> int:
    from msdw import warehouse
    from msdw.bootstrap import bootstrap

    bootstrap()
    print(f"warehouse bootstrapped: {warehouse.describe()}")
    return 0


def cmd_run(a: argparse.Namespace) -> int:
    from msdw.bootstrap import bootstrap
    from msdw.orchestration.runner import run_range

    _range(a.start, a.end)
    landing = _check_landing(a.landing)
    bootstrap()
    report = run_range(landing, a.start, a.end, marts=not a.no_marts, quiet=not a.verbose)
    for dag_id, state, secs in report.runs:
        print(f"  {dag_id:<24} {state:<8} {secs:8.1f}s")
    _print_locations()
    return 0


def _check_landing(landing: str) -> str:
    if "://" in landing and not landing.startswith("file://"):
        return landing  # object storage: checked by the sensor
    path = Path(landing.removeprefix("file://"))
    if not path.is_dir():
        raise UsageError(f"landing directory not found: {path}")
    return str(path.resolve())


def cmd_demo(a: argparse.Namespace) -> int:
    from msdw.config import settings

    _range(a.start, a.end)
    s = settings()
    landing = s.home / "demo-landing"
    t0 = time.perf_counter()
    print(f"[1/3] generating sample extracts ({a.profile}, {a.start}..{a.end}, seed {a.seed}, "
          f"defects {a.defects}) → {landing}", flush=True)
    from msdw.generate import generate

    generate(landing, a.start, a.end, profile=a.profile, seed=a.seed, defects=a.defects,
             formats=("csv", "bom", "gb18030", "xlsx"))
    print("[2/3] bootstrapping the warehouse", flush=True)
    from msdw.bootstrap import bootstrap

    bootstrap()
    print("[3/3] running the pipeline DAGs (ingest ×4 → transform_warehouse → refresh_monthly_marts)", flush=True)
    from msdw.orchestration.runner import run_range

    run_range(str(landing), a.start, a.end, quiet=not a.verbose)
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f}s")
    _print_locations()
    return 0


def _print_locations() -> None:
    from msdw import warehouse
    from msdw.config import settings

    s = settings()
    print("\nWhere things are:")
    print(f"  warehouse : {warehouse.describe()}")
    print("  marts     : schema marts (indicator_monthly, registration_monthly, sampling_monthly, "
          "equipment_monthly, complaints_monthly)")
    print(f"  reports   : {s.reports_dir}")
    if s.reports_dir.exists():
        for p in sorted(s.reports_dir.glob("*.html")):
            print(f"              {p}")
        docs = s.reports_dir / "gate_docs" / "index.html"
        if docs.exists():
            print(f"              {docs}  (quality gate pages; msdw docs serves them with the dbt docs)")
    print(f"  airflow   : AIRFLOW_HOME={s.airflow_home}  (msdw airflow dags list)")


def cmd_status(a: argparse.Namespace) -> int:
    from msdw import warehouse

    _print_locations()
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select feed, max(business_date), count(*) filter (where status in ('loaded','replaced')),"
            " sum(rows_loaded), sum(rows_quarantined) from audit.load_files group by feed order by feed"
        ).fetchall()
        print("\nLoads (feed, last business date, files loaded, rows loaded, rows quarantined):")
        for r in rows:
            print(f"  {r[0]:<24} {r[1]}  {r[2]:>6} {r[3] or 0:>10} {r[4] or 0:>8}")
        has_pub = conn.execute("select to_regclass('audit.publications')").fetchone()[0]
        if has_pub:
            pubs = conn.execute(
                "select publication_id, run_id, as_of_date, published_at from audit.publications"
                " order by publication_id desc limit 5"
            ).fetchall()
            print("\nLatest publications:")
            for p in pubs:
                print(f"  #{p[0]} as of {p[2]} by {p[1]} at {p[3]:%Y-%m-%d %H:%M}")
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    from msdw.quality.gate_docs import build_gate_docs
    from msdw.quality.report import build_quality_report, build_work_report, write_pdf

    q = build_quality_report(a.month)
    print(f"quality report: {q}")
    print(f"gate pages    : {build_gate_docs(months=[a.month])}")
    if not a.no_pdf:
        from msdw.browser import chromium_path

        try:
            chromium_path()
        except Exception as exc:  # noqa: BLE001 - the HTML is the report; the PDF is its print
            print(f"quality report PDF skipped: {exc}", file=sys.stderr)
        else:
            print(f"quality report PDF (for signature and filing): "
                  f"{write_pdf(q, title=f'数据质量月报 {a.month.year}年{a.month.month}月')}")
    w = build_work_report(a.month)
    print(f"work report   : {w}")
    return 0


def cmd_publish(a: argparse.Namespace) -> int:
    from msdw import warehouse

    if a.restore is not None:
        from msdw.quality import restore_publication

        if not a.reason or not a.reason.strip():
            raise UsageError("--restore needs --reason TEXT (why BI must read an earlier publication; recorded)")
        pub = restore_publication(a.restore, by=a.by, reason=a.reason)
        print(f"marts now point at publication {a.restore} (recorded as {pub}, by {pub.actor}: {pub.reason})")
        return 0
    with warehouse.connect() as conn:
        for p in conn.execute(
            "select publication_id, run_id, as_of_date, published_at at time zone 'Asia/Shanghai',"
            " replaces_publication_id, coalesce(actor, 'pipeline'), reason"
            " from audit.publications order by publication_id"
        ).fetchall():
            why = f"  ({p[6]})" if p[6] else ""
            print(f"#{p[0]:<5} as of {p[2]}  run {p[1]}  at {p[3]:%Y-%m-%d %H:%M:%S} Asia/Shanghai  "
                  f"replaces {p[4]}  by {p[5]}{why}")
    return 0


def cmd_docs(a: argparse.Namespace) -> int:
    """Gate pages from the audit, dbt docs (generated unless --no-generate), served on 127.0.0.1."""
    import os

    from msdw import docs_server
    from msdw.config import DBT_PROJECT_DIR, settings
    from msdw.quality.gate_docs import build_gate_docs

    s = settings()
    gate_index = build_gate_docs()
    dbt_target = Path(os.environ.get("DBT_TARGET_PATH") or DBT_PROJECT_DIR / "target")  # as msdw.dbt_runner
    if not a.no_generate:
        from msdw.dbt_runner import run_dbt

        print("generating the dbt docs (dbt docs generate --static) …", flush=True)
        try:
            run_dbt(["docs", "generate", "--static"])
        except Exception as exc:  # noqa: BLE001 - serve what there is, say what failed
            print(f"dbt docs generate failed: {exc}", file=sys.stderr)
    server = docs_server.start({"/dbt/": dbt_target, "/": s.reports_dir}, port=a.port)
    print("Documentation (local, no network needed):")
    if (dbt_target / "index.html").exists():
        print(f"  dbt docs      : {docs_server.url(server, '/dbt/index.html')}")
        if (dbt_target / "static_index.html").exists():
            print(f"                  (one file, opens from disk: {dbt_target / 'static_index.html'})")
    else:
        print(f"  dbt docs      : not generated yet ({dbt_target}/index.html missing: run without --no-generate)")
    print(f"  quality gates : {docs_server.url(server, '/' + gate_index.relative_to(s.reports_dir).as_posix())}")
    print(f"  reports       : {docs_server.url(server, '/')}  ({s.reports_dir})")
    if a.no_serve:
        server.shutdown()
        return 0
    print("Ctrl-C stops the server.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        server.shutdown()


def cmd_airflow(a: argparse.Namespace) -> int:
    from msdw.orchestration import airflow_env

    airflow_env.prepare(reserialize=bool(a.args) and a.args[0] == "dags")
    return airflow_env.airflow_cli(*a.args, check=False).returncode


def cmd_serve(a: argparse.Namespace) -> int:
    from msdw.bootstrap import bootstrap
    from msdw.orchestration import services

    bootstrap()
    svc = services.start(a.port)
    print(f"Airflow is up: UI/API {svc.base_url} (scheduler, dag-processor, triggerer, api-server"
          f"{', celery-worker' if 'celery-worker' in svc.procs else ''}); Ctrl-C stops it.", flush=True)
    try:
        while all(svc.alive().values()):
            time.sleep(2)
        print(f"a component stopped: {svc.alive()}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 0
    finally:
        svc.stop()


def cmd_waive(a: argparse.Namespace) -> int:
    from msdw.ingest.loader import waive_delivery

    waiver_id = waive_delivery(a.source, a.date, a.reason, by=a.by)
    print(f"waiver {waiver_id}: {a.source} {a.date} accepted as never delivered ({a.reason})")
    return 0


def cmd_stop(a: argparse.Namespace) -> int:
    from msdw import warehouse
    from msdw.config import settings

    s = settings()
    if not s.embedded:
        print("MSDW_WAREHOUSE_DSN is set: the warehouse is not the embedded one, nothing to stop")
        return 0
    print(f"embedded PostgreSQL in {s.pgdata}: " + ("stopped" if warehouse.stop_embedded() else "not running"))
    return 0


def cmd_dbt(a: argparse.Namespace) -> int:
    import yaml

    from msdw.dbt_runner import run_dbt

    args, extra_vars = list(a.args), {}
    # the runner passes the project's vars itself: merge the caller's --vars into them
    while "--vars" in args:
        i = args.index("--vars")
        if i + 1 >= len(args):
            raise UsageError("--vars needs a YAML mapping, e.g. --vars '{msdw_run_id: my-run}'")
        value = yaml.safe_load(args[i + 1])
        if not isinstance(value, dict):
            raise UsageError(f"--vars must be a YAML mapping, got {args[i + 1]!r}")
        extra_vars.update(value)
        del args[i:i + 2]
    run_dbt(args, vars=extra_vars)
    return 0


# --- parser -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="msdw", description="Market Supervision Data Warehouse (市场监管数据仓库)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write sample daily extracts per the extract contracts")
    g.add_argument("--out", required=True)
    g.add_argument("--start", required=True, type=_date)
    g.add_argument("--end", required=True, type=_date)
    g.add_argument("--profile", default="district", choices=["district", "city", "province"])
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--defects", type=float, default=0.0, help="row-level defect rate, e.g. 0.02")
    g.add_argument("--formats", default="csv", help="comma list of csv,bom,gb18030,xlsx")
    g.add_argument("--file-defects", nargs="*", metavar="KIND:FEED:DATE",
                   help="file-level faults: extra_column, renamed_column, missing_column, truncated, ...")
    g.set_defaults(func=cmd_generate)

    b = sub.add_parser("bootstrap", help="create schemas, roles, audit and raw tables (idempotent)")
    b.set_defaults(func=cmd_bootstrap)

    r = sub.add_parser("run", help="run the DAGs for a range of business dates, then the marts")
    r.add_argument("--landing", required=True)
    r.add_argument("--from", dest="start", required=True, type=_date)
    r.add_argument("--to", dest="end", required=True, type=_date)
    r.add_argument("--no-marts", action="store_true", help="stop after the warehouse layer")
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="generate a district year, run it end to end, report")
    d.add_argument("--start", type=_date, default=date(2025, 1, 1))
    d.add_argument("--end", type=_date, default=date(2025, 12, 31))
    d.add_argument("--profile", default="district", choices=["district", "city", "province"])
    d.add_argument("--seed", type=int, default=2025)
    d.add_argument("--defects", type=float, default=0.01)
    d.set_defaults(func=cmd_demo)

    s = sub.add_parser("status", help="where things are, latest loads and publications")
    s.set_defaults(func=cmd_status)

    rp = sub.add_parser("report", help="monthly quality report and work report (HTML)")
    rp.add_argument("--month", required=True, type=_month)
    rp.add_argument("--no-pdf", action="store_true", help="skip the PDF of the quality report (headless Chromium)")
    rp.set_defaults(func=cmd_report)

    pb = sub.add_parser("publish", help="list publications or restore an earlier one")
    grp = pb.add_mutually_exclusive_group()
    grp.add_argument("--list", action="store_true", default=True)
    grp.add_argument("--restore", type=int, metavar="PUBLICATION_ID")
    pb.add_argument("--by", metavar="NAME", help="with --restore: the person taking the decision (recorded; default: the OS user)")
    pb.add_argument("--reason", help="with --restore: why BI must read an earlier publication (required, recorded)")
    pb.set_defaults(func=cmd_publish)

    sv = sub.add_parser("serve", help="run Airflow's scheduler, dag-processor, triggerer and api-server here")
    sv.add_argument("--port", type=int, default=8080)
    sv.set_defaults(func=cmd_serve)

    wv = sub.add_parser("waive", help="accept that a source will never deliver a business date (with a reason)")
    wv.add_argument("--source", required=True)
    wv.add_argument("--date", required=True, type=_date)
    wv.add_argument("--reason", required=True, help="why the day will never be delivered (recorded)")
    wv.add_argument("--by", metavar="NAME", help="the person taking the decision (recorded; default: the OS user)")
    wv.set_defaults(func=cmd_waive)

    st = sub.add_parser("stop", help="stop the embedded PostgreSQL (it otherwise keeps running for the next command)")
    st.set_defaults(func=cmd_stop)

    dc = sub.add_parser("docs", help="serve the dbt docs, the quality gate pages and the reports on 127.0.0.1")
    dc.add_argument("--port", type=int, default=8081, help="local port (0: any free port)")
    dc.add_argument("--no-generate", action="store_true", help="serve the dbt docs as last generated")
    dc.add_argument("--no-serve", action="store_true", help="write the pages, print where they are, do not serve")
    dc.set_defaults(func=cmd_docs)

    af = sub.add_parser("airflow", help="airflow CLI with the project's settings", add_help=False)
    af.add_argument("args", nargs=argparse.REMAINDER)
    af.set_defaults(func=cmd_airflow)

    dbt = sub.add_parser("dbt", help="dbt with the project's profile", add_help=False)
    dbt.add_argument("args", nargs=argparse.REMAINDER)
    dbt.set_defaults(func=cmd_dbt)
    return p


def main(argv: list[str] | None = None) -> int:
    import os

    # pgserver/platformdirs warn on every start without it
    os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}")
    parser = build_parser()
    a = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return a.func(a)
    except UsageError as exc:
        print(f"msdw {a.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the edge: one clear line, details with -v
        if a.verbose:
            raise
        print(f"msdw {a.command}: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
