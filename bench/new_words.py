#!/usr/bin/env python3
"""Searches whose words never repeat, for two newsdesk binaries alternating.

bench/run.py's distinct search load asks each of its 36 queries in 120 ways (languages,
orders, pages, page sizes), so a search may reuse the ranked matches of an earlier one
of the same words. This load asks every pair and every triple of the load's words of
four letters or more, in each language, newest first and by relevance (8,902 URLs,
shuffled), so that no two searches of a round share their words: what a search costs
when nothing can be reused.

    python3 bench/new_words.py OLD NEW [--articles 1000000 --body-words 80] [--rounds 2]
    python3 bench/new_words.py OLD NEW --backend postgres --articles 100000 --body-words 0
    python3 bench/new_words.py OLD NEW --links

With `--links` every search also names one of the corpus's tags, authors or regions
(in turn), as a search box on a tag, byline or region page would.

Each round runs both binaries, the order swapped from one round to the next, each from
the start of the same list of URLs. By default each server gets a fresh copy of the
corpus. With `--one-copy` (SQLite) every server of the run reads one copy made at the
start instead: these searches write nothing a later server reads (each keeps its
matches in memory), and at a million stories two fresh 4.3 GB copies a round crowd the
page cache, which moved rounds by more than the changes measured. Both binaries must
then share their migrations (the first server to start applies its own).

    python3 bench/new_words.py OLD NEW --one-copy --rounds 4 [--connections 8]

On PostgreSQL the corpus is bench/run.py's corpus database, copied for each run (see
bench/ab.py); `--body-words 0` is bench/run.py's full-length stories.
"""
import argparse
import itertools
import os
import random
import statistics
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: corpus, servers, wrk)


def paths():
    found = []
    for phrases in run.SEARCH_WORDS.values():
        words = sorted({w for p in phrases for w in p.split() if len(w) > 3})
        for chosen in itertools.chain(itertools.combinations(words, 2),
                                      itertools.combinations(words, 3)):
            q = urllib.parse.quote(" ".join(chosen))
            found.append(f"/api/v1/articles?q={q}")
            found.append(f"/api/v1/articles?q={q}&sort=-published_at")
    random.Random(7).shuffle(found)
    return found


def linked(urls, port):
    """`urls`, each with one of the corpus's tags, authors or regions, in turn (their
    slugs read from the server at `port`)."""
    kinds = []
    for kind, param in (("tags", "tag"), ("authors", "author"), ("regions", "region")):
        _, _, page = run.api(port, f"/api/v1/{kind}?per_page=100")
        kinds.append((param, sorted(x["slug"] for x in page["data"])))
    out = []
    for i, url in enumerate(urls):
        param, slugs = kinds[i % len(kinds)]
        out.append(f"{url}&{param}={slugs[(i // len(kinds)) % len(slugs)]}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--body-words", type=int, default=80)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--links", action="store_true",
                    help="each search also names a tag, an author or a region")
    ap.add_argument("--one-copy", action="store_true",
                    help="SQLite: every server reads one copy of the corpus made at the start")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--pg-url", default=os.environ.get("NEWSDESK_BENCH_PG_URL") or run.DEFAULT_PG_URL,
                    help="a PostgreSQL server to create the corpus and working databases on")
    args = ap.parse_args()
    if args.one_copy and args.backend == "postgres":
        ap.error("--one-copy is for SQLite")
    run.BODY_WORDS = args.body_words or None
    run.ensure_wrk()
    urls = paths()
    old, new = os.path.abspath(args.old), os.path.abspath(args.new)
    postgres = args.backend == "postgres"
    if postgres:
        pg = run.Postgres(args.pg_url)
        corpus, _ = run.corpus_pg(old, pg, args.articles)

        def fresh():
            url = run.working_copy_pg(pg, corpus)
            run.PG_METER = run.PgCpu(pg, run.PG_RUN_DB)
            return url
    else:
        corpus, _ = run.corpus(old, args.articles)
        shared = run.working_copy(corpus) if args.one_copy else None

        def fresh():
            return shared or run.working_copy(corpus)
    print(f"{len(urls)} URLs; corpus {corpus}", flush=True)
    rates = {"old": [], "new": []}
    for r in range(1, args.rounds + 1):
        pair = [("old", old), ("new", new)]
        for name, binary in (pair if r % 2 else pair[::-1]):
            db = fresh()
            port = run.free_port(run.NEWSDESK_PORT)
            env = dict(os.environ, DATABASE_URL=db, BIND_ADDR=f"127.0.0.1:{port}",
                       RUST_LOG="warn", ADMIN_EMAIL=run.ADMIN_EMAIL,
                       ADMIN_PASSWORD=run.ADMIN_PASSWORD,
                       SEARCH_BURST="100000", SEARCH_RATE="100000")
            server = run.Server(f"newsdesk-{name}", [binary], port, env=env, uses_pg=postgres)
            try:
                if args.links and "&tag=" not in urls[0]:
                    urls = linked(urls, port)
                got = run.wrk(port, run.lua_paths(urls), args.connections, 2, args.seconds, 2,
                              server)
            finally:
                server.stop()
            print(f"round {r} {name}: {got['rps']:.0f} req/s, {got['cpu_us']:.0f} µs CPU/req, "
                  + (f"PostgreSQL {got['pg_cpu_us']:.0f} µs, " if got.get("pg_cpu_us") else "")
                  + f"p50 {got['p50']:.1f} ms, p99 {got['p99']:.1f} ms, "
                  f"{got['requests']} requests, {got['errors']} errors", flush=True)
            rates[name].append(got["rps"])
    ratios = [n / o for o, n in zip(rates["old"], rates["new"]) if o]
    if ratios:
        print("new/old by round: " + ", ".join(f"{x:.2f}" for x in ratios)
              + f"; median {statistics.median(ratios):.2f}", flush=True)


if __name__ == "__main__":
    main()
