#!/usr/bin/env python3
"""Latency of tag (author, region) list pages walked by cursor, for one or more newsdesk
binaries, alternating.

    python3 bench/tag_pages.py [--by tag,author,region] [--lang LANG] DATABASE PAGES ROUNDS BINARY [BINARY ...]

DATABASE is a SQLite file (a corpus of bench/run.py, or a copy of one) or a
postgres:// URL. For every tag (with `--by`, every author or region too), three orders
(newest first, newest first in Arabic, oldest first) are walked by `next_cursor`, up to
PAGES pages of 20; only the pages
after the first are timed (with `--lang`, only the two orders in that language:
newest first and oldest first): they never repeat, so the response cache never answers,
and they carry no total. One client, requests one after another. Each round starts
each binary in turn on the same database (reads only), so both see the same machine
noise. Prints the median, p90 and p99 per binary and round.
"""

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

SECRET = "bench-tag-pages-secret-of-at-least-32-chars"


TABLES = {"tag": "tags", "author": "authors", "region": "regions"}


def slugs(db, kind):
    sql = f"select slug from {TABLES[kind]} order by id"
    if db.startswith("postgres"):
        cmd = ["psql", db, "-At", "-c", sql]
    else:
        cmd = ["sqlite3", db, sql]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    return [(kind, slug) for slug in out]


def timed(url):
    start = time.perf_counter()
    body = urllib.request.urlopen(url).read()
    return time.perf_counter() - start, json.loads(body)


def walk(port, filters, pages, lang):
    base = f"http://127.0.0.1:{port}/api/v1/articles"
    seconds = []
    orders = ["", "&lang=ar", "&sort=published_at"]
    if lang:
        orders = [f"&lang={lang}", f"&lang={lang}&sort=published_at"]
    for order in orders:
        for kind, slug in filters:
            cursor = None
            for _ in range(pages):
                url = f"{base}?{kind}={slug}&per_page=20{order}"
                if cursor:
                    url += f"&cursor={cursor}"
                took, page = timed(url)
                if cursor:
                    seconds.append(took)
                cursor = page["meta"]["next_cursor"]
                if not cursor:
                    break
    return sorted(seconds)


def serve(binary, db, port):
    env = dict(os.environ, DATABASE_URL=db, BIND_ADDR=f"127.0.0.1:{port}",
               JWT_SECRET=SECRET, RUST_LOG="warn")
    server = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/livez")
            return server
        except OSError:
            if server.poll() is not None:
                sys.exit(f"{binary} exited with {server.returncode}")
            time.sleep(0.2)


def main():
    args = sys.argv[1:]
    kinds = ["tag"]
    if args[:1] == ["--by"] and len(args) > 1:
        kinds = args[1].split(",")
        args = args[2:]
    lang = None
    if args[:1] == ["--lang"] and len(args) > 1:
        lang = args[1]
        args = args[2:]
    if len(args) < 4 or any(k not in TABLES for k in kinds):
        sys.exit(__doc__)
    db, pages, rounds, binaries = args[0], int(args[1]), int(args[2]), args[3:]
    filters = [f for kind in kinds for f in slugs(db, kind)]
    for r in range(rounds):
        for i, binary in enumerate(binaries):
            port = 7900 + i
            server = serve(binary, db, port)
            try:
                seconds = walk(port, filters, pages, lang)
            finally:
                server.terminate()
                server.wait()
            ms = [s * 1e3 for s in seconds]
            print(f"round {r} {binary}: {len(ms)} pages, median {statistics.median(ms):.2f} ms, "
                  f"p90 {ms[int(len(ms) * 0.9)]:.2f}, p99 {ms[int(len(ms) * 0.99)]:.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
