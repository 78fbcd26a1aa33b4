#!/usr/bin/env python3
"""Faults an operator meets, against the real binary (the in-process ones, a moved
database file and a full disk, are in tests/api/faults.rs).

1. Descriptor exhaustion: with an open-file limit of 256, anonymous breaking streams
   beyond what the limit leaves room for are refused (and their connections closed),
   and /healthz keeps answering while the others stay open.
2. A graceful stop: a request sent on a keep-alive connection after SIGTERM is answered
   (with `Connection: close`), never dropped, and the process exits 0.
3. A decompression bomb: a PNG of a few tens of KB that says it is 20,000 × 20,000
   pixels is refused (422 on `file`) at its header, quickly, and the server's peak
   resident memory does not move.

    tests/faults.py [path/to/newsdesk]      (default: target/debug/newsdesk)

Only the standard library is used.
"""

import http.client
import json
import os
import struct
import zlib
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "debug", "newsdesk")
PORT = 18700 + os.getpid() % 500
OPEN_FILES = 256
STREAMS_TRIED = 300


def start(work, extra_env=None, open_files=None):
    env = dict(os.environ, DATABASE_URL=os.path.join(work, "newsdesk.db"),
               BIND_ADDR=f"127.0.0.1:{PORT}", ADMIN_EMAIL="faults@example.com",
               ADMIN_PASSWORD="faults-test-password-1", RUST_LOG="warn")
    env.update(extra_env or {})

    def limit():
        if open_files:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    log = open(os.path.join(work, "server.log"), "ab")
    proc = subprocess.Popen([BIN], env=env, stdout=log, stderr=log, preexec_fn=limit)
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            c.request("GET", "/livez")
            if c.getresponse().status == 200:
                c.close()
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("newsdesk did not start")


def open_stream():
    """Opens a stream; returns (socket, status line) and leaves the socket open."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(b"GET /api/v1/breaking/stream HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b""
    while b"\r\n" not in head:
        chunk = s.recv(1024)
        if not chunk:
            break
        head += chunk
    return s, head.split(b"\r\n", 1)[0].decode(errors="replace")


def closed_by_server(s):
    s.settimeout(3)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (socket.timeout, OSError):
        return False


RESULTS = []


def descriptor_exhaustion(work):
    proc = start(work, {"STREAMS_PER_ADDRESS": "100000"}, open_files=OPEN_FILES)
    problems = []
    streams, refused, open_ok = [], 0, 0
    try:
        for _ in range(STREAMS_TRIED):
            try:
                s, status = open_stream()
            except OSError as e:
                problems.append(f"a stream connection failed outright: {e}")
                break
            if " 200 " in status:
                open_ok += 1
                streams.append(s)
            elif " 503 " in status:
                refused += 1
                if not closed_by_server(s):
                    problems.append("a refused stream's connection was kept open")
                s.close()
            else:
                problems.append(f"unexpected answer to a stream: {status}")
                s.close()
        started = time.monotonic()
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
        c.request("GET", "/healthz")
        health = c.getresponse()
        health.read()
        took = time.monotonic() - started
        if health.status != 200:
            problems.append(f"/healthz answered {health.status} with streams open")
        if refused == 0:
            problems.append("no stream was refused: the cap ignores the open-file limit")
        line = (f"descriptor limit {OPEN_FILES}: {open_ok} streams open, {refused} refused "
                f"(connection closed), /healthz {health.status} in {took * 1000:.0f} ms")
        print(line)
        RESULTS.append(line)
    finally:
        for s in streams:
            s.close()
        proc.terminate()
        proc.wait(timeout=20)
    return problems


def graceful_stop(work):
    proc = start(work)
    problems = []
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    c.request("GET", "/api/v1/articles")
    first = c.getresponse()
    first.read()
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    try:
        c.request("GET", "/api/v1/articles")
        second = c.getresponse()
        second.read()
        closing = (second.getheader("connection") or "").lower()
        line = (f"after SIGTERM, a request on a keep-alive connection: {second.status}, "
                f"Connection: {closing}")
        print(line)
        RESULTS.append(line)
        if second.status not in (200, 503):
            problems.append(f"a request during the stop got {second.status}")
        if closing != "close":
            problems.append("the answer during the stop did not close the connection")
    except (http.client.HTTPException, OSError) as e:
        problems.append(f"a request on a keep-alive connection during the stop was dropped: {e!r}")
    code = proc.wait(timeout=30)
    if code != 0:
        problems.append(f"the process exited {code} after SIGTERM")
    return problems


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def png_bomb(width=20_000, height=20_000):
    """A 1-bit greyscale PNG of zeros: 400 megapixels (50 MB raw) in a few tens of KB."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    z = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def decompression_bomb(work):
    proc = start(work)
    problems = []
    try:
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        c.request("POST", "/api/v1/auth/token", json.dumps(
            {"email": "faults@example.com", "password": "faults-test-password-1"}),
            {"content-type": "application/json"})
        token = json.loads(c.getresponse().read())["access_token"]
        bomb = png_bomb()
        boundary = "faults-bomb-boundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"bomb.png\"\r\nContent-Type: image/png\r\n\r\n").encode() \
            + bomb + f"\r\n--{boundary}--\r\n".encode()
        peak_before = status_kb(proc.pid, "VmHWM")
        started = time.monotonic()
        c.request("POST", "/api/v1/media", body, {
            "authorization": f"Bearer {token}",
            "content-type": f"multipart/form-data; boundary={boundary}"})
        resp = c.getresponse()
        answer = json.loads(resp.read() or b"{}")
        elapsed = time.monotonic() - started
        grown_mb = (status_kb(proc.pid, "VmHWM") - peak_before) / 1024
        fields = [e.get("field") for e in answer.get("errors", [])]
        line = (f"decompression bomb ({len(bomb) // 1024} KB saying 20000 × 20000): "
                f"{resp.status} on {fields} in {elapsed * 1000:.0f} ms, peak RSS grew "
                f"{grown_mb:.1f} MB")
        print(line)
        RESULTS.append(line)
        if resp.status != 422 or fields != ["file"]:
            problems.append(f"the bomb got {resp.status} {answer}")
        if elapsed > 5:
            problems.append(f"the bomb took {elapsed:.1f} s to refuse")
        if grown_mb > 16:
            problems.append(f"the server's peak RSS grew {grown_mb:.1f} MB on the bomb")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return problems


def main():
    problems = []
    with tempfile.TemporaryDirectory() as work:
        problems += decompression_bomb(work)
    with tempfile.TemporaryDirectory() as work:
        problems += descriptor_exhaustion(work)
    with tempfile.TemporaryDirectory() as work:
        problems += graceful_stop(work)
    if problems:
        print("FAIL:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("fault tests passed: " + "; ".join(RESULTS))


if __name__ == "__main__":
    main()
