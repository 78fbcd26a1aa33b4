#!/usr/bin/env python3
"""Child sitemaps read cold: the time of every child the sitemap index names, each read
once, on a running newsdesk that has served none of them yet.

    python3 bench/sitemaps.py BINARY DATABASE_URL [--newest 0.2]

Starts BINARY on DATABASE_URL (a SQLite file or a PostgreSQL URL: use a copy, the server
applies its migrations and writes), reads `/sitemap.xml`, times each child in the order
the index lists them (oldest stories first), stops the server, and prints p50, p99 and
max for all of them, for the older ones and for the newest fraction (the last stories
a bulk load wrote). For comparing two databases or two binaries, one after the other on
the same machine.
"""

import argparse
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: ports, admin account, percentiles)
import walk  # noqa: E402  (bench/walk.py: waiting for the server)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("database_url")
    ap.add_argument("--newest", type=float, default=0.2,
                    help="the fraction of children reported apart, from the end")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary}: not an executable file")
    times = walk.on_fresh_server(args.binary, args.database_url, children)
    if not times:
        sys.exit("the sitemap index names no child")
    split = len(times) - max(1, int(len(times) * args.newest))
    for name, part in (("all", times), ("older", times[:split]), ("newest", times[split:])):
        ordered = sorted(part)
        print(f"{name:>6}: {len(part)} children, p50 {run.percentile(ordered, 50):.2f} "
              f"p99 {run.percentile(ordered, 99):.2f} max {ordered[-1]:.2f} ms")


def children(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sitemap.xml", timeout=60) as r:
        index = r.read().decode()
    times = []
    for path in re.findall(r"<loc>[^<]*(/sitemaps/articles-\d+\.xml)</loc>", index):
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
            r.read()
        times.append((time.monotonic() - started) * 1000)
    return times


if __name__ == "__main__":
    main()
