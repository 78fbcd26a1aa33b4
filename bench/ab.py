#!/usr/bin/env python3
"""A/B of two newsdesk binaries on the corpus of bench/run.py (SQLite, or PostgreSQL), alternating.

    python3 bench/ab.py OLD_BINARY NEW_BINARY [--articles 10000 [--body-words 80]] [--rounds 3]
                        [--seconds 8]
                        [--backend postgres [--pg-url URL]]

Each round starts each binary in turn on a fresh copy of the same corpus and runs the
same wrk loads against it (64 connections, after a warm-up), so both see the same
machine noise over the run. Prints requests/s and server CPU µs per request for each
round and the median ratio new/old per load. For a change on a hot path, where two
separate bench/run.py runs on this shared machine differ by more than the change.
With --backend postgres the corpus is bench/run.py's PostgreSQL corpus database, copied
afresh for each server, and PostgreSQL's CPU per request is printed too.
"""

import argparse
import hashlib
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: corpus, servers, wrk)


def loads(slugs, tags, authors, token):
    def creating(reads, share):
        return run.CREATE_LUA % (json.dumps(token), run.lua_list(tags),
                                 run.lua_list(authors), run.lua_list(reads), share)
    # bench/run.py's newsroom mix: 90% article pages, 5% front page, 5% tag pages.
    newsroom = ([f"/api/v1/articles/{s}" for s in slugs[:1000]]
                + ["/api/v1/articles?per_page=20"] * 56
                + [f"/api/v1/articles?tag={t}" for t in tags] * 2)
    # bench/run.py's list-heavy mix: 80% article pages, 8% front page, 12% tag pages.
    list_heavy = ([f"/api/v1/articles/{s}" for s in slugs[:200]]
                  + ["/api/v1/articles?per_page=20"] * 20
                  + [f"/api/v1/articles?tag={t}" for t in tags])
    return [
        ("article creates, 8 clients", creating([], 1.0), 8),
        ("newsroom mix, read-only", run.lua_paths(newsroom), 64),
        ("newsroom mix, 95% read / 5% create", creating(newsroom, 0.05), 64),
        ("list-heavy mix, read-only", run.lua_paths(list_heavy), 64),
        ("list-heavy mix, 95% read / 5% create", creating(list_heavy, 0.05), 64),
    ] + [(name, script, 64) for name, script in reads(slugs, tags)]


def reads(slugs, tags):
    return [
        ("article by slug, beyond the cache", run.lua_paths([f"/api/v1/articles/{s}" for s in slugs])),
        ("article by slug, cached", run.lua_paths([f"/api/v1/articles/{s}" for s in slugs[:200]])),
        ("include=related,next, beyond the cache",
         run.lua_paths([f"/api/v1/articles/{s}?include=related,next" for s in slugs])),
        ("include=related,next, cached",
         run.lua_paths([f"/api/v1/articles/{s}?include=related,next" for s in slugs[:200]])),
        ("/related, cached",
         run.lua_paths([f"/api/v1/articles/{s}/related" for s in slugs[:200]])),
        ("newest 20", run.lua_paths(["/api/v1/articles?per_page=20"])),
        ("by tag", run.lua_paths([f"/api/v1/articles?tag={t}" for t in tags])),
        ("search, distinct queries", run.lua_paths(run.search_paths(True))),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--only", default=None,
                    help="run only the loads whose name contains this text")
    ap.add_argument("--seed-with", choices=("old", "new", "each"), default="new",
                    help="which binary seeds the corpus (old when NEW adds a migration: "
                         "it then migrates each fresh copy at start); each: every binary "
                         "reads a corpus it seeded itself (SQLite only: for binaries far "
                         "apart, where a copy migrated at start carries none of the new "
                         "binary's statistics and its migrations' pages in the WAL)")
    ap.add_argument("--body-words", type=int, default=None,
                    help="the corpus of bench/run.py --body-words N (e.g. 80 for its 1M runs)")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("NEWSDESK_BENCH_PG_URL") or run.DEFAULT_PG_URL,
                    help="a PostgreSQL server to create the corpus and working databases on")
    args = ap.parse_args()
    run.BODY_WORDS = args.body_words
    run.ensure_wrk()
    seeder = os.path.abspath(args.old if args.seed_with == "old" else args.new)
    if args.seed_with == "each" and args.backend == "postgres":
        raise SystemExit("--seed-with each is for SQLite")
    if args.backend == "postgres":
        pg = run.Postgres(args.pg_url)
        corpus_name, _ = run.corpus_pg(seeder, pg, args.articles)
        slugs, tags, authors = run.sample_corpus_pg(pg, corpus_name_sampled(pg, corpus_name),
                                                    args.articles)

        def fresh():
            url = run.working_copy_pg(pg, corpus_name)
            run.PG_METER = run.PgCpu(pg, run.PG_RUN_DB)
            return url
    elif args.seed_with == "each":
        paths = {label: own_corpus(binary, args.articles)
                 for label, binary in (("old", args.old), ("new", args.new))}
        slugs, tags, authors = run.sample_corpus(paths["new"], args.articles)
        # Only what both corpora hold: a path one of them lacks would measure a 404.
        old_slugs, old_tags, old_authors = run.sample_corpus(paths["old"], args.articles)
        kept = set(old_slugs)
        slugs = [x for x in slugs if x in kept]
        tags = [x for x in tags if x in set(old_tags)]
        authors = [x for x in authors if x in set(old_authors)]
        print(f"{len(slugs):,} slugs in both corpora", flush=True)

        def fresh(label):
            return run.working_copy(paths[label])
    else:
        path, _ = run.corpus(seeder, args.articles)
        slugs, tags, authors = run.sample_corpus(path, args.articles)

        def fresh():
            return run.working_copy(path)
    names = [name for name, _, _ in loads(slugs, tags, authors, "")]
    if args.only and not any(args.only in name for name in names):
        raise SystemExit(f"--only {args.only!r} names none of the loads: " + "; ".join(names))
    port = run.free_port(run.NEWSDESK_PORT)
    figures = {}
    for r in range(args.rounds):
        for label, binary in (("old", args.old), ("new", args.new)):
            db = fresh(label) if args.seed_with == "each" else fresh()
            env = dict(os.environ, DATABASE_URL=db, BIND_ADDR=f"127.0.0.1:{port}",
                       RUST_LOG="warn", ADMIN_EMAIL=run.ADMIN_EMAIL,
                       ADMIN_PASSWORD=run.ADMIN_PASSWORD, SEARCH_BURST="100000",
                       SEARCH_RATE="100000")
            server = run.Server(f"newsdesk-ab-{label}", [os.path.abspath(binary)], port, env=env,
                                uses_pg=args.backend == "postgres")
            try:
                _, _, signed = run.api(port, "/api/v1/auth/token", method="POST",
                                       body={"email": run.ADMIN_EMAIL,
                                             "password": run.ADMIN_PASSWORD})
                token = signed["access_token"]
                for name, script, conns in loads(slugs, tags, authors, token):
                    if args.only and args.only not in name:
                        continue
                    got = run.wrk(port, script, conns, 2, args.seconds, args.warmup, server)
                    figures.setdefault(name, {}).setdefault(label, []).append(got)
                    pg_cpu = (f", PostgreSQL {got['pg_cpu_us']:.1f} µs"
                              if got.get("pg_cpu_us") is not None else "")
                    print(f"round {r + 1} {label}: {name}: {got['rps']:,.0f} req/s, "
                          f"{got.get('cpu_us', float('nan')):.1f} µs CPU/req{pg_cpu}, "
                          f"p50 {got['p50']:.2f} ms, p99 {got['p99']:.2f} ms, "
                          f"{got['errors']:,} errors, peak RSS {got['rss_mb']:.0f} MB", flush=True)
            finally:
                server.stop()
    print("\nload | old req/s (median) | new req/s (median) | new/old | old µs CPU | new µs CPU")
    for name, by in figures.items():
        o = statistics.median(x["rps"] for x in by["old"])
        n = statistics.median(x["rps"] for x in by["new"])
        oc = statistics.median(x.get("cpu_us", float("nan")) for x in by["old"])
        nc = statistics.median(x.get("cpu_us", float("nan")) for x in by["new"])
        line = f"{name} | {o:,.0f} | {n:,.0f} | {n / o:.2f}× | {oc:.1f} | {nc:.1f}"
        if all(x.get("pg_cpu_us") is not None for x in by["old"] + by["new"]):
            op = statistics.median(x["pg_cpu_us"] for x in by["old"])
            np_ = statistics.median(x["pg_cpu_us"] for x in by["new"])
            line += f" | PostgreSQL {op:.1f} → {np_:.1f} µs CPU"
        print(line)


def own_corpus(binary, n):
    """A corpus of n articles seeded by `binary` alone (`--seed-with each`), kept beside
    bench/run.py's under the binary's own hash, so a later A/B of another build never
    reads a corpus this one seeded."""
    os.makedirs(run.OUT, exist_ok=True)
    with open(binary, "rb") as f:
        build = hashlib.sha256(f.read()).hexdigest()[:12]
    path = os.path.join(run.OUT, f"ab-{build}-corpus-{n}{run.corpus_suffix()}.db")
    if not os.path.exists(path):
        run.seed_file(binary, path, n)
    return path


def corpus_name_sampled(pg, corpus_name):
    """A database to sample the corpus from: the corpus itself refuses connections (it
    is a template), so a working copy is made for the sample."""
    run.working_copy_pg(pg, corpus_name)
    return run.PG_RUN_DB


if __name__ == "__main__":
    main()
