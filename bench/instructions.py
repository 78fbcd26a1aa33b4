#!/usr/bin/env python3
"""Instructions per uncached article read, counted by callgrind: repeatable on a busy
machine where timings are not.

    python3 bench/instructions.py BINARY [BINARY ...]

Each binary serves a copy of bench/out/corpus-10000.db (made by bench/run.py) under
valgrind twice, reading 200 and then 1,200 distinct articles in turn (each its first
read, so none is cached); the difference divided by 1,000 is the instructions of one
uncached read, start-up and shutdown cancelling out.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "corpus-10000.db")
PORT = 18096


def total(binary, n, work):
    db = os.path.join(work, f"{n}.db")
    shutil.copy(CORPUS, db)
    slugs = [r[0] for r in sqlite3.connect(db).execute(
        "SELECT slug FROM articles ORDER BY id LIMIT ?", (n,))]
    out = os.path.join(work, f"{n}.callgrind")
    env = dict(os.environ, DATABASE_URL=db, BIND_ADDR=f"127.0.0.1:{PORT}", RUST_LOG="warn")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/livez", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    for slug in slugs:
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v1/articles/{slug}", timeout=30).read()
    proc.send_signal(2)
    proc.wait()
    with open(out) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit(f"no totals in {out}")


def main():
    if not os.path.exists(CORPUS):
        raise SystemExit(f"{CORPUS} is missing: run python3 bench/run.py once")
    for binary in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as work:
            few, many = total(binary, 200, work), total(binary, 1200, work)
        print(f"{binary}: {(many - few) / 1000:,.0f} instructions per uncached article read")


if __name__ == "__main__":
    main()
