#!/usr/bin/env python3
"""How long a newsroom takes to move: `newsdesk export` of bench/run.py's corpus and
`newsdesk import` of that file into an empty database, on SQLite and optionally on
PostgreSQL, with each command's peak memory (max RSS) and the file's size.

    python3 bench/transfer.py [--articles 100000] [--backend sqlite|postgres|both]
                              [--pg-url URL] [--smoke]

Uses the release binary (debug with --smoke) and the corpus bench/run.py seeds (made
once, reused). The export reads a fresh copy of the corpus; the import goes into a new
SQLite file (or a new PostgreSQL database, dropped afterwards). Prints one line per
step: seconds, records per second, max RSS in MB. Targets: export and import each
under 60 s for 100,000 articles on SQLite.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: build, corpus, psql)


def timed(cmd, env):
    """Runs cmd; returns (seconds, that process's max RSS in MB, its stderr)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        # wait4 gives the resources of this child alone (ru_maxrss in kB on Linux).
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        err.seek(0)
        said = err.read().decode(errors="replace").strip()
    if child.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{said}")
    return seconds, usage.ru_maxrss / 1024, said


def summary_of(said):
    """The import's `imported N records ...` line."""
    lines = [l for l in said.splitlines() if l.startswith("imported ")]
    return lines[-1] if lines else said.splitlines()[-1] if said else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("NEWSDESK_BENCH_PG_URL", run.DEFAULT_PG_URL))
    ap.add_argument("--smoke", action="store_true", help="1,000 articles, debug build")
    args = ap.parse_args()
    if args.smoke:
        args.articles = 1_000
    newsdesk, _ = run.build("debug" if args.smoke else "release")
    corpus, _ = run.corpus(newsdesk, args.articles)
    source = run.working_copy(corpus)
    out = os.path.join(run.OUT, "transfer")
    os.makedirs(out, exist_ok=True)
    export_file = os.path.join(out, f"export-{args.articles}.ndjson")
    if os.path.exists(export_file):
        os.remove(export_file)
    env = dict(os.environ, DATABASE_URL=source, RUST_LOG="warn",
               ADMIN_EMAIL=run.ADMIN_EMAIL, ADMIN_PASSWORD=run.ADMIN_PASSWORD)
    seconds, rss, said = timed([newsdesk, "export", "-o", export_file], env)
    size = os.path.getsize(export_file) / 1e6
    with open(export_file, "rb") as f:
        records = sum(1 for _ in f) - 1
    print(f"export  SQLite     {args.articles:>9,} articles: {seconds:6.1f} s, "
          f"{records / seconds:8,.0f} records/s, max RSS {rss:5.0f} MB, file {size:,.0f} MB  ({said})")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "sqlite":
            target = os.path.join(out, "import.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(target + suffix):
                    os.remove(target + suffix)
            url, cleanup = target, None
        else:
            pg = run.Postgres(args.pg_url)
            name = f"nd_transfer_{os.getpid()}"
            pg.sql(f"CREATE DATABASE {name}")
            url = pg.db_url(name)
            cleanup = lambda: pg.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # noqa: E731
        try:
            env = dict(env, DATABASE_URL=url)
            seconds, rss, said = timed([newsdesk, "import", export_file], env)
            label = "SQLite    " if backend == "sqlite" else "PostgreSQL"
            print(f"import  {label} {args.articles:>9,} articles: {seconds:6.1f} s, "
                  f"{records / seconds:8,.0f} records/s, max RSS {rss:5.0f} MB  ({summary_of(said)})")
        finally:
            if cleanup:
                cleanup()
    os.remove(export_file)


if __name__ == "__main__":
    main()
