#!/usr/bin/env python3
"""Concurrency and crash safety: kill -9 a loaded newsdesk, restart it, and check that
nothing it acknowledged is lost and that the database file is sound.

Starts the real binary on a fresh database, has 8 writers create and edit articles
over HTTP at full speed while 4 readers list them (no request may answer 5xx, none
may fail with "database is locked"), sends SIGKILL mid-load, starts the binary again on the same
file, and checks that every create that got a 201 is readable, that every edit that got
a 200 is at least as new as what is stored, and that `newsdesk check` reports `ok`.
Then it scans the server's logs for the admin password and every token it handed out.

    tests/crash.py [path/to/newsdesk]      (default: target/debug/newsdesk)

Only the standard library is used.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "debug", "newsdesk")
PORT = 18181 + os.getpid() % 500
ADMIN_EMAIL, ADMIN_PASSWORD = "crash@example.com", "crash-test-password-1"
WRITERS, READERS, LOAD_SECONDS = 8, 4, 2.0


def start(db, log):
    env = dict(os.environ, DATABASE_URL=db, BIND_ADDR=f"127.0.0.1:{PORT}", ADMIN_EMAIL=ADMIN_EMAIL,
               ADMIN_PASSWORD=ADMIN_PASSWORD, RUST_LOG="info")
    proc = subprocess.Popen([BIN], env=env, stdout=log, stderr=log)
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
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def main():
    work = tempfile.mkdtemp(prefix="newsdesk-crash-")
    db = os.path.join(work, "newsdesk.db")
    log = open(os.path.join(work, "server.log"), "w")
    server = start(db, log)
    _, login = call("POST", "/api/v1/auth/token", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    token = login["access_token"]
    tokens = [token]
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
    acknowledged = len(created)

    server = start(db, log)
    try:
        _, login = call("POST", "/api/v1/auth/token", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        token = login["access_token"]
        tokens.append(token)
        missing = [s for s in created if call("GET", f"/api/v1/articles/{s}", token)[0] != 200]
        lost_edits = [s for s, summary in edited.items()
                      if call("GET", f"/api/v1/articles/{s}", token)[1]["summary"] != summary]
        _, listed = call("GET", "/api/v1/articles?tag=crash&per_page=1", token)
        found = listed["meta"]["total"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    log.close()
    check = subprocess.run([BIN, "check"], env=dict(os.environ, DATABASE_URL=db, RUST_LOG="warn"),
                           capture_output=True, text=True)
    with open(os.path.join(work, "server.log")) as f:
        server_log = f.read()
    leaked = [s for s in [ADMIN_PASSWORD, *tokens] if s in server_log]
    locked = server_log.count("database is locked")

    summary = (f"crash test: {WRITERS} writers and {READERS} readers for {LOAD_SECONDS} s: "
               f"{acknowledged} creates acknowledged before kill -9, {found} found after "
               f"restart; {len(edited)} edits acknowledged, {len(lost_edits)} lost; "
               f"{reads[0]} reads; {len(failures)} 5xx; 'database is locked' {locked} times; "
               f"integrity check: {check.stdout.strip() or check.stderr.strip()}")
    print(summary)
    problems = []
    if acknowledged < 20:
        problems.append(f"only {acknowledged} writes were acknowledged before the kill")
    if missing:
        problems.append(f"{len(missing)} acknowledged creates are missing: {missing[:5]}")
    if lost_edits:
        problems.append(f"{len(lost_edits)} acknowledged edits were lost: {lost_edits[:5]}")
    if failures:
        problems.append(f"{len(failures)} requests answered 5xx before the kill")
    if check.returncode != 0 or check.stdout.strip() != "ok":
        problems.append(f"integrity check failed: {check.stdout} {check.stderr}")
    if locked:
        problems.append("the server log reports 'database is locked'")
    if leaked:
        problems.append("a password or token appears in the server log")
    if problems:
        print("FAIL:\n  " + "\n  ".join(problems))
        print(f"(files kept in {work})")
        sys.exit(1)
    print(f"passed: {summary}")


if __name__ == "__main__":
    main()
