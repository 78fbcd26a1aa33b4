#!/usr/bin/env python3
"""Which tables and indexes a SQLite commit of creates writes, page by page.

    python3 bench/wal_pages.py BINARY [--articles 10000] [--creates 300] [--clients 8]

Starts BINARY on a fresh copy of bench/run.py's corpus, sends --creates creates (bench/run.py's
create script's body) from --clients threads after 40 to warm up, stops the server with SIGSTOP
while it copies the write-ahead log, then reads the log's frames: each frame is one page of one
commit. Prints the frames a commit wrote (commits after the warm-up that the log still holds:
the writer starts the log over past 4,096 frames) and, per table or index, the frames a commit
wrote on average, each page named by SQLite's `dbstat` on the copied file.

Needs Python's `apsw` (`pip install apsw`): the system SQLite may be too old to open the search
index, and Python's own module may lack `dbstat`.
"""

import argparse
import collections
import http.client
import json
import os
import shutil
import signal
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: corpus, servers)

BODY = ("## Update\n\nOfficials weigh new water rules in Lagos after months of talks. "
        "Residents question a revised budget in Cairo ahead of the vote.")


def creates(port, token, tags, authors, start, count, clients):
    """`count` creates numbered from `start`, from `clients` threads; the answers' codes."""
    numbers = iter(range(start, start + count))
    lock = threading.Lock()
    codes = collections.Counter()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while True:
            with lock:
                i = next(numbers, None)
            if i is None:
                return
            body = {"title": f"WAL pages story {i}", "summary": "Created by the benchmark.",
                    "body": BODY, "section": "politics", "status": "published",
                    "tags": [tags[i % len(tags)], tags[(i + 7) % len(tags)]],
                    "authors": [authors[i % len(authors)]], "regions": ["mena"]}
            conn.request("POST", "/api/v1/articles", body=json.dumps(body),
                         headers={"content-type": "application/json",
                                  "authorization": f"Bearer {token}"})
            answer = conn.getresponse()
            answer.read()
            with lock:
                codes[answer.status] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return dict(codes)


def salts(wal):
    """The salts in the log's header: new each time the writer starts the log over."""
    with open(wal, "rb") as f:
        return f.read(32)[16:24]


def commits(wal):
    """The page numbers of each commit the log holds, oldest first, with the page size."""
    with open(wal, "rb") as f:
        data = f.read()
    page_size = struct.unpack(">I", data[8:12])[0]
    salts = data[16:24]
    found, pages, at = [], [], 32
    while at + 24 + page_size <= len(data):
        page, commit_size = struct.unpack(">II", data[at:at + 8])
        if data[at + 8:at + 16] != salts:
            break  # a frame of the log's previous run
        pages.append(page)
        if commit_size:
            found.append(pages)
            pages = []
        at += 24 + page_size
    return found, page_size


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--creates", type=int, default=300)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    if args.creates < 1 or args.clients < 1 or args.articles < 1:
        ap.error("--articles, --creates and --clients must be at least 1")
    if not os.access(args.binary, os.X_OK):
        ap.error(f"{args.binary} is not an executable newsdesk binary")
    import apsw  # noqa: E402  (only this script needs it)

    binary = os.path.abspath(args.binary)
    path, _ = run.corpus(binary, args.articles)
    db = run.working_copy(path)
    port = run.free_port(run.NEWSDESK_PORT)
    env = dict(os.environ, DATABASE_URL=db, BIND_ADDR=f"127.0.0.1:{port}",
               ADMIN_EMAIL=run.ADMIN_EMAIL, ADMIN_PASSWORD=run.ADMIN_PASSWORD, RUST_LOG="warn")
    server = run.Server("newsdesk-wal", [binary], port, env)
    snapshot = os.path.join(run.OUT, "wal-pages.db")
    try:
        _, _, login = run.api(port, "/api/v1/auth/token", method="POST",
                              body={"email": run.ADMIN_EMAIL, "password": run.ADMIN_PASSWORD})
        token = login["access_token"]
        tags = [t["slug"] for t in run.api(port, "/api/v1/tags?per_page=30")[2]["data"]]
        authors = [a["slug"] for a in run.api(port, "/api/v1/authors?per_page=30")[2]["data"]]
        warm = creates(port, token, tags, authors, 0, 40, args.clients)
        before = os.path.getsize(db + "-wal")
        warm_salts = salts(db + "-wal")
        measured = creates(port, token, tags, authors, 40, args.creates, args.clients)
        server.proc.send_signal(signal.SIGSTOP)
        try:
            for suffix in ("", "-wal"):
                shutil.copyfile(db + suffix, snapshot + suffix)
        finally:
            server.proc.send_signal(signal.SIGCONT)
    finally:
        server.stop()
    print(f"answers: warm-up {warm}, measured {measured}")
    log = snapshot + ".log"
    shutil.copyfile(snapshot + "-wal", log)
    held, page_size = commits(log)
    # The warm-up's commits are left out when the log still holds them: when the writer
    # has not started it over since (the same salts).
    skip = 0
    if before and salts(log) == warm_salts:
        size = 32
        for i, pages in enumerate(held):
            size += len(pages) * (24 + page_size)
            if size >= before:
                skip = i + 1
                break
    counted = held[skip:]
    if not counted:
        raise SystemExit("the log holds no commit of the measured creates (did they fail?)")
    names = {}
    con = apsw.Connection(snapshot)
    for name, page, kind in con.execute("SELECT name, pageno, pagetype FROM dbstat"):
        names[page] = name + (" (overflow)" if kind == "overflow" else "")
    con.close()
    sizes = [len(pages) for pages in counted]
    print(f"commits: {len(counted)}; frames a commit: mean {sum(sizes) / len(sizes):.1f}, "
          f"median {sorted(sizes)[len(sizes) // 2]}, min {min(sizes)}, max {max(sizes)} "
          "(a merge of the search index's segments makes the largest)")
    per = collections.Counter(names.get(page, "(free or new)") for pages in counted for page in pages)
    for name, frames in per.most_common():
        print(f"{frames / len(counted):8.2f}  {name}")


if __name__ == "__main__":
    main()
