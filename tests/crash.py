#!/usr/bin/env python3
"""Concurrency and crash safety: kill -9 a loaded newsdesk, restart it, and check that
nothing it acknowledged is lost and that the database is sound.

Starts the real binary on a fresh database, has 8 writers create and edit articles
over HTTP at full speed while 4 readers list them (no request may answer 5xx, none
may fail with "database is locked"), sends SIGKILL mid-load, starts the binary again on the same
database, and checks that every create that got a 201 is readable, that every edit that got
a 200 is at least as new as what is stored, and that `newsdesk check` reports `ok`.
Then it scans the server's logs for the admin password and every token it handed out.

The database is a new SQLite file, or, when NEWSDESK_TEST_DATABASE_URL names a
PostgreSQL server whose user may create databases, a new database on that server
(made with psql, dropped on exit, also after a failure).

On PostgreSQL with NEWSDESK_PG_DIR set (the directory of a cluster started by
.ci/postgres, the server NEWSDESK_TEST_DATABASE_URL names) a second phase kills the
database instead: while writers and readers go on through one newsdesk process, the
postmaster gets SIGKILL, stays down a few seconds, and is started again with
`.ci/postgres restart`. Throughout, every answer must be a 2xx or a 503 (never a 500,
never no answer within the client's 10 s); while PostgreSQL is down the writes must get
503s; after the restart the same newsdesk process must acknowledge writes again within
30 s and keep doing so; and every write acknowledged before, during or after the outage
must be stored (read back through newsdesk and straight from the database).

    tests/crash.py [path/to/newsdesk]      (default: target/debug/newsdesk)

Only the standard library is used (and psql on PostgreSQL).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "debug", "newsdesk")
PORT = 18181 + os.getpid() % 500
ADMIN_EMAIL, ADMIN_PASSWORD = "crash@example.com", "crash-test-password-1"
WRITERS, READERS, LOAD_SECONDS = 8, 4, 2.0
# The PostgreSQL server to make the database on, and the cluster the outage phase may
# kill; both unset (or empty) on SQLite.
PG_SERVER = os.environ.get("NEWSDESK_TEST_DATABASE_URL", "").strip()
PG_DIR = os.environ.get("NEWSDESK_PG_DIR", "").strip()
# The outage phase: writes before the kill, how long PostgreSQL stays down, how long
# newsdesk has to acknowledge a write once it is back, how long 503s may still come
# after that first write, and how long the load goes on after it.
OUTAGE_LOAD_SECONDS = 2.0
OUTAGE_SECONDS = 8.0
RECOVERY_DEADLINE = 30.0
SETTLE_SECONDS = 1.0
AFTER_RECOVERY_SECONDS = 3.0
CLIENT_TIMEOUT = 10
WRITES = ("create", "edit")

# Every newsdesk process started, so that none outlives the test.
PROCESSES = []


def start(db, log, **extra):
    env = dict(os.environ, DATABASE_URL=db, BIND_ADDR=f"127.0.0.1:{PORT}", ADMIN_EMAIL=ADMIN_EMAIL,
               ADMIN_PASSWORD=ADMIN_PASSWORD, RUST_LOG="info", **extra)
    proc = subprocess.Popen([BIN], env=env, stdout=log, stderr=log)
    PROCESSES.append(proc)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1):
                return proc
        except Exception:
            time.sleep(0.05)
    raise SystemExit("newsdesk did not start")


def call(method, path, token=None, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=CLIENT_TIMEOUT) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def login(tokens):
    _, answer = call("POST", "/api/v1/auth/token", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    tokens.append(answer["access_token"])
    return answer["access_token"]


# PostgreSQL: the test's database and the cluster behind it.

def psql(url, sql):
    """Runs one statement with psql; returns its unaligned, tuples-only output."""
    done = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-c", sql],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"psql: {done.stderr.strip()}")
    return done.stdout


def with_database(server, name):
    """The server's URL with its database swapped for `name`."""
    parts = urllib.parse.urlsplit(server)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def server_port(server):
    return urllib.parse.urlsplit(server).port or 5432


def cluster_up():
    port = open(os.path.join(PG_DIR, "port")).read().strip()
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", port],
                          capture_output=True).returncode == 0


def restart_cluster():
    """Starts the cluster in NEWSDESK_PG_DIR again; returns .ci/postgres's exit status
    and its output."""
    done = subprocess.run([os.path.join(ROOT, ".ci", "postgres"), "restart", PG_DIR],
                          capture_output=True, text=True, timeout=180)
    return done.returncode, (done.stdout + done.stderr).strip()


def kill_newsdesk_phase(db, log, tokens):
    """Writers and readers through newsdesk, newsdesk killed with SIGKILL mid-load,
    started again: every acknowledged write must be there."""
    server = start(db, log)
    token = login(tokens)
    call("POST", "/api/v1/tags", token, {"name": "Crash"})
    created, edited, failures = [], {}, []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                status, article = call("POST", "/api/v1/articles", token, {
                    "title": f"Client {n} story {i}", "tags": ["crash"], "status": "published",
                    "body": "Paragraph. " * 100})
            except Exception:
                return  # the server died under us: that request was never acknowledged
            if status == 201:
                with lock:
                    created.append(article["slug"])
                try:
                    status, changed = call("PATCH", f"/api/v1/articles/{article['slug']}", token,
                                           {"summary": f"edit {i}"})
                except Exception:
                    return
                if status == 200:
                    with lock:
                        edited[article["slug"]] = changed["summary"]
            elif status >= 500:
                with lock:
                    failures.append(status)

    reads = [0]

    def reader(n):
        paths = ["/api/v1/articles?per_page=50", "/api/v1/articles?tag=crash", "/api/v1/tags"]
        i = n
        while not stop.is_set():
            i += 1
            try:
                status, _ = call("GET", paths[i % len(paths)])
            except Exception:
                return
            with lock:
                reads[0] += 1
                if status >= 500:
                    failures.append(status)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(WRITERS)]
    threads += [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    for t in threads:
        t.start()
    time.sleep(LOAD_SECONDS)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for t in threads:
        t.join()

    server = start(db, log)
    try:
        token = login(tokens)
        missing = [s for s in created if call("GET", f"/api/v1/articles/{s}", token)[0] != 200]
        lost_edits = [s for s, summary in edited.items()
                      if call("GET", f"/api/v1/articles/{s}", token)[1]["summary"] != summary]
        _, listed = call("GET", "/api/v1/articles?tag=crash&per_page=1", token)
        found = listed["meta"]["total"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return dict(acknowledged=len(created), found=found, edited=len(edited), missing=missing,
                lost_edits=lost_edits, reads=reads[0], failures=failures)


def outage_phase(db, work, tokens):
    """PostgreSQL only: the postmaster killed with SIGKILL and started again under one
    newsdesk process that goes on serving writes. Returns the figures and the problems."""
    problems = []
    log_path = os.path.join(work, "server-outage.log")
    log = open(log_path, "w")
    server = start(db, log)
    token = login(tokens)
    call("POST", "/api/v1/tags", token, {"name": "Outage"})
    records = []  # (kind, started, ended, status or None, error or None)
    created, edited = [], {}
    lock = threading.Lock()
    stop = threading.Event()

    def timed(kind, method, path, body=None, auth=True):
        started = time.monotonic()
        try:
            status, answer = call(method, path, token if auth else None, body)
            error = None
        except Exception as e:  # no answer in time, or the connection went
            status, answer, error = None, None, f"{type(e).__name__}: {e}"
        with lock:
            records.append((kind, started, time.monotonic(), status, error))
        if status is None or status == 503:
            time.sleep(0.1)  # as a client would back off
        return status, answer

    def writer(n):
        i = 0
        while not stop.is_set():
            i += 1
            status, article = timed("create", "POST", "/api/v1/articles", {
                "title": f"Outage {n} story {i}", "tags": ["outage"], "status": "published",
                "body": "Paragraph. " * 100})
            if status != 201:
                continue
            with lock:
                created.append(article["slug"])
            status, changed = timed("edit", "PATCH", f"/api/v1/articles/{article['slug']}",
                                    {"summary": f"outage edit {n}.{i}"})
            if status == 200:
                with lock:
                    edited[article["slug"]] = changed["summary"]

    def reader(n):
        paths = ["/api/v1/articles?per_page=50", "/api/v1/articles?tag=outage", "/api/v1/tags"]
        i = n
        while not stop.is_set():
            i += 1
            timed("read", "GET", paths[i % len(paths)], auth=False)

    def prober(path):
        # A monitor or load balancer asking twice a second.
        while not stop.is_set():
            timed(path.strip("/"), "GET", path, auth=False)
            time.sleep(0.5)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    threads += [threading.Thread(target=reader, args=(n,)) for n in range(2)]
    threads += [threading.Thread(target=prober, args=(p,)) for p in ["/healthz", "/readyz"]]
    for t in threads:
        t.start()
    killed_at = back_at = recovered_at = restart_took = None
    try:
        time.sleep(OUTAGE_LOAD_SECONDS)
        with open(os.path.join(PG_DIR, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        os.kill(postmaster, signal.SIGKILL)
        killed_at = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        restart_began = time.monotonic()
        status, output = restart_cluster()
        back_at = time.monotonic()
        restart_took = back_at - restart_began
        if status != 0:
            problems.append(f".ci/postgres restart failed ({status}): {output[-500:]}")
        else:
            # The first write acknowledged once PostgreSQL is back.
            while time.monotonic() < back_at + RECOVERY_DEADLINE and recovered_at is None:
                time.sleep(0.05)
                with lock:
                    done = [end for kind, _, end, status, _ in records
                            if kind in WRITES and end >= back_at and status in (200, 201)]
                if done:
                    recovered_at = min(done)
            if recovered_at is not None:
                time.sleep(AFTER_RECOVERY_SECONDS)
    finally:
        stop.set()
        for t in threads:
            t.join()

    # Figures, by when each request ended: before the kill, while PostgreSQL was down
    # (kill to restart), and after the restart.
    def window(end):
        if killed_at is None or end < killed_at:
            return "before"
        if back_at is None or end <= back_at:
            return "outage"
        return "after"

    acked = {"before": 0, "outage": 0, "after": 0}
    unavailable = {"before": 0, "outage": 0, "after": 0}
    unexpected = {}
    slowest = {}  # the longest a request of each kind took while PostgreSQL was down
    late_503 = 0
    for kind, started, end, status, error in records:
        w = window(end)
        if killed_at is not None and killed_at <= started and (back_at is None or started <= back_at):
            slowest[kind] = max(slowest.get(kind, 0.0), end - started)
        if status in (200, 201):
            if kind in WRITES:
                acked[w] += 1
        elif status == 503:
            if kind in WRITES:
                unavailable[w] += 1
            # (The probes may say 503 a little longer: /healthz also waits for the
            # notification listener, which reconnects on its own schedule.)
            if (kind in WRITES or kind == "read") and recovered_at is not None \
                    and started > recovered_at + SETTLE_SECONDS:
                late_503 += 1
        else:
            # Told by when the request was sent.
            key = (kind, window(started), status if status is not None else error)
            unexpected[key] = unexpected.get(key, 0) + 1
    for (kind, w, what), count in sorted(unexpected.items(), key=str):
        when = {"before": "before the kill", "outage": "while PostgreSQL was down",
                "after": "after the restart"}[w]
        problems.append(f"{count} {kind} request(s) sent {when} got "
                        f"{'status ' + str(what) if isinstance(what, int) else 'no answer: ' + what}")
    if killed_at is not None and unavailable["outage"] == 0:
        problems.append("no write got a 503 while PostgreSQL was down")
    if back_at is not None and recovered_at is None:
        problems.append(f"no write was acknowledged within {RECOVERY_DEADLINE:.0f} s of PostgreSQL's restart")
    if late_503:
        problems.append(f"{late_503} write or read request(s) got a 503 more than "
                        f"{SETTLE_SECONDS:.0f} s after writes came back")
    if acked["before"] < 10:
        problems.append(f"only {acked['before']} writes were acknowledged before the kill")
    if server.poll() is not None:
        problems.append(f"newsdesk exited (status {server.returncode}) during the outage phase")

    # Every acknowledged write, read back through the same newsdesk process and straight
    # from the database.
    try:
        missing = [s for s in created if call("GET", f"/api/v1/articles/{s}", token)[0] != 200]
        lost_edits = [s for s, summary in edited.items()
                      if (call("GET", f"/api/v1/articles/{s}", token)[1] or {}).get("summary") != summary]
    except Exception as e:
        missing, lost_edits = created, list(edited)
        problems.append(f"newsdesk did not answer the reads after the outage: {e}")
    stored = {}
    for line in psql(db, "SELECT slug, coalesce(summary, '') FROM articles").splitlines():
        slug, _, summary = line.partition("\t")
        stored[slug] = summary
    missing_db = [s for s in created if s not in stored]
    lost_db = [s for s, summary in edited.items() if stored.get(s) != summary]
    if missing or missing_db:
        problems.append(f"acknowledged creates missing: {len(missing)} through newsdesk "
                        f"{missing[:3]}, {len(missing_db)} in the database {missing_db[:3]}")
    if lost_edits or lost_db:
        problems.append(f"acknowledged edits lost: {len(lost_edits)} through newsdesk "
                        f"{lost_edits[:3]}, {len(lost_db)} in the database {lost_db[:3]}")
    pid = server.pid
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        problems.append("newsdesk did not stop within 30 s of SIGTERM after the outage phase")
        server.kill()
        server.wait()
    log.close()

    # newsdesk's warnings and errors, each message once with how often it came (a
    # message may span lines: the lines that follow one without a timestamp belong to it).
    notable = {}
    with open(log_path) as f:
        message = None
        for line in f:
            line = line.rstrip("\n")
            if line[:4].isdigit() and "T" in line[:11]:
                message = None
                level_and_text = line.split(" ", 1)[1].strip() if " " in line else line
                if (" WARN " in line or " ERROR " in line) and " request " not in line:
                    message = level_and_text
                    notable[message] = notable.get(message, 0) + 1
            elif message and line.strip():
                count = notable.pop(message)
                message = f"{message} / {line.strip()}"
                notable[message] = notable.get(message, 0) + count
    figures = dict(
        pid=pid, acked=acked, unavailable=unavailable, creates=len(created), edits=len(edited),
        reads=sum(1 for r in records if r[0] == "read"), slowest=slowest,
        outage=(back_at - killed_at) if back_at and killed_at else None,
        recovery=(max(0.0, recovered_at - back_at)) if recovered_at else None,
        late_503=late_503, notable=notable, log=log_path, restart_took=restart_took)
    return figures, problems


class Receiver:
    """A webhook endpoint on loopback that records each delivery's webhook-id and body
    (standard library only), answering 204."""

    def __init__(self):
        import http.server
        seen, lock = [], threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with lock:
                    seen.append((self.headers.get("webhook-id"), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.seen, self.lock = seen, lock
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.seen)


def outbox_phase(db, work, tokens):
    """Events written in the change's transaction survive kill -9: breaking items are
    made as fast as they are acknowledged, newsdesk is killed right after, and once it
    is started again every acknowledged item's event arrives (drop repeats by
    webhook-id: at least once), first arrivals in commit order."""
    receiver = Receiver()
    log = open(os.path.join(work, "server-outbox.log"), "w")
    extra = {"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_FIRST_RETRY_MS": "200"}
    server = start(db, log, **extra)
    token = login(tokens)
    status, hook = call("POST", "/api/v1/webhooks", token, {"url": receiver.url, "events": ["breaking.created"]})
    if status != 201:
        raise SystemExit(f"could not register the webhook: {status}")
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def writer(n):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                status, item = call("POST", "/api/v1/breaking", token, {"text": f"Outbox {n}.{i}"})
            except Exception:
                return
            if status == 201:
                with lock:
                    acked.append(item["id"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for t in threads:
        t.join()
    before = len(receiver.snapshot())
    server = start(db, log, **extra)
    deadline = time.time() + 90
    try:
        while time.time() < deadline:
            got = {body["data"]["id"] for _, body in receiver.snapshot()}
            if set(acked) <= got:
                break
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    seen = receiver.snapshot()
    first = {}
    for msg_id, body in seen:
        first.setdefault(msg_id, body["data"]["id"])
    order = list(first.values())
    inversions = sum(1 for a, b in zip(order, order[1:]) if b < a)
    missing = sorted(set(acked) - set(first.values()))
    return dict(acked=len(acked), before=before, received=len(seen), distinct=len(first),
                missing=missing, inversions=inversions,
                same_item_twice=len(first) - len(set(first.values())))


def main(work):
    pg_db = None
    if PG_SERVER:
        if not shutil.which("psql"):
            raise SystemExit("NEWSDESK_TEST_DATABASE_URL is set but psql is missing")
        if PG_DIR:
            port = open(os.path.join(PG_DIR, "port")).read().strip()
            if str(server_port(PG_SERVER)) != port:
                raise SystemExit(f"NEWSDESK_PG_DIR is a cluster on port {port}, but "
                                 f"NEWSDESK_TEST_DATABASE_URL names port {server_port(PG_SERVER)}")
        pg_db = f"nd_crash_{os.getpid()}_{int(time.time())}"
        psql(PG_SERVER, f"CREATE DATABASE {pg_db}")
        db = with_database(PG_SERVER, pg_db)
        where = urllib.parse.urlsplit(PG_SERVER).hostname, server_port(PG_SERVER)
        backend = f"PostgreSQL (database {pg_db} on {where[0]}:{where[1]})"
    else:
        db = os.path.join(work, "newsdesk.db")
        backend = "SQLite"
    try:
        return run(work, db, backend)
    finally:
        for proc in PROCESSES:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if pg_db:
            if PG_DIR and not cluster_up():
                restart_cluster()  # the outage phase stopped half-way; the drop needs it
            try:
                psql(PG_SERVER, f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
            except Exception as e:
                print(f"warning: could not drop the test database {pg_db}: {e}", file=sys.stderr)


def run(work, db, backend):
    log = open(os.path.join(work, "server.log"), "w")
    tokens = []
    first = kill_newsdesk_phase(db, log, tokens)
    log.close()
    outbox = outbox_phase(db, work, tokens)
    outage, outage_problems = None, []
    if PG_SERVER and PG_DIR:
        outage, outage_problems = outage_phase(db, work, tokens)
    check = subprocess.run([BIN, "check"], env=dict(os.environ, DATABASE_URL=db, RUST_LOG="warn"),
                           capture_output=True, text=True)
    server_log = ""
    for name in ["server.log", "server-outage.log", "server-outbox.log"]:
        if os.path.exists(os.path.join(work, name)):
            with open(os.path.join(work, name)) as f:
                server_log += f.read()
    secrets = [ADMIN_PASSWORD, *tokens]
    db_password = urllib.parse.urlsplit(PG_SERVER).password if PG_SERVER else None
    if db_password:
        secrets.append(db_password)
    leaked = [s for s in secrets if s in server_log]
    locked = server_log.count("database is locked")
    checked = check.stdout.strip() or check.stderr.strip()

    acknowledged, found = first["acknowledged"], first["found"]
    summary = (f"crash test on {backend}: {WRITERS} writers and {READERS} readers for {LOAD_SECONDS} s: "
               f"{acknowledged} creates acknowledged before kill -9, {found} found after "
               f"restart; {first['edited']} edits acknowledged, {len(first['lost_edits'])} lost; "
               f"{first['reads']} reads; {len(first['failures'])} 5xx; 'database is locked' {locked} times; "
               f"integrity check: {checked}")
    print(summary)
    print(f"outbox on {backend}: {outbox['acked']} breaking items acknowledged before kill -9 "
          f"({outbox['before']} of their events delivered by then); after restart "
          f"{outbox['distinct']} distinct events received in {outbox['received']} deliveries, "
          f"{len(outbox['missing'])} missing, {outbox['inversions']} out of commit order")
    if outage:
        a, u = outage["acked"], outage["unavailable"]
        print(f"PostgreSQL outage under newsdesk pid {outage['pid']}: postmaster killed after "
              f"{OUTAGE_LOAD_SECONDS} s of load, down {outage['outage'] or 0:.1f} s ({OUTAGE_SECONDS} s, "
              f"then .ci/postgres restart took {outage['restart_took'] or 0:.1f} s); writes acknowledged "
              f"{a['before']} before, {a['outage']} during, {a['after']} after; 503s "
              f"{u['before']} before, {u['outage']} during, {u['after']} after "
              f"({outage['late_503']} once writes were back for {SETTLE_SECONDS:.0f} s); "
              f"{outage['creates']} creates and {outage['edits']} edits acknowledged in all, "
              f"{outage['reads']} reads; slowest answers while down: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(outage["slowest"].items()))
              + "; first write acknowledged "
              + (f"{outage['recovery']:.2f} s after the restart" if outage["recovery"] is not None
                 else "never"))
    elif PG_SERVER:
        print("PostgreSQL outage phase skipped: NEWSDESK_PG_DIR is not set")

    problems = []
    if acknowledged < 20:
        problems.append(f"only {acknowledged} writes were acknowledged before the kill")
    if first["missing"]:
        problems.append(f"{len(first['missing'])} acknowledged creates are missing: {first['missing'][:5]}")
    if first["lost_edits"]:
        problems.append(f"{len(first['lost_edits'])} acknowledged edits were lost: {first['lost_edits'][:5]}")
    if first["failures"]:
        problems.append(f"{len(first['failures'])} requests answered 5xx before the kill")
    sound = check.stdout.strip().startswith("ok (PostgreSQL") if PG_SERVER else check.stdout.strip() == "ok"
    if check.returncode != 0 or not sound:
        problems.append(f"integrity check failed: {check.stdout} {check.stderr}")
    if locked:
        problems.append("the server log reports 'database is locked'")
    if leaked:
        problems.append("a password or token appears in the server log")
    if outbox["acked"] < 10:
        problems.append(f"outbox: only {outbox['acked']} breaking items were acknowledged")
    if outbox["missing"]:
        problems.append(f"outbox: events of {len(outbox['missing'])} acknowledged items never arrived: "
                        f"{outbox['missing'][:5]}")
    if outbox["same_item_twice"]:
        problems.append("outbox: one item's event arrived under two webhook-ids")
    # The delivery in flight at the kill is made again when its lease ends, after later
    # ones: one step out of order at most.
    if outbox["inversions"] > 1:
        problems.append(f"outbox: {outbox['inversions']} first arrivals out of commit order")
    problems += [f"PostgreSQL outage: {p}" for p in outage_problems]
    if problems:
        if outage and outage["notable"]:
            print(f"newsdesk's warnings and errors in the outage phase, each with its count "
                  f"(the whole log: {outage['log']}):")
            for line, count in sorted(outage["notable"].items(), key=lambda kv: -kv[1])[:20]:
                print(f"  {count:5d} x {line[:300]}")
        print("FAIL:\n  " + "\n  ".join(problems))
        print(f"(files kept in {work})")
        print(f"crash test: FAILED on {backend}")
        return 1
    if outage:
        a = outage["acked"]
        print(f"passed on PostgreSQL: kill -9 of newsdesk: {acknowledged} creates and "
              f"{first['edited']} edits acknowledged, none lost, {first['reads']} reads, no 5xx; "
              f"kill -9 of PostgreSQL: {sum(a.values())} writes acknowledged "
              f"({a['before']} before, {a['outage']} during, {a['after']} after), none lost, "
              f"{outage['unavailable']['outage']} 503s in the {outage['outage']:.1f} s outage, no 500, "
              f"writes back {outage['recovery']:.2f} s after the restart; check: {checked}")
    else:
        print(f"passed: {summary}")
    return 0


if __name__ == "__main__":
    # A SIGTERM ends the test as an exception would, so the database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main(tempfile.mkdtemp(prefix="newsdesk-crash-")))
