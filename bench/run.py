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
    bench/run.py --backend postgres   # the same scenarios with newsdesk on PostgreSQL
    bench/run.py --backend postgres --instances 2   # two instances on one database
    bench/run.py --media              # image renditions against sharp; /files/ serving

With --media, bench/media/make.mjs draws 12-megapixel JPEGs and a large PNG with sharp
(npm, pinned in bench/media/package.json and installed there by `npm ci`); newsdesk
(`newsdesk media import` into a fresh database) and sharp (bench/media/sharp.mjs) make
the same renditions of them, each in its own process, timed and with its peak RSS read
from wait4; then wrk reads the renditions from newsdesk's /files/ and from the
ceiling's actix-files route over the same directory.

With --backend postgres, --pg-url (default $NEWSDESK_BENCH_PG_URL, else
postgres://postgres@127.0.0.1:5433/postgres) names a PostgreSQL server whose user may
create databases. The corpus is the database bench_corpus_<N>, seeded once by
`newsdesk seed --articles N` and kept (closed to connections, so that it can serve as a
template); each run works on bench_run, made afresh from it with CREATE DATABASE ...
TEMPLATE. The ceiling stays the SQLite program, on the SQLite corpus of the same N
(seeded the same way, so the slugs are the same). With --scaling --in-place the run works
on bench_corpus_<N> itself (opened to connections for the run, closed again after) and
without the ceiling, for a corpus too big to hold twice on the disk. psql (installed with apt-get when
missing) talks to the server, and the CPU time of the server's processes is read from
/proc when the server runs on this machine. To seed a corpus again, drop it:
`DROP DATABASE bench_corpus_<N>`.

With --instances 2, two newsdesk processes serve bench_run on two ports: each load
runs against one instance with every connection, then as two wrk processes at once,
one per instance with half the connections each; then breaking items posted through
one instance are timed to their arrival on the other's stream.

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
import socket
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
# The second instance of a two-instance PostgreSQL run.
NEWSDESK_B_PORT = 18081
CEILING_PORT = 18090
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5433/postgres"
# The database each PostgreSQL run works on, copied from bench_corpus_<N>.
PG_RUN_DB = "bench_run"
# Breaking items a second posted through instance A in the two-instance stream scenario.
ACROSS_RATE = 20
# The PostgreSQL CPU meter of this run (PgCpu), when it has one.
PG_METER = None


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


# `--body-words N` of the seed (short archive bodies), or None for full-length bodies.
BODY_WORDS = None


def seed_args(n):
    extra = ["--body-words", str(BODY_WORDS)] if BODY_WORDS else []
    return ["seed", "--articles", str(n)] + extra


def corpus_suffix():
    return f"-w{BODY_WORDS}" if BODY_WORDS else ""


def corpus(newsdesk, n):
    """The seeded corpus for n articles, made once and reused (copied per run)."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"corpus-{n}{corpus_suffix()}.db")
    seconds = None
    if not os.path.exists(path):
        seconds = seed_file(newsdesk, path, n)
        with open(path + ".seed-seconds", "w") as f:
            f.write(f"{seconds:.1f}")
    # A reused corpus was seeded by an earlier run: its time is not this run's to report.
    return path, seconds


def seed_file(newsdesk, path, n):
    """Seeds n articles into the SQLite file `path` with `newsdesk`, and returns the
    seconds it took. The seed writes under another name, renamed when complete, so an
    interrupted seed is never taken for a corpus."""
    partial = path + ".seeding"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(partial + suffix):
            os.remove(partial + suffix)
    env = dict(os.environ, ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=ADMIN_PASSWORD,
               DATABASE_URL=partial, RUST_LOG="warn")
    started = time.monotonic()
    subprocess.run([os.path.abspath(newsdesk)] + seed_args(n), check=True, env=env)
    seconds = time.monotonic() - started
    for suffix in ("-wal", "-shm", ""):
        if os.path.exists(partial + suffix):
            os.replace(partial + suffix, path + suffix)
    return seconds


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


def free_port(preferred):
    """`preferred` if nothing listens on it, else a port the system says is free: a
    server left over from something else must not answer for one of ours."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                log(f"port {preferred} is taken by another process; using another")
                continue
            return probe.getsockname()[1]
    raise SystemExit("no free port")


def ensure_psql():
    if shutil.which("psql"):
        return
    log("psql is missing; installing Debian's postgresql-client")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "install", "-y", "postgresql-client"], check=False)
    if not shutil.which("psql"):
        subprocess.run(sudo + ["apt-get", "update"], check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "postgresql-client"], check=True)


class PgError(Exception):
    pass


class Postgres:
    """The PostgreSQL server of a --backend postgres run, reached with psql."""

    def __init__(self, url):
        self.url = url
        ensure_psql()
        try:
            self.sql("SELECT 1")
        except PgError as e:
            raise SystemExit(f"PostgreSQL at {self.shown()} did not answer: {e}\n"
                             "start a server (e.g. `.ci/postgres 5433`) or name one with "
                             "--pg-url or NEWSDESK_BENCH_PG_URL")

    def db_url(self, name):
        """The server URL with its database replaced by `name`."""
        parts = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + name))

    def shown(self, name=None):
        """The URL as it may be printed: without its password."""
        parts = urllib.parse.urlsplit(self.db_url(name) if name else self.url)
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            parts = parts._replace(netloc=f"{parts.username}:***@{host}")
        return urllib.parse.urlunsplit(parts)

    def sql(self, statement, db=None):
        """Runs one statement (in a transaction of its own, so CREATE DATABASE may be one)
        and returns the rows as lists of strings."""
        env = dict(os.environ, PGCLIENTENCODING="UTF8", PGCONNECT_TIMEOUT="10")
        out = subprocess.run(
            ["psql", self.db_url(db) if db else self.url, "-X", "-q", "-A", "-t", "-F", "\t",
             "-v", "ON_ERROR_STOP=1", "-c", statement],
            capture_output=True, text=True, env=env)
        if out.returncode:
            raise PgError(out.stderr.strip() or f"psql exited with {out.returncode}")
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def sql_retrying(self, statement, seconds=60):
        """For statements that need a database nobody is connected to: PostgreSQL waits
        5 s for autovacuum to let go, and this tries again for a while after that."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                return self.sql(statement)
            except PgError as e:
                if "being accessed by other users" not in str(e) or time.monotonic() > deadline:
                    raise
                log(f"waiting for connections to end: {e}")
                time.sleep(1)

    def exists(self, name):
        return bool(self.sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))

    def settings(self):
        names = ("server_version", "fsync", "synchronous_commit", "shared_buffers")
        return {n: self.sql(f"SHOW {n}")[0][0] for n in names}


def corpus_pg(newsdesk, pg, n):
    """The database bench_corpus_<n>, seeded once and kept, as corpus() keeps a file.
    It is seeded under another name and renamed when complete, so an interrupted seed
    is never taken for a corpus; then closed to connections, so that it can be copied
    as a template whenever a run starts."""
    name = f"bench_corpus_{n}{corpus_suffix().replace('-', '_')}"
    seconds = None
    if not pg.exists(name):
        seeding = f"{name}_seeding"
        pg.sql(f"DROP DATABASE IF EXISTS {seeding} WITH (FORCE)")
        pg.sql(f"CREATE DATABASE {seeding}")
        env = dict(os.environ, ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=ADMIN_PASSWORD,
                   DATABASE_URL=pg.db_url(seeding), RUST_LOG="warn")
        log(f"seeding {n:,} articles into {pg.shown(seeding)}")
        started = time.monotonic()
        subprocess.run([newsdesk] + seed_args(n), check=True, env=env)
        seconds = time.monotonic() - started
        pg.sql(f"COMMENT ON DATABASE {seeding} IS "
               f"'newsdesk bench corpus: {n} articles, seeded in {seconds:.1f} s'")
        pg.sql(f"ALTER DATABASE {seeding} WITH ALLOW_CONNECTIONS false")
        pg.sql_retrying(f"ALTER DATABASE {seeding} RENAME TO {name}")
    return name, seconds


def working_copy_pg(pg, corpus_name):
    """A fresh copy of the corpus database, so that write scenarios never change it."""
    pg.sql(f"DROP DATABASE IF EXISTS {PG_RUN_DB} WITH (FORCE)")
    started = time.monotonic()
    pg.sql_retrying(f"CREATE DATABASE {PG_RUN_DB} TEMPLATE {corpus_name}")
    log(f"{PG_RUN_DB} copied from {corpus_name} in {time.monotonic() - started:.1f} s")
    return pg.db_url(PG_RUN_DB)


def proc_stat(pid):
    """(parent pid, start time, user + system CPU seconds) of a process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[1]), int(fields[19]),
            (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))


class PgCpu:
    """CPU time of the PostgreSQL server's processes that work for this run: the
    postmaster, its background processes (checkpointer, WAL writer, autovacuum...) and
    the backends connected to `db`; backends of other databases (other users of a shared
    server) are left out. Read from /proc, so only for a server on this machine."""

    def __init__(self, pg, db):
        self.db = db
        self.postmaster = None
        self.kinds = {}
        rows = pg.sql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
        stat = proc_stat(int(rows[0][0])) if rows else None
        if stat and self.comm(stat[0]) == "postgres":
            self.postmaster = stat[0]

    @staticmethod
    def comm(pid):
        try:
            with open(f"/proc/{pid}/comm") as f:
                return f.read().strip()
        except OSError:
            return None

    def kind(self, pid):
        """Whether a child of the postmaster works for this run, from its process title
        ("postgres: USER DB HOST(PORT) STATE" for a client backend); None while a new
        backend has not set its title yet."""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode(errors="replace").split()
        except OSError:
            return None
        if not title or title[0] != "postgres:":
            return None
        if len(title) >= 4 and title[1:3] == ["autovacuum", "worker"]:
            return title[3] == self.db
        if len(title) >= 4 and (title[3].endswith(")") or title[3] == "[local]"):
            return title[2] == self.db
        return True

    def sample(self):
        """{(pid, start time): CPU seconds} of the processes that count, now."""
        if self.postmaster is None:
            return None
        seen = {}
        pm = self.postmaster
        try:
            with open(f"/proc/{pm}/task/{pm}/children") as f:
                pids = [int(x) for x in f.read().split()]
        except OSError:
            pids = [int(e) for e in os.listdir("/proc") if e.isdigit()]
        for pid in [pm] + pids:
            stat = proc_stat(pid)
            if stat is None or (pid != pm and stat[0] != pm):
                continue
            key = (pid, stat[1])
            if self.kinds.get(key) is None:
                self.kinds[key] = True if pid == self.postmaster else self.kind(pid)
            if self.kinds[key]:
                seen[key] = stat[2]
        return seen

    @staticmethod
    def used(before, last):
        """CPU seconds used between two samples; a process that ended in between counts
        up to its last sample."""
        if before is None or last is None:
            return None
        return sum(cpu - before.get(key, 0.0) for key, cpu in last.items())


class Server:
    def __init__(self, name, cmd, port, env=None, uses_pg=False):
        # uses_pg: newsdesk on PostgreSQL, whose runs also measure the server's CPU.
        self.name, self.port, self.uses_pg = name, port, uses_pg
        # A PostgreSQL run makes no corpus file, so the directory may not exist yet.
        os.makedirs(OUT, exist_ok=True)
        self.log = open(os.path.join(OUT, f"{name}.log"), "a")
        started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        self.startup_seconds = self.wait_ready(started)

    def wait_ready(self, started):
        url = f"http://127.0.0.1:{self.port}/" + ("healthz" if self.name.startswith("newsdesk")
                                                   else "static")
        while time.monotonic() - started < 60:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited at start; see bench/out/{self.name}.log")
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
    """A wrk script asking for `paths` in turn. Its threads never ask for the same path
    at the same point: thread t of T takes paths base + t, base + t + T, and so on, and
    each wrk run (the warm-up, then the measured run) starts where the one before ended
    (`wrk_many` keeps the place in a file). Before, every thread walked the list from
    its start, so in the loads "beyond the cache" each path was asked for twice within
    milliseconds and the second answer came from the cache (about half of the requests;
    counted from newsdesk's /metrics)."""
    quoted = ",\n".join(json.dumps(p) for p in paths)
    hdrs = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in (headers or {}).items())
    return f"""
local paths = {{
{quoted}
}}
local headers = {{ {hdrs} }}
{LUA_PLACE}
request = function()
  return wrk.format({json.dumps(method)}, paths[next_index(#paths)], headers)
end
"""


# Where each thread of a script from `lua_paths` is in its list: `wrk_many` fills in the
# number of threads and the file that carries the place from one wrk run to the next.
LUA_PLACE = """
local threads = __ND_THREADS__
local place = "__ND_PLACE__"
local base = 0
local f = io.open(place, "r")
if f then base = tonumber(f:read("*l")) or 0; f:close() end
local started = 0
setup = function(thread)
  thread:set("nd_thread", started)
  started = started + 1
end
local k = 0
function next_index(n)
  local i = base + (nd_thread or 0) + threads * k
  k = k + 1
  return (i % n) + 1
end
done = function(summary, latency, requests)
  local f = io.open(place, "w")
  if f then f:write(tostring(base + summary.requests + 1000)); f:close() end
end
"""


CREATE_LUA = """
local counter = 0
local nonce = tostring(os.time()) .. tostring(math.random(100000, 999999))
-- Each thread runs this in its own Lua state with the same unseeded random numbers:
-- the thread's number keeps two threads' titles (and so their slugs) apart.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
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
  local body = '{"title":"Bench story ' .. nonce .. ' ' .. tostring(thread_number) .. ' ' ..
    counter .. '",' ..
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
    return wrk_many([(port, script, connections, server)], threads, seconds, warmup, alongside)


def wrk_many(targets, threads, seconds, warmup, alongside=None):
    """wrk processes started together, one per (port, script, connections, server), each
    with `threads` threads: their figures added up (requests/s, requests and errors
    summed; p50 and p99 are those of the first target, and every target's own figures
    are in "parts"), the servers' CPU time per request, and, for newsdesk on
    PostgreSQL, the PostgreSQL server's CPU time per request."""
    luas, commands = [], []
    for port, script, connections, server in targets:
        with tempfile.NamedTemporaryFile("w", suffix=".place", delete=False) as f:
            f.write("0")
            luas.append(f.name)
        script = script.replace("__ND_THREADS__", str(threads)).replace("__ND_PLACE__", f.name)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(script)
            luas.append(f.name)
        commands.append((["wrk", "-t", str(threads), "-c", str(connections), "--latency",
                          "-s", f.name], f"http://127.0.0.1:{port}"))

    def run_all(duration):
        procs = [subprocess.Popen(cmd[:1] + ["-d", f"{duration}s"] + cmd[1:] + [url],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for cmd, url in commands]
        outs = []
        for p, (cmd, _) in zip(procs, commands):
            out, err = p.communicate()
            if p.returncode:
                raise subprocess.CalledProcessError(p.returncode, cmd, out, err)
            outs.append(out)
        return outs

    if warmup:
        run_all(warmup)
    servers = []
    for t in targets:
        if t[3] not in servers:
            servers.append(t[3])
    pg = PG_METER if any(s.uses_pg for s in servers) else None
    peak = {s.name: 0.0 for s in servers}
    stop = threading.Event()
    pg_before = pg.sample() if pg else None
    pg_last = dict(pg_before) if pg_before is not None else None

    def sample():
        while not stop.is_set():
            for s in servers:
                peak[s.name] = max(peak[s.name], s.rss_mb())
            if pg_last is not None:
                pg_last.update(pg.sample())
            stop.wait(0.2)

    helpers = [threading.Thread(target=sample)]
    if alongside:
        helpers.append(threading.Thread(target=alongside, args=(stop,)))
    cpu_before = {s.name: s.cpu_seconds() for s in servers}
    for h in helpers:
        h.start()
    try:
        outs = run_all(seconds)
    finally:
        stop.set()
        cpu = {s.name: s.cpu_seconds() - cpu_before[s.name] for s in servers}
        for h in helpers:
            h.join()
        for lua in luas:
            os.unlink(lua)
    if pg_last is not None:
        pg_last.update(pg.sample())
    pg_cpu = PgCpu.used(pg_before, pg_last)
    parts = []
    for (port, _, connections, server), (cmd, url), out in zip(targets, commands, outs):
        figures = parse_wrk(out)
        parts.append(figures | {"server": server.name, "rss_mb": peak[server.name]})
        RAW_OUTPUTS.append(f"{server.name}: $ {' '.join(cmd[:1] + ['-d', f'{seconds}s'] + cmd[1:-1])} "
                           f"<script> {url}\n{out}")
    total = sum(p["requests"] for p in parts)
    RAW_OUTPUTS.append("; ".join(f"{s.name} CPU s: {cpu[s.name]:.3f}; {s.name} peak RSS MB: "
                                 f"{peak[s.name]:.1f}" for s in servers) +
                       (f"; PostgreSQL CPU s: {pg_cpu:.3f}" if pg_cpu is not None else "") + "\n")
    first = parts[0]
    return {"rps": sum(p["rps"] for p in parts), "p50": first["p50"], "p99": first["p99"],
            "errors": sum(p["errors"] for p in parts), "requests": total,
            "rss_mb": max(peak.values()), "parts": parts,
            "cpu_us": sum(cpu.values()) * 1e6 / max(total, 1),
            "pg_cpu_us": pg_cpu * 1e6 / max(total, 1) if pg_cpu is not None else None}


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


def sample_corpus_pg(pg, db, count):
    """sample_corpus on PostgreSQL: the same rows, in id order."""
    total = int(pg.sql("SELECT COUNT(*) FROM articles", db)[0][0])
    step = max(1, total // count)
    slugs = [r[0] for r in pg.sql(
        f"SELECT slug FROM articles WHERE id % {step} = 0 AND status = 'published' "
        f"ORDER BY id LIMIT {int(count)}", db)]
    tags = [r[0] for r in pg.sql(
        "SELECT slug FROM tags WHERE slug LIKE 'corpus-%' ORDER BY id", db)]
    authors = [r[0] for r in pg.sql(
        "SELECT slug FROM authors WHERE slug LIKE 'corpus-%' ORDER BY id", db)]
    return slugs, tags, authors


def missing_in_sqlite(db, slugs):
    """How many of `slugs` the SQLite corpus (the ceiling's) lacks."""
    con = sqlite3.connect(db)
    have = sum(con.execute("SELECT COUNT(*) FROM articles WHERE slug = ?", (x,)).fetchone()[0]
               for x in slugs)
    con.close()
    return len(slugs) - have


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
        ("20 by region",
         lua_paths([f"/api/v1/articles?region={r}" for r in ctx["regions"]]),
         None, "p99 < 10 ms"),
        ("20 by author",
         lua_paths([f"/api/v1/articles?author={a}" for a in ctx["authors"]]),
         None, "p99 < 10 ms"),
        ("cursor walk, 50 pages deep",
         lua_paths(ctx["cursor_paths"]),
         lua_paths(["/articles"]), "vs ceiling's newest 20"),
        (f"cursor walk, {len(ctx['deep_cursor_paths']):,} pages deep",
         lua_paths(ctx["deep_cursor_paths"]),
         None, "p99 < 10 ms"),
        ("304 revalidation",
         lua_paths([ctx["revalidate_path"]], headers={"If-None-Match": ctx["revalidate_etag"]}),
         lua_paths(["/static"]), "≥ 0.7× of static JSON"),
        ("article by slug, include=related,next (1,000 slugs)",
         lua_paths([f"/api/v1/articles/{x}?include=related,next" for x in s]),
         None, "within 10% of article by slug"),
        (f"article by slug, include=related,next ({len(cold):,} slugs, beyond the cache)",
         lua_paths([f"/api/v1/articles/{x}?include=related,next" for x in cold]),
         None, "reported (three reads in one)"),
        ("article by slug, fields=title,url,hero_media (1,000 slugs)",
         lua_paths([f"/api/v1/articles/{x}?fields=title,url,hero_media" for x in s]),
         None, "within 10% of article by slug"),
        ("newest 20, fields=title,url,published_at",
         lua_paths(["/api/v1/articles?per_page=20&fields=title,url,published_at"]),
         None, "within 10% of newest 20"),
        ("tags, 20 by name",
         lua_paths(["/api/v1/tags?per_page=20"]), None, "reference"),
        ("tags, 20 by name, Arabic (locale=ar)",
         lua_paths(["/api/v1/tags?per_page=20&locale=ar"]), None, "within 10% of tags"),
        ("menu tree, Arabic (Accept-Language: ar)",
         lua_paths(["/api/v1/sections?tree=true"], headers={"Accept-Language": "ar"}),
         None, "reported"),
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
                    # Page sizes 15 to 24 make ten times as many distinct pages, more
                    # than the cache holds at its default size.
                    for size in range(15, 25):
                        size = "" if "per_page" in extra else f"&per_page={size}"
                        paths.append(f"/api/v1/articles?q={quote(w)}{extra}{tag}{size}")
    paths = list(dict.fromkeys(paths))
    return paths


async def breaking_subscriber(port, ready, arrivals, done):
    """One client of the English breaking stream on `port`: says it is ready once the
    response's headers are in, then records in `arrivals` (item id -> arrival times)
    when each `created` event arrives, until `done` is set or it is cancelled."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(b"GET /api/v1/breaking/stream?lang=en HTTP/1.1\r\nHost: bench\r\n"
                 b"Accept: text/event-stream\r\n\r\n")
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    ready.append(port)
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


def post_breaking(port, token, text):
    """Posts one English breaking item: its id and when the response came."""
    _, _, item = api(port, "/api/v1/breaking", token, "POST", {"text": text, "language": "en"})
    return item["id"], time.monotonic()


async def sse_fanout(port, token, subscribers, events):
    """Opens `subscribers` breaking streams, posts `events` items and measures, for every
    subscriber, the time from the POST's response to the event's arrival."""
    ready, arrivals = [], {}
    done = asyncio.Event()
    tasks = [asyncio.create_task(breaking_subscriber(port, ready, arrivals, done))
             for _ in range(subscribers)]
    while len(ready) < subscribers:
        await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    sent = {}
    for n in range(events):
        item_id, answered = await loop.run_in_executor(None, post_breaking, port, token,
                                                       f"Bench bulletin {n}")
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


async def sse_across(port_a, port_b, token, rate, seconds):
    """One client on each instance's breaking stream while items are posted through
    instance A at `rate` a second for `seconds`, on a fixed timetable (a post does not
    wait for the one before). The time from each POST's response to the event's arrival,
    in ms, on B (the other instance: notification from the database) and on A (the same
    instance, for reference), and how many posts failed."""
    ready, on_a, on_b = [], {}, {}
    done = asyncio.Event()
    tasks = [asyncio.create_task(breaking_subscriber(port, ready, arrivals, done))
             for port, arrivals in ((port_b, on_b), (port_a, on_a))]
    while len(ready) < 2:
        await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    posts, started = [], time.monotonic()
    for n in range(max(1, int(rate * seconds))):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        posts.append(loop.run_in_executor(None, post_breaking, port_a, token,
                                          f"Bench bulletin across instances {n}"))
    results = await asyncio.gather(*posts, return_exceptions=True)
    sent = dict(r for r in results if not isinstance(r, BaseException))
    failed = len(results) - len(sent)
    deadline = time.monotonic() + 5
    while (any(i not in on_a or i not in on_b for i in sent)
           and time.monotonic() < deadline):
        await asyncio.sleep(0.01)
    done.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    def delays(arrivals):
        return sorted(max(0.0, arrivals[i][0] - t) * 1000 for i, t in sent.items() if i in arrivals)

    return delays(on_b), delays(on_a), len(sent), failed


def listing_pages(port, tags, authors):
    """The first page of every tag, section, author and region of the corpus (up to 100
    different ones)."""
    _, _, sections = api(port, "/api/v1/sections?per_page=100")
    _, _, regions = api(port, "/api/v1/regions?per_page=100")
    section_slugs = [x["slug"] for x in sections["data"]]
    region_slugs = [x["slug"] for x in regions["data"]]
    pages = ([f"/api/v1/articles?tag={t}" for t in tags] +
             [f"/api/v1/articles?section={x}" for x in section_slugs] +
             [f"/api/v1/articles?region={x}" for x in region_slugs] +
             [f"/api/v1/articles?author={a}" for a in authors])
    return pages[:100], region_slugs


def cold_pages(port, pages):
    """Each page read once, one after another, on a server that has read none of them
    since it started: the first visitor's wait, with `meta.total` and every embedded
    relation computed."""
    times = []
    for path in pages:
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
            r.read()
        times.append((time.monotonic() - started) * 1000)
    times.sort()
    return {"rps": None, "p50": percentile(times, 50), "p99": percentile(times, 99),
            "errors": 0, "requests": len(times), "max": times[-1] if times else float("nan")}


def percentile(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def prepare(ctx, port, token, deep=1000):
    """Cursor URLs for a 50-page and a `deep`-page walk, and an ETag to revalidate. The
    walk that finds them is itself timed: each page is the first request for it since
    the server started (`ctx["cold_walk"]`, as `cold_pages` gives)."""
    paths, path, times = [], "/api/v1/articles?per_page=20", []
    for _ in range(deep):
        paths.append(path)
        started = time.monotonic()
        _, _, page = api(port, path)
        times.append((time.monotonic() - started) * 1000)
        cursor = page["meta"]["next_cursor"]
        if not cursor:
            break
        path = f"/api/v1/articles?per_page=20&cursor={cursor}"
    ctx["cursor_paths"] = paths[:50]
    ctx["deep_cursor_paths"] = paths
    times.sort()
    ctx["cold_walk"] = {"rps": None, "p50": percentile(times, 50), "p99": percentile(times, 99),
                        "errors": 0, "requests": len(times),
                        "max": times[-1] if times else float("nan")}
    target = f"/api/v1/articles/{ctx['slugs'][0]}"
    _, headers, _ = api(port, target)
    ctx["revalidate_path"] = target
    ctx["revalidate_etag"] = headers.get("ETag") or headers.get("etag")


# A scenario with at most this many distinct paths is a cached one: each path is read
# twice before its warm-up (the cache admits a page for good on its second visit), so
# the figures are those of a warm cache however long the uncached rounds would take.
# Larger scenarios are the "beyond the cache" ones.
PREWARM_MAX_PATHS = 2_000


def prewarm(port, script):
    """Reads each path of a wrk script twice (with its headers), when there are at most
    PREWARM_MAX_PATHS of them."""
    block = script.split("local paths = {", 1)[1].split("\n}", 1)[0]
    paths = [json.loads(line.rstrip(",")) for line in block.strip().splitlines()]
    if len(paths) > PREWARM_MAX_PATHS:
        return
    quoted = r'"(?:[^"\\]|\\.)*"'
    headers = dict(re.findall(rf"\[({quoted})\] = ({quoted})", script))
    headers = {json.loads(k): json.loads(v) for k, v in headers.items()}
    for path in paths + paths:
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        try:
            urllib.request.urlopen(req, timeout=30).read()
        except OSError:
            pass


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
    ap.add_argument("--scaling", action="store_true",
                    help="only the list and article reads, for the scaling run")
    ap.add_argument("--body-words", type=int, default=None,
                    help="seed the corpus with short bodies of about N words (the archive corpus: 80)")
    ap.add_argument("--in-place", action="store_true",
                    help="with --scaling: the servers work on the corpus itself, not a copy "
                         "(for a corpus too big to hold twice on the disk); on PostgreSQL "
                         "there is then no ceiling either, nor its SQLite corpus")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    ap.add_argument("--allow-dirty", action="store_true",
                    help="write RESULTS.md even from a work tree with uncommitted changes")
    ap.add_argument("--log", default="warn",
                    help="newsdesk's RUST_LOG; 'info' turns the per-request access log on")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite",
                    help="newsdesk's database (the ceiling is always on SQLite)")
    ap.add_argument("--pg-url", default=os.environ.get("NEWSDESK_BENCH_PG_URL") or DEFAULT_PG_URL,
                    help="with --backend postgres: a server URL whose user may create databases "
                         "(default: $NEWSDESK_BENCH_PG_URL, else %(default)s)")
    ap.add_argument("--media", action="store_true",
                    help="image renditions by newsdesk and sharp, and /files/ serving")
    ap.add_argument("--instances", type=int, choices=(1, 2), default=1,
                    help="2: two newsdesk instances on one PostgreSQL database, load spread "
                         "over both (with --backend postgres)")
    args = ap.parse_args()
    global BODY_WORDS
    BODY_WORDS = args.body_words
    if args.media:
        if not (args.smoke or args.no_write or args.allow_dirty) \
                and machine()["revision"].endswith("+changes"):
            raise SystemExit("the work tree has uncommitted changes: figures in RESULTS.md "
                             "come from a clean commit (commit first, or --no-write)")
        os.makedirs(OUT, exist_ok=True)
        media_bench(args)
        return
    if args.instances == 2 and args.backend != "postgres":
        ap.error("--instances 2 needs --backend postgres")
    if args.instances == 2 and args.scaling:
        ap.error("--instances 2 has no scaling run")
    if args.in_place and not args.scaling:
        ap.error("--in-place is for the scaling run (its scenarios only read)")
    if args.smoke:
        args.articles, args.seconds, args.warmup = 500, 1, 0
    ensure_wrk()
    if not (args.smoke or args.no_write or args.allow_dirty) \
            and machine()["revision"].endswith("+changes"):
        raise SystemExit("the work tree has uncommitted changes: figures in RESULTS.md come "
                         "from a clean commit (commit first, or --no-write / --allow-dirty)")
    global NEWSDESK_PORT, NEWSDESK_B_PORT, CEILING_PORT
    NEWSDESK_PORT = free_port(NEWSDESK_PORT)
    NEWSDESK_B_PORT = free_port(NEWSDESK_B_PORT)
    CEILING_PORT = free_port(CEILING_PORT)
    os.makedirs(OUT, exist_ok=True)
    for name in ("newsdesk.log", "newsdesk-b.log", "ceiling.log"):
        if os.path.exists(os.path.join(OUT, name)):
            os.remove(os.path.join(OUT, name))
    newsdesk, ceiling = build("debug" if args.smoke else "release")
    # The SQLite corpus: newsdesk's on SQLite, and the ceiling's on either backend, but for
    # a PostgreSQL corpus too big to hold twice, which runs without the ceiling.
    with_ceiling = not (args.in_place and args.backend == "postgres")
    db = seed_seconds = None
    if with_ceiling:
        corpus_path, seed_seconds = corpus(newsdesk, args.articles)
        if args.in_place:
            log(f"working on the corpus itself ({corpus_path}), not a copy")
            db = corpus_path
        else:
            db = working_copy(corpus_path)
    run_db = PG_RUN_DB
    pg_info = None
    if args.backend == "postgres":
        global PG_METER
        pg = Postgres(args.pg_url)
        corpus_name, seed_seconds = corpus_pg(newsdesk, pg, args.articles)
        if args.in_place:
            # Opened for this run, closed again at its end (a template takes no connections).
            log(f"working on {corpus_name} itself, not a copy, and without the ceiling")
            pg.sql(f"ALTER DATABASE {corpus_name} WITH ALLOW_CONNECTIONS true")
            run_db = corpus_name
            database_url = pg.db_url(run_db)
        else:
            database_url = working_copy_pg(pg, corpus_name)
        slugs, tags, authors = sample_corpus_pg(pg, run_db, 1000)
        all_slugs = sample_corpus_pg(pg, run_db, 100_000)[0]
        PG_METER = PgCpu(pg, run_db)
        if PG_METER.postmaster is None:
            log("the PostgreSQL server's processes are not visible here: no PostgreSQL CPU figures")
        lacking = missing_in_sqlite(db, slugs) if db else 0
        if lacking:
            log(f"warning: the ceiling's SQLite corpus lacks {lacking} of the sampled slugs")
        pg_info = pg.settings() | {
            "corpus": corpus_name, "url": pg.shown(run_db), "db": run_db,
            "in_place": args.in_place,
            "pool": os.environ.get("DATABASE_POOL_SIZE", "8"),
            "cpu": PG_METER.postmaster is not None}
    else:
        database_url = db
        slugs, tags, authors = sample_corpus(db, 1000)
        all_slugs = sample_corpus(db, 100_000)[0]
    # Every benchmark client comes from one loopback address, which the per-address
    # budget of anonymous searches (30, then 1/s) and the per-address share of streams
    # (100) would stop at once: the benchmark measures the server's work, so both are
    # lifted here.
    env = dict(os.environ, DATABASE_URL=database_url, BIND_ADDR=f"127.0.0.1:{NEWSDESK_PORT}",
               ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=ADMIN_PASSWORD, RUST_LOG=args.log,
               SEARCH_BURST="100000", SEARCH_RATE="100000", STREAMS_PER_ADDRESS="100000")
    if args.instances == 2:
        two_instances(args, newsdesk, env, pg_info, seed_seconds, slugs, tags, authors, all_slugs)
        return
    on_pg = pg_info is not None
    nd = Server("newsdesk", [newsdesk], NEWSDESK_PORT, env, uses_pg=on_pg)
    ce = (Server("ceiling", [ceiling, db, f"127.0.0.1:{CEILING_PORT}"], CEILING_PORT)
          if with_ceiling else None)
    rows, failures = [], []
    try:
        _, _, login = api(NEWSDESK_PORT, "/api/v1/auth/token", method="POST",
                          body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        token = login["access_token"]
        # First, on the server as it started: every tag, section, region and author page
        # once, cold.
        pages, regions = listing_pages(NEWSDESK_PORT, tags, authors)
        log(f"scenario: {len(pages)} listing pages, cold")
        cold = cold_pages(NEWSDESK_PORT, pages)
        cold["rss_mb"] = nd.rss_mb()
        rows.append((f"cold tag, section, region and author pages ({len(pages)} different, "
                     f"each the first request after start; max {cold['max']:.1f} ms)",
                     cold, None, "p99 < 10 ms"))
        # Then child sitemaps, each the first request for it since start, spread over the
        # archive (the index names them).
        with urllib.request.urlopen(f"http://127.0.0.1:{NEWSDESK_PORT}/sitemap.xml",
                                    timeout=60) as r:
            index = r.read().decode()
        children = re.findall(r"<loc>[^<]*(/sitemaps/articles-\d+\.xml)</loc>", index)
        step = max(1, len(children) // 100)
        children = children[::step][:100]
        log(f"scenario: {len(children)} child sitemaps, cold")
        cold_children = cold_pages(NEWSDESK_PORT, children)
        cold_children["rss_mb"] = nd.rss_mb()
        rows.append((f"child sitemap, cold ({len(children)} different of "
                     f"{len(re.findall('<loc>', index)):,}, each the first request after start; "
                     f"max {cold_children['max']:.1f} ms)",
                     cold_children, None, "p99 < 10 ms"))
        ctx = {"slugs": slugs, "tags": tags, "authors": authors, "all_slugs": all_slugs,
               "regions": regions}
        log("scenario: cursor walk, cold")
        prepare(ctx, NEWSDESK_PORT, token, deep=50 if args.smoke else 1000)
        cold_walk = ctx["cold_walk"]
        cold_walk["rss_mb"] = nd.rss_mb()
        rows.append((f"cursor walk, cold ({len(ctx['deep_cursor_paths']):,} pages deep, each "
                     f"page the first request for it since start; max {cold_walk['max']:.1f} ms)",
                     cold_walk, None, "p99 < 10 ms"))
        common = dict(threads=args.threads, seconds=args.seconds, warmup=args.warmup)
        hot = {"article by slug (1,000 slugs across the corpus)", "newest 20 (front page)",
               "20 by tag", "cursor walk, 50 pages deep",
               f"article by slug ({len(all_slugs):,} slugs, beyond the cache)",
               "20 by section with descendants", "20 by region", "20 by author",
               f"cursor walk, {len(ctx['deep_cursor_paths']):,} pages deep"}
        for name, nd_script, ce_script, target in scenarios(ctx, hot if args.scaling else None):
            log(f"scenario: {name}")
            if "beyond the cache" not in name:
                prewarm(NEWSDESK_PORT, nd_script)
            ours = wrk(NEWSDESK_PORT, nd_script, args.connections, server=nd, **common)
            ref = (wrk(CEILING_PORT, ce_script, args.connections, server=ce, **common)
                   if ce_script and ce else None)
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
            nd = Server("newsdesk", [newsdesk], NEWSDESK_PORT, dict(env, RUST_LOG="info"),
                        uses_pg=on_pg)
            name, nd_script, ce_script, target = scenarios(ctx, {"304 revalidation"})[0]
            log("scenario: 304 revalidation with the access log on")
            ours = wrk(NEWSDESK_PORT, nd_script, args.connections, server=nd, **common)
            ref = wrk(CEILING_PORT, ce_script, args.connections, server=ce, **common)
            rows.append(("304 revalidation, access log on (RUST_LOG=info)", ours, ref, target))
    finally:
        nd.stop()
        if ce:
            ce.stop()
        if on_pg and args.in_place:
            pg.sql_retrying(f"ALTER DATABASE {run_db} WITH ALLOW_CONNECTIONS false")
    findings = log_findings(["newsdesk"])
    locked = findings["locked"]
    errors = sum(r[1]["errors"] for r in rows)
    report = render(args, rows, seed_seconds, nd.startup_seconds, locked, pg_info, findings)
    print(report)
    if on_pg:
        show_findings(findings)
    if args.smoke:
        logged = findings["error"] if on_pg else 0
        if errors or locked or logged:
            raise SystemExit(f"smoke run failed: {errors} errors, {locked} 'database is locked'"
                             + (f", {logged} ERROR lines in newsdesk's log" if on_pg else ""))
        log(f"smoke run passed: {len(rows)} scenarios, zero errors")
        return
    if not args.no_write:
        write_results(args, report)


def two_instances(args, newsdesk, env, pg_info, seed_seconds, slugs, tags, authors, all_slugs):
    """Two newsdesk processes on one PostgreSQL database, A and B on ports of their own.
    Each load scenario runs twice in a row: against A alone with every connection (the
    one-instance reference), then two wrk processes at once, one per instance with half
    the connections each. Then breaking items posted through A at a steady rate, timed
    to their arrival on B's stream (and on A's, for reference)."""
    a = Server("newsdesk", [newsdesk], NEWSDESK_PORT, env, uses_pg=True)
    rows = []
    b = None
    try:
        b = Server("newsdesk-b", [newsdesk], NEWSDESK_B_PORT,
                   dict(env, BIND_ADDR=f"127.0.0.1:{NEWSDESK_B_PORT}"), uses_pg=True)
        _, _, login = api(NEWSDESK_PORT, "/api/v1/auth/token", method="POST",
                          body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        token = login["access_token"]
        # A token signed by A must open B: the secret is shared through the database.
        api(NEWSDESK_B_PORT, "/api/v1/auth/me", token=token)
        common = dict(threads=args.threads, seconds=args.seconds, warmup=args.warmup)
        half = max(args.threads, args.connections // 2)
        creates = CREATE_LUA % (json.dumps(token), lua_list(tags), lua_list(authors),
                                lua_list([]), 1.0)
        loads = [
            ("article by slug (1,000 slugs across the corpus, cached)",
             lua_paths([f"/api/v1/articles/{x}" for x in slugs]), args.connections, half,
             "reported"),
            (f"article by slug ({len(all_slugs):,} slugs, beyond the cache)",
             lua_paths([f"/api/v1/articles/{x}" for x in all_slugs]), args.connections, half,
             "reported"),
            ("newest 20 (front page)", lua_paths(["/api/v1/articles?per_page=20"]),
             args.connections, half, "reported"),
            ("article creates, 8 clients (4 per instance)", creates, 8, 4, "≥ 1,500/s"),
        ]
        for name, script, one_conns, each, target in loads:
            log(f"scenario: {name}, one instance")
            one = wrk(NEWSDESK_PORT, script, one_conns, server=a, **common)
            log(f"scenario: {name}, two instances")
            both = wrk_many([(NEWSDESK_PORT, script, each, a), (NEWSDESK_B_PORT, script, each, b)],
                            **common)
            rows.append((name, both, one, target))
        seconds = args.seconds
        log(f"scenario: breaking items through A at {ACROSS_RATE}/s for {seconds} s, "
            f"streams on A and B")
        on_b, on_a, sent, failed = asyncio.run(
            sse_across(NEWSDESK_PORT, NEWSDESK_B_PORT, token, ACROSS_RATE, seconds))
        stream = {"rps": None, "errors": failed + 2 * sent - len(on_b) - len(on_a),
                  "sent": sent, "b": on_b, "a": on_a,
                  "rss": (a.rss_mb(), b.rss_mb())}
        rows.append((f"breaking items posted through A at {ACROSS_RATE}/s for {seconds} s "
                     f"({sent} items): A's 201 to the event on B's stream, and on A's own "
                     f"for reference (max on B {max(on_b, default=float('nan')):.1f} ms)",
                     stream, None, "< 1,000 ms"))
    finally:
        a.stop()
        if b:
            b.stop()
    findings = log_findings(["newsdesk", "newsdesk-b"])
    errors = sum(r[1]["errors"] for r in rows)
    report = render_two(args, rows, seed_seconds, (a.startup_seconds, b.startup_seconds),
                        pg_info, findings)
    print(report)
    show_findings(findings)
    if args.smoke:
        if errors or findings["error"]:
            raise SystemExit(f"smoke run failed: {errors} errors, {findings['error']} ERROR "
                             "lines in the instances' logs")
        log(f"smoke run passed: {len(rows)} scenarios on two instances, zero errors")
        return
    if not args.no_write:
        write_results(args, report)


def log_findings(names):
    """What the servers' logs (bench/out/NAME.log) say: 'database is locked' lines,
    WARN and ERROR lines, and the first few distinct messages of those."""
    found = {"locked": 0, "warn": 0, "error": 0, "samples": []}
    for name in names:
        path = os.path.join(OUT, f"{name}.log")
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as f:
            for line in f:
                found["locked"] += "database is locked" in line
                m = re.search(r"\s(WARN|ERROR)\s+(\S+)\s+(.*)", line)
                if not m:
                    continue
                found[m.group(1).lower()] += 1
                # Lines differ by request ids and timings: keep a few distinct messages.
                message = f"{name}: {m.group(1)} {m.group(2)} {m.group(3)[:300]}"
                gist = re.sub(r"\d+", "N", m.group(3))[:120]
                if len(found["samples"]) < 8 and all(g != gist for g, _ in found["samples"]):
                    found["samples"].append((gist, message))
    return found


def show_findings(findings):
    if findings["warn"] or findings["error"]:
        log(f"newsdesk logged {findings['error']} ERROR and {findings['warn']} WARN lines, "
            "among them:")
        for _, message in findings["samples"]:
            log(f"  {message}")


def lua_list(items):
    return "{" + ", ".join(json.dumps(i) for i in items) + "}"


def pg_sentence(pg_info):
    """The PostgreSQL server of a run, in words."""
    host = urllib.parse.urlsplit(pg_info["url"]).netloc.rsplit("@", 1)[-1]
    return (f"PostgreSQL {pg_info['server_version'].split()[0]} at {host} (fsync "
            f"{pg_info['fsync']}, synchronous_commit {pg_info['synchronous_commit']}, "
            f"shared_buffers {pg_info['shared_buffers']}), "
            + (f"on the corpus database `{pg_info['corpus']}` itself (too big to copy here)"
               if pg_info.get("in_place") else
               f"database `{PG_RUN_DB}` copied from `{pg_info['corpus']}` for this run"))


def pg_cpu_note(pg_info):
    if not pg_info["cpu"]:
        return ("PostgreSQL's CPU was not measured: its processes are not visible on this "
                "machine.")
    return ("PostgreSQL CPU µs/req is the user and system CPU time of the server's processes "
            f"that worked for the run (the postmaster, its background processes and the "
            f"backends of `{pg_info.get('db', PG_RUN_DB)}`, from `/proc`) divided by the "
            "requests wrk completed; "
            "newsdesk's CPU column counts newsdesk's own processes only.")


def log_sentence(findings):
    return f"{findings['error']} ERROR and {findings['warn']} WARN lines"


def render(args, rows, seed_seconds, startup, locked, pg_info=None, findings=None):
    m = machine()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "scaling run (list and article reads)" if args.scaling else "full run"
    if BODY_WORDS:
        mode += f", bodies of about {BODY_WORDS} words"
    seeded = f"{'%.1f s' % seed_seconds if seed_seconds is not None else 'an earlier run'}"
    if pg_info is None:
        lines = [
            f"### {args.articles:,} articles — {mode}",
            "",
            f"{when}, revision `{m['revision']}`, {m['cores']} cores, {m['memory_gib']:.0f} GiB; "
            f"wrk {args.threads} threads, {args.connections} connections, {args.seconds} s after a "
            f"{args.warmup} s warm-up, on 127.0.0.1; newsdesk with RUST_LOG={args.log}. Corpus seeded in "
            f"{seeded}; "
            f"newsdesk answered /healthz {startup * 1000:.0f} ms after start; "
            f"'database is locked' in its log: {locked}.",
            "",
            "| scenario | newsdesk req/s | p50 ms | p99 ms | errors | RSS MB | CPU µs/req | ceiling req/s | ratio | target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
    else:
        lines = [
            f"## PostgreSQL, {args.articles:,} articles — {mode}",
            "",
            f"{when}, revision `{m['revision']}`, {m['cores']} cores, {m['memory_gib']:.0f} GiB; "
            f"wrk {args.threads} threads, {args.connections} connections, {args.seconds} s after a "
            f"{args.warmup} s warm-up, on 127.0.0.1; newsdesk with RUST_LOG={args.log} and "
            f"DATABASE_POOL_SIZE={pg_info['pool']} on {pg_sentence(pg_info)}. Corpus seeded in "
            f"{seeded}; newsdesk answered /healthz {startup * 1000:.0f} ms after start; its "
            f"log: {log_sentence(findings)}.",
            "",
            f"{pg_cpu_note(pg_info)} " + (
                "No ceiling in this run: its SQLite corpus of the same size would not fit on "
                "the disk beside this one." if pg_info.get("in_place") else
                "The ceiling is the SQLite-only program of the SQLite sections, on a SQLite "
                "copy of the same corpus (seeded alike): the ratio is newsdesk on PostgreSQL "
                "÷ the ceiling on SQLite."),
            "",
            "| scenario | newsdesk req/s | p50 ms | p99 ms | errors | RSS MB | CPU µs/req | PostgreSQL CPU µs/req | ceiling (SQLite) req/s | ratio | target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
    for name, ours, ref, target in rows:
        ratio = f"{ours['rps'] / ref['rps']:.2f}×" if ref and ours["rps"] else "—"
        ref_rps = fmt(ref["rps"], 0) if ref else "—"
        extra = ""
        if "read_share_of_read_only" in ours:
            extra = f" (reads at {ours['read_share_of_read_only']:.2f}× the read-only mix)"
        rps = fmt(ours["rps"], 0) if ours["rps"] is not None else "—"
        cpu = fmt(ours["cpu_us"], 0) if ours.get("cpu_us") is not None else "—"
        pg_cpu = ""
        if pg_info is not None:
            pg_cpu = (fmt(ours["pg_cpu_us"], 0) if ours.get("pg_cpu_us") is not None
                      else "—") + " | "
        lines.append(
            f"| {name}{extra} | {rps} | {ours['p50']:.2f} | {ours['p99']:.2f} | "
            f"{ours['errors']} | {ours['rss_mb']:.0f} | {cpu} | {pg_cpu}{ref_rps} | {ratio} | {target} |")
    lines.append("")
    return "\n".join(lines)


def render_two(args, rows, seed_seconds, startups, pg_info, findings):
    m = machine()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    seeded = f"{'%.1f s' % seed_seconds if seed_seconds is not None else 'an earlier run'}"
    half = max(args.threads, args.connections // 2)
    lines = [
        f"## Two instances on one PostgreSQL database, {args.articles:,} articles",
        "",
        f"{when}, revision `{m['revision']}`, {m['cores']} cores, {m['memory_gib']:.0f} GiB; "
        f"two newsdesk processes, A on 127.0.0.1:{NEWSDESK_PORT} and B on "
        f"127.0.0.1:{NEWSDESK_B_PORT}, each with RUST_LOG={args.log} and "
        f"DATABASE_POOL_SIZE={pg_info['pool']}, on {pg_sentence(pg_info)}. Each load runs "
        f"twice in a row, {args.seconds} s after a {args.warmup} s warm-up: one wrk process "
        f"against A alone with {args.connections} connections (8 for creates) and "
        f"{args.threads} threads (\"one instance\"), then two wrk processes at once, one per "
        f"instance, each with {args.threads} threads and half the connections ({half}; 4 for "
        f"creates), their rates summed (\"both\"). Corpus seeded in {seeded}; A and B "
        f"answered /healthz {startups[0] * 1000:.0f} and {startups[1] * 1000:.0f} ms after "
        f"start; their logs: {log_sentence(findings)}.",
        "",
        f"newsdesk CPU µs/req is both instances' CPU time over both's requests. "
        f"{pg_cpu_note(pg_info)} The stream row: breaking items posted through A on a fixed "
        "timetable, one client on each instance's stream; p50 and p99 are of the time from "
        "A's 201 to the `created` event on A's own stream (A) and on B's (B, which learns of "
        "the item from the database's notification); its errors are failed posts and events "
        "that never arrived.",
        "",
        "| scenario | both req/s | A req/s | B req/s | p50 ms A / B | p99 ms A / B | errors | RSS MB A / B | newsdesk CPU µs/req | PostgreSQL CPU µs/req | one instance req/s | both ÷ one | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, both, one, target in rows:
        if both["rps"] is None:
            a, b = both["a"], both["b"]
            lines.append(
                f"| {name} | — | — | — | {percentile(a, 50):.2f} / {percentile(b, 50):.2f} | "
                f"{percentile(a, 99):.2f} / {percentile(b, 99):.2f} | {both['errors']} | "
                f"{both['rss'][0]:.0f} / {both['rss'][1]:.0f} | — | — | — | — | {target} |")
            continue
        pa, pb = both["parts"]
        pg_cpu = fmt(both["pg_cpu_us"], 0) if both.get("pg_cpu_us") is not None else "—"
        lines.append(
            f"| {name} | {fmt(both['rps'], 0)} | {fmt(pa['rps'], 0)} | {fmt(pb['rps'], 0)} | "
            f"{pa['p50']:.2f} / {pb['p50']:.2f} | {pa['p99']:.2f} / {pb['p99']:.2f} | "
            f"{both['errors']} | {pa['rss_mb']:.0f} / {pb['rss_mb']:.0f} | "
            f"{fmt(both['cpu_us'], 0)} | {pg_cpu} | {fmt(one['rps'], 0)} | "
            f"{both['rps'] / max(one['rps'], 1):.2f}× | {target} |")
    lines.append("")
    return "\n".join(lines)


MEDIA_WIDTHS = "320,640,1024,1600,2400"
# A 12-megapixel image decoded to 8-bit RGB, in MB: the memory target's unit.
DECODED_12MP_MB = 4000 * 3000 * 3 / 1e6


def media_bench(args):
    """Renditions by newsdesk and by sharp, then file serving against the ceiling."""
    ensure_wrk()
    count = 1 if args.smoke else 4
    newsdesk, ceiling = build("debug" if args.smoke else "release")
    media = os.path.join(BENCH, "media")
    if not shutil.which("npm"):
        raise SystemExit("npm is missing: --media needs Node.js and npm for sharp")
    run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=media)
    work = os.path.join(OUT, "media")
    shutil.rmtree(work, ignore_errors=True)
    photos = os.path.join(work, "photos")
    run(["node", "make.mjs", photos, str(count)], cwd=media)
    files = sorted(os.path.join(photos, f) for f in os.listdir(photos))
    sizes = {os.path.basename(f): os.path.getsize(f) for f in files}

    # sharp, in a process of its own; its own timer per file, and its peak RSS.
    sharp_wall, sharp_rss, out = timed_child(["node", "sharp.mjs", MEDIA_WIDTHS] + files,
                                             cwd=media)
    sharp = json.loads(out)
    # newsdesk: the whole import (database and store included), one process.
    db = os.path.join(work, "newsdesk.db")
    env = dict(os.environ, DATABASE_URL=db, MEDIA_DIR=os.path.join(work, "files"),
               MEDIA_WIDTHS=MEDIA_WIDTHS, ADMIN_EMAIL=ADMIN_EMAIL,
               ADMIN_PASSWORD=ADMIN_PASSWORD, RUST_LOG="warn")
    run([newsdesk, "migrate"], env=env)
    nd_wall, nd_rss, out = timed_child([newsdesk, "media", "import", photos], env=env)
    log(out.strip())
    per_sharp = sum(sharp["seconds"]) / len(files)
    per_nd = nd_wall / len(files)

    # Serving: every rendition, round robin, from both servers.
    global NEWSDESK_PORT, CEILING_PORT
    NEWSDESK_PORT = free_port(NEWSDESK_PORT)
    CEILING_PORT = free_port(CEILING_PORT)
    paths = []
    for top, _, names in os.walk(os.path.join(work, "files")):
        for name in names:
            rel = os.path.relpath(os.path.join(top, name), os.path.join(work, "files"))
            if "/" in rel:
                paths.append("/files/" + rel)
    paths.sort()
    env_serve = dict(env, BIND_ADDR=f"127.0.0.1:{NEWSDESK_PORT}")
    nd = Server("newsdesk", [newsdesk], NEWSDESK_PORT, env_serve)
    ce = Server("ceiling", [ceiling, db, f"127.0.0.1:{CEILING_PORT}"], CEILING_PORT,
                dict(os.environ, CEILING_FILES_DIR=os.path.join(work, "files")))
    seconds, warmup = (1, 0) if args.smoke else (args.seconds, args.warmup)
    common = dict(threads=args.threads, seconds=seconds, warmup=warmup)
    try:
        ours = wrk(NEWSDESK_PORT, lua_paths(paths), args.connections, server=nd, **common)
        ref = wrk(CEILING_PORT, lua_paths(paths), args.connections, server=ce, **common)
    finally:
        nd.stop()
        ce.stop()
    errors = ours["errors"] + ref["errors"]
    mean_bytes = sum(os.path.getsize(os.path.join(work, p.lstrip("/")))
                     for p in paths) / max(len(paths), 1)
    m = machine()
    lines = [
        f"### Media: renditions and file serving ({count} JPEGs + 1 PNG, 4000 × 3000)",
        "",
        f"`bench/run.py --media{' --smoke' if args.smoke else ''}` at {m['revision']}, "
        f"{datetime.date.today()}, {m['cores']} cores. Widths {MEDIA_WIDTHS}, WebP and JPEG at quality 80 "
        f"each; inputs {', '.join(f'{k} {v / 1e6:.1f} MB' for k, v in sizes.items())}.",
        "",
        "| | newsdesk | sharp 0.35.5 (libvips) | newsdesk ÷ sharp | target |",
        "|---|---:|---:|---:|---|",
        f"| time per image (s) | {per_nd:.2f} | {per_sharp:.2f} | {per_nd / per_sharp:.2f} "
        f"| ≤ 1 |",
        f"| peak RSS of the process (MB) | {nd_rss:.0f} | {sharp_rss:.0f} | "
        f"{nd_rss / sharp_rss:.2f} | newsdesk < 3 × {DECODED_12MP_MB:.0f} MB "
        f"(= {nd_rss / DECODED_12MP_MB:.2f} × one decoded 12 MP image) |",
        "",
        "newsdesk's time is its whole `media import` (start, database, metadata removal, "
        "SHA-256, files written); sharp's is its own timer around each file's outputs, in "
        "memory. Per-file seconds, sharp: "
        + ", ".join(f"{x:.2f}" for x in sharp["seconds"]) + ".",
        "",
        "| file serving (64 connections, every rendition round robin, "
        f"mean {mean_bytes / 1e3:.0f} KB) | requests/s | p50 ms | p99 ms | errors "
        "| ratio to ceiling | target |",
        "|---|---:|---:|---:|---:|---:|---|",
        f"| newsdesk `/files/…` | {ours['rps']:,.0f} | {ours['p50']:.2f} | {ours['p99']:.2f} "
        f"| {ours['errors']} | {ours['rps'] / max(ref['rps'], 1):.2f}× | ≥ 0.8× |",
        f"| ceiling, actix-files | {ref['rps']:,.0f} | {ref['p50']:.2f} | {ref['p99']:.2f} "
        f"| {ref['errors']} | | |",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.smoke:
        if errors:
            raise SystemExit(f"media smoke run: {errors} errors")
        print(f"media smoke: {len(files)} images made by newsdesk and sharp, "
              f"{len(paths)} files served, zero errors")
        return
    if not args.no_write:
        write_media_results(report)


def timed_child(cmd, env=None, cwd=None):
    """Runs a command to its end: wall seconds, its own peak RSS in MB, and stdout."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=cwd)
    out_chunks, err_chunks = [], []
    readers = [threading.Thread(target=lambda: out_chunks.append(proc.stdout.read())),
               threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()))]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    for r in readers:
        r.join()
    out = b"".join(out_chunks).decode()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out}\n{b''.join(err_chunks).decode()}")
    return seconds, usage.ru_maxrss / 1024, out


def write_media_results(report):
    begin, end = "<!-- run:media -->", "<!-- /run:media -->"
    text = open(RESULTS).read()
    block = f"{begin}\n{report}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        discussion = "\n## Where the time went"
        text = text.replace(discussion, f"\n{block}\n{discussion}", 1) if discussion in text \
            else text + f"\n{block}\n"
    with open(RESULTS, "w") as f:
        f.write(text)
    log(f"wrote {RESULTS}")


def results_key(args):
    """The key of a run's section in RESULTS.md and of its raw file, bench/raw/<key>.txt.
    SQLite runs keep the keys they always had."""
    mode = ("scaling" if args.scaling else "full") + corpus_suffix()
    if args.backend == "postgres" and args.instances == 2:
        return f"postgres-2-instances-{args.articles}"
    if args.backend == "postgres":
        return f"postgres-{args.articles}-{mode}"
    return f"{args.articles}-{mode}"


def write_results(args, report):
    key = results_key(args)
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
        # SQLite runs go under the SQLite marker, as before; PostgreSQL runs (sections
        # of their own) under a marker of their own, placed before the discussion.
        marker = "<!-- runs -->" if args.backend == "sqlite" else "<!-- runs:postgres -->"
        if marker not in text and args.backend != "sqlite":
            discussion = "\n## Where the time went"
            if discussion in text:
                text = text.replace(discussion, f"\n{marker}\n{discussion}", 1)
            else:
                text += f"\n{marker}\n"
        if marker in text:
            text = text.replace(marker, f"{marker}\n\n{block}", 1)
        else:
            text += f"\n{block}\n"
    with open(RESULTS, "w") as f:
        f.write(text)
    log(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
