#!/usr/bin/env python3
"""newsdesk's benchmark harness.

Builds newsdesk and the ceiling (a bare actix-web + Diesel + SQLite program in
bench/ceiling that shares no code with newsdesk), makes a corpus with
`newsdesk seed --articles N`, starts both servers on 127.0.0.1, drives every scenario
with wrk (installed with apt-get when missing) and writes a table to bench/RESULTS.md:
requests/s, p50, p99, errors and server RSS, with newsdesk's ratio to the ceiling.

    bench/run.py                      # 10,000 articles, 10 s per scenario
    bench/run.py --articles 100000
    bench/run.py --articles 1000000 --scaling   # p50 of the hot reads only
    bench/run.py --smoke              # CI: small corpus, 1 s each, zero errors or fail

Only the standard library is used.
"""

import argparse
import asyncio
import datetime
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
OUT = os.path.join(BENCH, "out")
RESULTS = os.path.join(BENCH, "RESULTS.md")
# Raw wrk outputs of every run written to RESULTS.md, committed beside it.
RAW = os.path.join(BENCH, "raw")
RAW_OUTPUTS = []
ADMIN_EMAIL = "bench@example.com"
ADMIN_PASSWORD = "bench-password-not-secret"
NEWSDESK_PORT = 18080
CEILING_PORT = 18090


def log(msg):
    print(f"[bench] {msg}", flush=True)
    if msg.startswith("scenario: "):
        RAW_OUTPUTS.append(f"## {msg}\n")


def run(cmd, **kw):
    log(" ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("wrk is missing; installing Debian's wrk")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "install", "-y", "wrk"], check=False)
    if not shutil.which("wrk"):
        subprocess.run(sudo + ["apt-get", "update"], check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "wrk"], check=True)


def build(profile):
    flag = ["--release"] if profile == "release" else []
    run(["cargo", "build", "--quiet", "--bin", "newsdesk"] + flag, cwd=ROOT)
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "target"))
    run(["cargo", "build", "--quiet"] + flag, cwd=os.path.join(BENCH, "ceiling"), env=env)
    target = os.path.join(ROOT, "target", profile)
    return os.path.join(target, "newsdesk"), os.path.join(target, "ceiling")


def corpus(newsdesk, n):
    """The seeded corpus for n articles, made once and reused (copied per run)."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"corpus-{n}.db")
    seconds = None
    if not os.path.exists(path):
        env = dict(os.environ, ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=ADMIN_PASSWORD,
                   DATABASE_URL=path, RUST_LOG="warn")
        started = time.monotonic()
        subprocess.run([newsdesk, "seed", "--articles", str(n)], check=True, env=env)
        seconds = time.monotonic() - started
        with open(path + ".seed-seconds", "w") as f:
            f.write(f"{seconds:.1f}")
    # A reused corpus was seeded by an earlier run: its time is not this run's to report.
    return path, seconds


def working_copy(path):
    """A fresh copy of the corpus, so that write scenarios never change the corpus."""
    copy = os.path.join(OUT, "work.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copyfile(path, copy)
    return copy


class Server:
    def __init__(self, name, cmd, port, env=None):
        self.name, self.port = name, port
        self.log = open(os.path.join(OUT, f"{name}.log"), "a")
        started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        self.startup_seconds = self.wait_ready(started)

    def wait_ready(self, started):
        url = f"http://127.0.0.1:{self.port}/" + ("healthz" if self.name == "newsdesk" else "static")
        while time.monotonic() - started < 60:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return time.monotonic() - started
            except Exception:
                time.sleep(0.005)
        raise SystemExit(f"{self.name} did not start; see bench/out/{self.name}.log")

    def rss_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def cpu_seconds(self):
        """User and system CPU time the server has used so far."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return float("nan")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# Creates per second in the open-loop mixed runs: far more than a newsroom publishes
# (a large one publishes a few hundred stories a day), so a generous peak.
OPEN_LOOP_CREATES = 50


def lua_paths(paths, method="GET", headers=None, body=None):
    quoted = ",\n".join(json.dumps(p) for p in paths)
    hdrs = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in (headers or {}).items())
    return f"""
local paths = {{
{quoted}
}}
local headers = {{ {hdrs} }}
local i = 0
request = function()
  i = i + 1
  return wrk.format({json.dumps(method)}, paths[(i % #paths) + 1], headers)
end
"""


CREATE_LUA = """
local counter = 0
local nonce = tostring(os.time()) .. tostring(math.random(100000, 999999))
local token = %s
local tags = %s
local authors = %s
local reads = %s
local write_share = %s
local i = 0
request = function()
  i = i + 1
  if #reads > 0 and math.random() >= write_share then
    return wrk.format("GET", reads[(i %% #reads) + 1])
  end
  counter = counter + 1
  local t1 = tags[(counter %% #tags) + 1]
  local t2 = tags[((counter + 7) %% #tags) + 1]
  local a = authors[(counter %% #authors) + 1]
  local body = '{"title":"Bench story ' .. nonce .. ' ' .. counter .. '",' ..
    '"summary":"Created by the benchmark.",' ..
    '"body":"## Update\\\\n\\\\nOfficials weigh new water rules in Lagos after months of talks. ' ..
    'Residents question a revised budget in Cairo ahead of the vote.",' ..
    '"section":"politics","tags":["' .. t1 .. '","' .. t2 .. '"],"authors":["' .. a .. '"],' ..
    '"regions":["mena"],"status":"published"}'
  return wrk.format("POST", "/api/v1/articles",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
"""


def wrk(port, script, connections, threads, seconds, warmup, server, alongside=None):
    """One wrk run against `server`: the figures, the server's peak RSS, and its CPU time
    per request. `alongside`, if given, is started with the measured run and given an
    event that is set when it ends (for writes at a fixed rate)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        lua = f.name
    base = ["wrk", "-t", str(threads), "-c", str(connections), "--latency", "-s", lua,
            f"http://127.0.0.1:{port}"]
    if warmup:
        subprocess.run(base[:1] + ["-d", f"{warmup}s"] + base[1:], capture_output=True, check=True)
    peak = [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], server.rss_mb())
            stop.wait(0.2)

    helpers = [threading.Thread(target=sample)]
    if alongside:
        helpers.append(threading.Thread(target=alongside, args=(stop,)))
    cpu_before = server.cpu_seconds()
    for h in helpers:
        h.start()
    out = subprocess.run(base[:1] + ["-d", f"{seconds}s"] + base[1:], capture_output=True,
                         text=True, check=True).stdout
    stop.set()
    cpu = server.cpu_seconds() - cpu_before
    for h in helpers:
        h.join()
    os.unlink(lua)
    figures = parse_wrk(out)
    RAW_OUTPUTS.append(f"{server.name}: $ {' '.join(base[:1] + ['-d', f'{seconds}s'] + base[1:-2])} "
                       f"<script> {base[-1]}\n{out}\nserver CPU s: {cpu:.3f}; peak RSS MB: "
                       f"{peak[0]:.1f}\n")
    return figures | {"rss_mb": peak[0], "cpu_us": cpu * 1e6 / max(figures["requests"], 1)}


def creates_at(port, token, tags, authors, rate, outcome):
    """A writer for `wrk(alongside=...)`: one article create every 1/rate s, on a
    schedule that does not wait for answers to catch up (open loop), until told to
    stop. Fills `outcome` with the count, failures and latencies in ms."""
    outcome.update(sent=0, failed=0, latencies=[])

    def write(stop):
        started = time.monotonic()
        n = 0
        while not stop.is_set():
            due = started + n / rate
            if stop.wait(max(0.0, due - time.monotonic())):
                break
            n += 1
            body = {"title": f"Open-loop story {time.time_ns()} {n}",
                    "summary": "Created by the benchmark at a fixed rate.",
                    "body": "## Update\n\nOfficials weigh new water rules after months of talks.",
                    "section": "politics", "tags": [tags[n % len(tags)], tags[(n + 7) % len(tags)]],
                    "authors": [authors[n % len(authors)]], "regions": ["mena"],
                    "status": "published"}
            t0 = time.monotonic()
            try:
                status, _, _ = api(port, "/api/v1/articles", token=token, method="POST", body=body)
                ok = status == 201
            except Exception:
                ok = False
            outcome["latencies"].append((time.monotonic() - t0) * 1000)
            outcome["sent"] += 1
            outcome["failed"] += 0 if ok else 1

    return write


def to_ms(value):
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    if not m:
        return float("nan")
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors, "requests": total}


def api(port, path, token=None, method="GET", body=None, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req) as r:
        return r.status, dict(r.headers), json.loads(r.read() or b"null")


def sample_corpus(db, count):
    con = sqlite3.connect(db)
    total = con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    step = max(1, total // count)
    slugs = [r[0] for r in con.execute(
        "SELECT slug FROM articles WHERE id % ? = 0 AND status = 'published' LIMIT ?",
        (step, count))]
    tags = [r[0] for r in con.execute("SELECT slug FROM tags WHERE slug LIKE 'corpus-%'")]
    authors = [r[0] for r in con.execute("SELECT slug FROM authors WHERE slug LIKE 'corpus-%'")]
    con.close()
    return slugs, tags, authors


def machine():
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return {"cores": os.cpu_count(), "memory_gib": mem_kb / 1024 / 1024,
            "revision": rev + ("+changes" if dirty else "")}


def scenarios(ctx, only=None):
    """(name, newsdesk script, ceiling path or None, connections, target note)."""
    s, c = ctx["slugs"], ctx["tags"]
    nd, ce = [], []
    cold = ctx["all_slugs"]
    items = [
        ("article by slug (1,000 slugs across the corpus)",
         lua_paths([f"/api/v1/articles/{x}" for x in s]),
         lua_paths([f"/articles/{x}" for x in s]), "≥ 0.8×"),
        (f"article by slug ({len(cold):,} slugs, beyond the cache)",
         lua_paths([f"/api/v1/articles/{x}" for x in cold]),
         lua_paths([f"/articles/{x}" for x in cold]), "≥ 0.8×"),
        ("newest 20 (front page)",
         lua_paths(["/api/v1/articles?per_page=20"]),
         lua_paths(["/articles"]), "≥ 1.0×"),
        ("20 by tag",
         lua_paths([f"/api/v1/articles?tag={t}" for t in c]),
         lua_paths([f"/tags/{t}/articles" for t in c]), "≥ 1.0×"),
        ("20 by section with descendants",
         lua_paths(["/api/v1/articles?section=news"]),
         lua_paths(["/sections/news/articles"]), "≥ 1.0×"),
        ("cursor walk, 50 pages deep",
         lua_paths(ctx["cursor_paths"]),
         lua_paths(["/articles"]), "vs ceiling's newest 20"),
        ("304 revalidation",
         lua_paths([ctx["revalidate_path"]], headers={"If-None-Match": ctx["revalidate_etag"]}),
         lua_paths(["/static"]), "≥ 0.7× of static JSON"),
        ("search, 12 popular queries in 3 languages",
         lua_paths(search_paths(False)), None, "p99 < 10 ms"),
        (f"search, {len(search_paths(True)):,} distinct queries (beyond the cache)",
         lua_paths(search_paths(True)), None, "reported"),
    ]
    return [i for i in items if only is None or i[0] in only]


# Words of the bulk corpus (src/seed/bulk.rs), as readers would type them: English,
# Arabic without hamza or with ه for ة, Spanish without accents, and half-typed words.
SEARCH_WORDS = {
    "en": ["water rules", "revised budget", "rail extension", "port fees", "housing plan",
           "grain deal", "emergency funding", "pension reform", "border agreement",
           "climate levy", "pensi", "clim"],
    "ar": ["المياه", "الميزانيه المعدله", "السكك الحديديه", "رسوم الموانئ", "خطه الاسكان",
           "اتفاق الحبوب", "التمويل الطارئ", "اصلاح المعاشات", "اتفاق الحدود", "ضريبه المناخ",
           "المعاش", "المنا"],
    "es": ["normas del agua", "presupuesto revisado", "ampliacion del tren", "tasas portuarias",
           "plan de vivienda", "acuerdo del grano", "financiacion de emergencia",
           "reforma de las pensiones", "acuerdo fronterizo", "impuesto climatico", "pensi",
           "climat"],
}


def search_paths(distinct):
    """Search URLs: the popular queries, or many distinct ones (beyond the cache)."""
    quote = urllib.parse.quote
    popular = [f"/api/v1/articles?q={quote(w)}" for words in SEARCH_WORDS.values() for w in words[:4]]
    if not distinct:
        return popular
    paths = []
    for lang, words in SEARCH_WORDS.items():
        for w in words:
            for extra in ("", f"&lang={lang}", "&sort=-published_at", "&per_page=10",
                          "&page=2", f"&lang={lang}&sort=-published_at"):
                for tag in ("", "&featured=false"):
                    paths.append(f"/api/v1/articles?q={quote(w)}{extra}{tag}")
    return paths


async def sse_fanout(port, token, subscribers, events):
    """Opens `subscribers` breaking streams, posts `events` items and measures, for every
    subscriber, the time from the POST's response to the event's arrival."""
    ready, arrivals = [], {}
    done = asyncio.Event()

    async def subscriber(i):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(b"GET /api/v1/breaking/stream?lang=en HTTP/1.1\r\nHost: bench\r\n"
                     b"Accept: text/event-stream\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        ready.append(i)
        try:
            while not done.is_set():
                chunk = await reader.readuntil(b"\n\n")
                now = time.monotonic()
                if b"event: created" in chunk:
                    item = json.loads(chunk.split(b"data: ", 1)[1].split(b"\n", 1)[0])
                    arrivals.setdefault(item["id"], []).append(now)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    tasks = [asyncio.create_task(subscriber(i)) for i in range(subscribers)]
    while len(ready) < subscribers:
        await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    sent = {}
    for n in range(events):
        def post():
            _, _, item = api(port, "/api/v1/breaking", token, "POST",
                             {"text": f"Bench bulletin {n}", "language": "en"})
            return item["id"], time.monotonic()
        item_id, answered = await loop.run_in_executor(None, post)
        sent[item_id] = answered
        deadline = time.monotonic() + 5
        while len(arrivals.get(item_id, [])) < subscribers and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    done.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    delays = sorted(max(0.0, t - sent[i]) * 1000 for i, ts in arrivals.items() if i in sent for t in ts)
    missing = subscribers * events - len(delays)
    return delays, missing


def percentile(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def prepare(ctx, port, token):
    """Cursor URLs for a 50-page walk, and an ETag to revalidate."""
    paths, path = [], "/api/v1/articles?per_page=20"
    for _ in range(50):
        paths.append(path)
        _, _, page = api(port, path)
        cursor = page["meta"]["next_cursor"]
        if not cursor:
            break
        path = f"/api/v1/articles?per_page=20&cursor={cursor}"
    ctx["cursor_paths"] = paths
    target = f"/api/v1/articles/{ctx['slugs'][0]}"
    _, headers, _ = api(port, target)
    ctx["revalidate_path"] = target
    ctx["revalidate_etag"] = headers.get("ETag") or headers.get("etag")


def fmt(x, digits=1):
    return f"{x:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--subscribers", type=int, default=1000,
                    help="breaking-stream subscribers in the fan-out scenario")
    ap.add_argument("--smoke", action="store_true", help="small and short; fail on any error")
    ap.add_argument("--scaling", action="store_true", help="only the hot reads, for the p50 scaling run")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    ap.add_argument("--allow-dirty", action="store_true",
                    help="write RESULTS.md even from a work tree with uncommitted changes")
    ap.add_argument("--log", default="warn",
                    help="newsdesk's RUST_LOG; 'info' turns the per-request access log on")
    args = ap.parse_args()
    if args.smoke:
        args.articles, args.seconds, args.warmup = 500, 1, 0
    ensure_wrk()
    if not (args.smoke or args.no_write or args.allow_dirty) \
            and machine()["revision"].endswith("+changes"):
        raise SystemExit("the work tree has uncommitted changes: figures in RESULTS.md come "
                         "from a clean commit (commit first, or --no-write / --allow-dirty)")
    os.makedirs(OUT, exist_ok=True)
    for name in ("newsdesk.log", "ceiling.log"):
        if os.path.exists(os.path.join(OUT, name)):
            os.remove(os.path.join(OUT, name))
    newsdesk, ceiling = build("debug" if args.smoke else "release")
    corpus_path, seed_seconds = corpus(newsdesk, args.articles)
    db = working_copy(corpus_path)
    slugs, tags, authors = sample_corpus(db, 1000)
    # Every benchmark client comes from one loopback address, which the per-address
    # budget of anonymous searches (30, then 1/s) and the per-address share of streams
    # (100) would stop at once: the benchmark measures the server's work, so both are
    # lifted here.
    env = dict(os.environ, DATABASE_URL=db, BIND_ADDR=f"127.0.0.1:{NEWSDESK_PORT}",
               ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=ADMIN_PASSWORD, RUST_LOG=args.log,
               SEARCH_BURST="100000", SEARCH_RATE="100000", STREAMS_PER_ADDRESS="100000")
    nd = Server("newsdesk", [newsdesk], NEWSDESK_PORT, env)
    ce = Server("ceiling", [ceiling, db, f"127.0.0.1:{CEILING_PORT}"], CEILING_PORT)
    rows, failures = [], []
    try:
        _, _, login = api(NEWSDESK_PORT, "/api/v1/auth/token", method="POST",
                          body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        token = login["access_token"]
        ctx = {"slugs": slugs, "tags": tags, "authors": authors,
               "all_slugs": sample_corpus(db, 100_000)[0]}
        prepare(ctx, NEWSDESK_PORT, token)
        common = dict(threads=args.threads, seconds=args.seconds, warmup=args.warmup)
        hot = {"article by slug (1,000 slugs across the corpus)", "newest 20 (front page)",
               "20 by tag", "cursor walk, 50 pages deep"}
        for name, nd_script, ce_script, target in scenarios(ctx, hot if args.scaling else None):
            log(f"scenario: {name}")
            ours = wrk(NEWSDESK_PORT, nd_script, args.connections, server=nd, **common)
            ref = (wrk(CEILING_PORT, ce_script, args.connections, server=ce, **common)
                   if ce_script else None)
            rows.append((name, ours, ref, target))
        if not args.scaling:
            subscribers = 50 if args.smoke else args.subscribers
            events = 3 if args.smoke else 20
            log(f"scenario: breaking stream, {subscribers:,} subscribers, {events} events")
            idle_rss = nd.rss_mb()
            delays, missing = asyncio.run(sse_fanout(NEWSDESK_PORT, token, subscribers, events))
            fanout_rss = nd.rss_mb()
            stream = {"rps": None, "p50": percentile(delays, 50),
                      "p99": percentile(delays, 99), "errors": missing, "rss_mb": fanout_rss,
                      "requests": len(delays), "max": delays[-1] if delays else float("nan"),
                      "idle_rss": idle_rss}
            rows.append((f"breaking stream: {subscribers:,} subscribers, {events} events "
                         f"(p50/p99: write response to arrival; max {stream['max']:.1f} ms)",
                         stream, None, "< 100 ms"))
            lua = lambda reads, share: CREATE_LUA % (
                json.dumps(token), lua_list(tags), lua_list(authors), lua_list(reads), share)
            log("scenario: creates by 8 clients")
            creates = wrk(NEWSDESK_PORT, lua([], 1.0), 8, server=nd, **common)
            rows.append(("article creates, 8 clients", creates, None, "≥ 1,500/s"))
            mixes = {
                # What a news site reads: mostly article pages, some front and tag pages.
                "newsroom mix (90% article pages, 5% front page, 5% tag pages)":
                    [f"/api/v1/articles/{x}" for x in slugs] * 1 +
                    ["/api/v1/articles?per_page=20"] * 56 +
                    [f"/api/v1/articles?tag={t}" for t in tags] * 2,
                # A harder mix: every write changes the front page and two of the 30 tag pages.
                "list-heavy mix (80% article pages, 8% front page, 12% tag pages)":
                    [f"/api/v1/articles/{x}" for x in slugs[:200]] +
                    ["/api/v1/articles?per_page=20"] * 20 +
                    [f"/api/v1/articles?tag={t}" for t in tags],
            }
            for mix, reads in mixes.items():
                log(f"scenario: read-only, {mix}")
                read_only = wrk(NEWSDESK_PORT, lua_paths(reads), args.connections,
                                server=nd, **common)
                rows.append((f"read-only, {mix}", read_only, None, "reference"))
                log(f"scenario: 95% read / 5% write, {mix}")
                mixed = wrk(NEWSDESK_PORT, lua(reads, 0.05), args.connections,
                            server=nd, **common)
                mixed["read_share_of_read_only"] = mixed["rps"] * 0.95 / max(read_only["rps"], 1)
                rows.append((f"95% read / 5% create, {mix}", mixed, None,
                             "reads ≥ 0.7× read-only"))
                rate = 5 if args.smoke else OPEN_LOOP_CREATES
                log(f"scenario: {mix} with {rate} creates/s alongside")
                outcome = {}
                paced = wrk(NEWSDESK_PORT, lua_paths(reads), args.connections, server=nd,
                            alongside=creates_at(NEWSDESK_PORT, token, tags, authors, rate,
                                                 outcome), **common)
                paced["errors"] += outcome["failed"]
                paced["read_share_of_read_only"] = paced["rps"] / max(read_only["rps"], 1)
                latencies = sorted(outcome["latencies"])
                rows.append((f"{mix}, with {rate} creates/s arriving on their own schedule "
                             f"({outcome['sent']} creates, p50 {percentile(latencies, 50):.1f} ms, "
                             f"p99 {percentile(latencies, 99):.1f} ms)",
                             paced, None, "reads ≥ 0.7× read-only"))
        if not args.scaling and args.log != "info":
            # The access log costs something per request: measure the cheapest route
            # again with it on.
            nd.stop()
            nd = Server("newsdesk", [newsdesk], NEWSDESK_PORT, dict(env, RUST_LOG="info"))
            name, nd_script, ce_script, target = scenarios(ctx, {"304 revalidation"})[0]
            log("scenario: 304 revalidation with the access log on")
            ours = wrk(NEWSDESK_PORT, nd_script, args.connections, server=nd, **common)
            ref = wrk(CEILING_PORT, ce_script, args.connections, server=ce, **common)
            rows.append(("304 revalidation, access log on (RUST_LOG=info)", ours, ref, target))
    finally:
        nd.stop()
        ce.stop()
    with open(os.path.join(OUT, "newsdesk.log")) as f:
        locked = sum(1 for line in f if "database is locked" in line)
    errors = sum(r[1]["errors"] for r in rows)
    report = render(args, rows, seed_seconds, nd.startup_seconds, locked)
    print(report)
    if args.smoke:
        if errors or locked:
            raise SystemExit(f"smoke run failed: {errors} errors, {locked} 'database is locked'")
        log(f"smoke run passed: {len(rows)} scenarios, zero errors")
        return
    if not args.no_write:
        write_results(args, report)


def lua_list(items):
    return "{" + ", ".join(json.dumps(i) for i in items) + "}"


def render(args, rows, seed_seconds, startup, locked):
    m = machine()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "scaling run (hot reads)" if args.scaling else "full run"
    lines = [
        f"### {args.articles:,} articles — {mode}",
        "",
        f"{when}, revision `{m['revision']}`, {m['cores']} cores, {m['memory_gib']:.0f} GiB; "
        f"wrk {args.threads} threads, {args.connections} connections, {args.seconds} s after a "
        f"{args.warmup} s warm-up, on 127.0.0.1; newsdesk with RUST_LOG={args.log}. Corpus seeded in "
        f"{'%.1f s' % seed_seconds if seed_seconds is not None else 'an earlier run'}; "
        f"newsdesk answered /healthz {startup * 1000:.0f} ms after start; "
        f"'database is locked' in its log: {locked}.",
        "",
        "| scenario | newsdesk req/s | p50 ms | p99 ms | errors | RSS MB | CPU µs/req | ceiling req/s | ratio | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, ours, ref, target in rows:
        ratio = f"{ours['rps'] / ref['rps']:.2f}×" if ref and ours["rps"] else "—"
        ref_rps = fmt(ref["rps"], 0) if ref else "—"
        extra = ""
        if "read_share_of_read_only" in ours:
            extra = f" (reads at {ours['read_share_of_read_only']:.2f}× the read-only mix)"
        rps = fmt(ours["rps"], 0) if ours["rps"] is not None else "—"
        cpu = fmt(ours["cpu_us"], 0) if ours.get("cpu_us") is not None else "—"
        lines.append(
            f"| {name}{extra} | {rps} | {ours['p50']:.2f} | {ours['p99']:.2f} | "
            f"{ours['errors']} | {ours['rss_mb']:.0f} | {cpu} | {ref_rps} | {ratio} | {target} |")
    lines.append("")
    return "\n".join(lines)


def write_results(args, report):
    key = f"{args.articles}-{'scaling' if args.scaling else 'full'}"
    os.makedirs(RAW, exist_ok=True)
    with open(os.path.join(RAW, f"{key}.txt"), "w") as f:
        f.write(f"# raw wrk outputs of the run reported in RESULTS.md as {key}\n\n")
        f.write("\n".join(RAW_OUTPUTS))
    begin, end = f"<!-- run:{key} -->", f"<!-- /run:{key} -->"
    text = open(RESULTS).read() if os.path.exists(RESULTS) else "# Benchmark results\n\n"
    block = f"{begin}\n{report}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        marker = "<!-- runs -->"
        if marker in text:
            text = text.replace(marker, f"{marker}\n\n{block}")
        else:
            text += f"\n{block}\n"
    with open(RESULTS, "w") as f:
        f.write(text)
    log(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
