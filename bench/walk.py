#!/usr/bin/env python3
"""Cold cursor walks: the time of each page of an article list walked by `next_cursor`,
each page read once, on a running newsdesk that has served none of them yet.

    python3 bench/walk.py BINARY DATABASE_URL [--pages 1500] [--filter "&tag=corpus-aviation"]

Starts BINARY on DATABASE_URL (a SQLite file or a PostgreSQL URL: use a copy, the server
applies its migrations and writes), walks `/api/v1/articles?per_page=20` plus the filter
from the first page on, stops the server, and prints p50, p99 and max of the pages and
the mean of the last ten (how a page costs as the walk goes deeper). For comparing two
binaries on the corpus of `bench/run.py`, one after the other on the same machine.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: ports, admin account, percentiles)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("database_url")
    ap.add_argument("--pages", type=int, default=1500)
    ap.add_argument("--filter", default="", help='added to each page\'s query, e.g. "&tag=x"')
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary}: not an executable file")
    times = on_fresh_server(args.binary, args.database_url,
                            lambda port: walk(port, args.pages, args.filter))
    ordered = sorted(times)
    tail = times[-10:]
    print(f"pages {len(times)} p50 {run.percentile(ordered, 50):.2f} "
          f"p99 {run.percentile(ordered, 99):.2f} max {ordered[-1]:.2f} "
          f"last ten {sum(tail) / len(tail):.2f} ms")


def on_fresh_server(binary, database_url, work):
    """Starts BINARY on DATABASE_URL, runs `work(port)` once it answers, stops it, and
    returns what `work` gave."""
    port = run.free_port(run.NEWSDESK_PORT)
    env = dict(os.environ, DATABASE_URL=database_url, BIND_ADDR=f"127.0.0.1:{port}",
               ADMIN_EMAIL=run.ADMIN_EMAIL, ADMIN_PASSWORD=run.ADMIN_PASSWORD, RUST_LOG="warn")
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen([binary], env=env, stdout=log, stderr=log,
                                  start_new_session=True)
        try:
            ready(port, server, log)
            return work(port)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)


def ready(port, server, log, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            last = log.read().decode(errors="replace").strip().splitlines()[-3:]
            sys.exit(f"the server exited with {server.returncode}: " + " / ".join(last))
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not answer /healthz")


def walk(port, pages, extra):
    path, times = f"/api/v1/articles?per_page=20{extra}", []
    for _ in range(pages):
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
                page = json.load(r)
        except urllib.error.HTTPError as e:
            sys.exit(f"{path}: {e.code} {e.read().decode(errors='replace')}")
        times.append((time.monotonic() - started) * 1000)
        cursor = page["meta"]["next_cursor"]
        if not cursor:
            break
        path = f"/api/v1/articles?per_page=20{extra}&cursor={cursor}"
    return times


if __name__ == "__main__":
    main()
