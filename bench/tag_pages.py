#!/usr/bin/env python3
"""Latency of tag list pages walked by cursor, for one or more newsdesk binaries, alternating.

    python3 bench/tag_pages.py DATABASE PAGES ROUNDS BINARY [BINARY ...]

DATABASE is a SQLite file (a corpus of bench/run.py, or a copy of one) or a
postgres:// URL. For every tag, three orders (newest first, newest first in Arabic,
oldest first) are walked by `next_cursor`, up to PAGES pages of 20; only the pages
after the first are timed: they never repeat, so the response cache never answers,
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


def tag_slugs(db):
    if db.startswith("postgres"):
        cmd = ["psql", db, "-At", "-c", "select slug from tags order by id"]
    else:
        cmd = ["sqlite3", db, "select slug from tags order by id"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()


def timed(url):
    start = time.perf_counter()
    body = urllib.request.urlopen(url).read()
    return time.perf_counter() - start, json.loads(body)


def walk(port, tags, pages):
    base = f"http://127.0.0.1:{port}/api/v1/articles"
    seconds = []
    for order in ["", "&lang=ar", "&sort=published_at"]:
        for tag in tags:
            cursor = None
            for _ in range(pages):
                url = f"{base}?tag={tag}&per_page=20{order}"
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
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    db, pages, rounds, binaries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    tags = tag_slugs(db)
    for r in range(rounds):
        for i, binary in enumerate(binaries):
            port = 7900 + i
            server = serve(binary, db, port)
            try:
                seconds = walk(port, tags, pages)
            finally:
                server.terminate()
                server.wait()
            ms = [s * 1e3 for s in seconds]
            print(f"round {r} {binary}: {len(ms)} pages, median {statistics.median(ms):.2f} ms, "
                  f"p90 {ms[int(len(ms) * 0.9)]:.2f}, p99 {ms[int(len(ms) * 0.99)]:.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
