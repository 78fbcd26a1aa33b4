#!/usr/bin/env python3
"""The sitemap index read cold with as many children as a ten-million-story archive has,
for two binaries, alternating; and each binary's start on a fresh copy of the corpus.

    python3 bench/sitemap_index.py OLD NEW [--articles 100000] [--blocks 4000] [--rounds 3]
                                   [--backend postgres [--pg-url URL]]
                                   [--path /sitemaps/articles-1.xml]

Each round, for each binary: a fresh copy of bench/run.py's corpus of --articles stories
(the SQLite file, or with --backend postgres its database bench_corpus_<N>); the binary
starts on it once (its start time, migrations included, is reported) and stops; then
the copy gets counted blocks up to --blocks (rows of `article_counts` kind 5, and for a
binary that keeps them, `sitemap_blocks` times), so the index names as many children as
an archive of --blocks × 2,500 ids; then five times: start, time the first
`GET /sitemap.xml` (or of --path, a child, say), stop. Prints the cold reads' median and
max, the document's size, how many children or URLs it names and how many `<lastmod>`,
and whether it came with a `Last-Modified`.
"""

import argparse
import os
import sqlite3
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: corpus, servers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--blocks", type=int, default=4_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--path", default="/sitemap.xml", help="the document read cold")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--pg-url",
                    default=os.environ.get("NEWSDESK_BENCH_PG_URL") or run.DEFAULT_PG_URL,
                    help="a PostgreSQL server to make the corpus and working databases on")
    args = ap.parse_args()
    on_pg = args.backend == "postgres"
    if on_pg:
        pg = run.Postgres(args.pg_url)
        corpus, _ = run.corpus_pg(os.path.abspath(args.old), pg, args.articles)
    else:
        corpus, _ = run.corpus(os.path.abspath(args.old), args.articles)
    port = run.free_port(run.NEWSDESK_PORT)
    env = dict(os.environ, BIND_ADDR=f"127.0.0.1:{port}", RUST_LOG="warn",
               ADMIN_EMAIL=run.ADMIN_EMAIL, ADMIN_PASSWORD=run.ADMIN_PASSWORD)
    seen = {label: {"start": [], "cold": []} for label in ("old", "new")}
    for _ in range(args.rounds):
        for label in ("old", "new"):
            binary = os.path.abspath(getattr(args, label))
            db = run.working_copy_pg(pg, corpus) if on_pg else run.working_copy(corpus)
            env["DATABASE_URL"] = db
            server = run.Server(f"newsdesk-index-{label}", [binary], port, env=env,
                                uses_pg=on_pg)
            seen[label]["start"].append(server.startup_seconds)
            server.stop()
            if on_pg:
                add_blocks_pg(pg, args.blocks)
            else:
                add_blocks(db, args.blocks)
            for _ in range(5):
                server = run.Server(f"newsdesk-index-{label}", [binary], port, env=env,
                                    uses_pg=on_pg)
                try:
                    started = time.monotonic()
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{args.path}",
                                                timeout=60) as r:
                        body = r.read()
                        dated = r.headers.get("Last-Modified") is not None
                    seen[label]["cold"].append((time.monotonic() - started) * 1000)
                finally:
                    server.stop()
            seen[label]["bytes"] = len(body)
            seen[label]["entries"] = body.count(b"<sitemap>") + body.count(b"<url>")
            seen[label]["lastmods"] = body.count(b"<lastmod>")
            seen[label]["dated"] = "yes" if dated else "no"
    print(f"binary | start (s) | cold {args.path} p50 (ms) | max (ms) | bytes | "
          "children or URLs | with lastmod | Last-Modified")
    for label, s in seen.items():
        print(f"{label} | {statistics.median(s['start']):.2f} | "
              f"{statistics.median(s['cold']):.2f} | {max(s['cold']):.2f} | "
              f"{s['bytes']:,} | {s['entries']:,} | {s['lastmods']:,} | {s['dated']}")


def add_blocks(db, blocks):
    """Counted blocks (and their change times, where the schema keeps them) up to
    `blocks`, beside the corpus's own."""
    con = sqlite3.connect(db)
    have = {r[0] for r in con.execute("SELECT ref_id FROM article_counts WHERE kind = 5")}
    extra = [b for b in range(blocks) if b not in have]
    con.executemany("INSERT INTO article_counts (kind, ref_id, n) VALUES (5, ?, 2500)",
                    [(b,) for b in extra])
    timed = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'sitemap_blocks'").fetchone()
    if timed:
        now = int(time.time())
        con.executemany("INSERT INTO sitemap_blocks (block, changed_at) VALUES (?, ?)",
                        [(b, now - b) for b in extra])
    con.commit()
    con.close()


def add_blocks_pg(pg, blocks):
    """`add_blocks` on the PostgreSQL working copy."""
    db = run.PG_RUN_DB
    pg.sql("INSERT INTO article_counts (kind, ref_id, n) SELECT 5, b, 2500 "
           f"FROM generate_series(0, {blocks - 1}) AS b "
           "WHERE b NOT IN (SELECT ref_id FROM article_counts WHERE kind = 5)", db=db)
    if pg.sql("SELECT to_regclass('sitemap_blocks') IS NOT NULL", db=db)[0][0] == "t":
        now = int(time.time())
        pg.sql("INSERT INTO sitemap_blocks (block, changed_at) SELECT b, "
               f"{now} - b FROM generate_series(0, {blocks - 1}) AS b "
               "ON CONFLICT (block) DO NOTHING", db=db)


if __name__ == "__main__":
    main()
