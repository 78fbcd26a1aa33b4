#!/usr/bin/env python3
"""What the integrations cost: reads authenticated with an API token against the same
reads with a JWT, and article creates with three webhooks registered against none.

    python3 bench/integrations.py [--articles 10000] [--rounds 3] [--seconds 8]

Uses bench/run.py's SQLite corpus, the release binary and wrk. Staff reads (a token
that may read drafts makes every read a staff read, never served from the public
cache): the newest 20 and article pages by slug, 64 connections;
each round runs the JWT and the API-token load one after the other on the same server.
Creates: 8 clients creating published articles (each an `article.published` event),
on a fresh copy of the corpus per run, alternating "no webhooks" and "3 webhooks"
within each round; the three receivers are a separate Python process (one
keep-alive HTTP/1.1 server thread each, answering 204), and the webhook deliveries
made during the run are counted from the delivery log. Prints the median of each and
the ratios (targets: API token ≥ 0.95× JWT; creates with webhooks ≥ 0.90× without).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: corpus, servers, wrk)

RECEIVERS = r"""
import http.server, sys, threading
class Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok) for _ in range(3)]
print(" ".join(str(s.server_address[1]) for s in servers), flush=True)
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
"""


def token_reads(slugs, token):
    headers = {"Authorization": f"Bearer {token}"}
    return [
        ("newest 20 (staff)", run.lua_paths(["/api/v1/articles?per_page=20"], headers=headers)),
        ("article by slug (staff)", run.lua_paths([f"/api/v1/articles/{s}" for s in slugs[:1000]], headers=headers)),
    ]


def start(binary, path, port, extra=None):
    db = run.working_copy(path)
    env = dict(os.environ, DATABASE_URL=db, BIND_ADDR=f"127.0.0.1:{port}", RUST_LOG="warn",
               ADMIN_EMAIL=run.ADMIN_EMAIL, ADMIN_PASSWORD=run.ADMIN_PASSWORD,
               WEBHOOK_ALLOW_PRIVATE="true", **(extra or {}))
    server = run.Server("newsdesk-integrations", [binary], port, env=env)
    _, _, signed = run.api(port, "/api/v1/auth/token", method="POST",
                           body={"email": run.ADMIN_EMAIL, "password": run.ADMIN_PASSWORD})
    return server, signed["access_token"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(run.ROOT, "target", "release", "newsdesk"))
    ap.add_argument("--only", choices=("reads", "creates"), default=None,
                    help="run only the token reads or only the creates")
    args = ap.parse_args()
    run.ensure_wrk()
    binary = os.path.abspath(args.binary)
    path, _ = run.corpus(binary, args.articles)
    slugs, tags, authors = run.sample_corpus(path, args.articles)
    port = run.free_port(run.NEWSDESK_PORT)
    receivers = subprocess.Popen([sys.executable, "-c", RECEIVERS], stdout=subprocess.PIPE, text=True)
    ports = receivers.stdout.readline().split()
    figures = {}
    try:
        for r in range(args.rounds):
            # Reads: JWT, then an API token with content:read, on one server.
            server, jwt = start(binary, path, port) if args.only != "creates" else (None, None)
            try:
                made = {"token": None}
                if server is not None:
                    _, _, made = run.api(port, "/api/v1/tokens", jwt, method="POST",
                                         body={"name": "bench", "scopes": ["content:read"]})
                for label, token in (("JWT", jwt), ("API token", made["token"])):
                    if server is None:
                        break
                    for name, script in token_reads(slugs, token):
                        got = run.wrk(port, script, 64, 2, args.seconds, args.warmup, server)
                        figures.setdefault(name, {}).setdefault(label, []).append(got)
                        print(f"round {r + 1}: {name}, {label}: {got['rps']:,.0f} req/s, "
                              f"{got['cpu_us']:.1f} µs CPU/req, {got['errors']} errors", flush=True)
            finally:
                if server is not None:
                    server.stop()
            # Creates: none, then three webhooks, each on a fresh copy.
            for label, hooks in (("no webhooks", 0), ("3 webhooks", 3)):
                if args.only == "reads":
                    break
                server, jwt = start(binary, path, port)
                try:
                    ids = []
                    for p in ports[:hooks]:
                        _, _, hook = run.api(port, "/api/v1/webhooks", jwt, method="POST",
                                             body={"url": f"http://127.0.0.1:{p}/hook",
                                                   "events": ["article.published"]})
                        ids.append(hook["id"])
                    script = run.CREATE_LUA % (json.dumps(jwt), run.lua_list(tags),
                                               run.lua_list(authors), run.lua_list([]), 1.0)
                    got = run.wrk(port, script, 8, 2, args.seconds, 0, server)
                    time.sleep(1)
                    delivered = 0
                    for h in ids:
                        _, _, log = run.api(port, f"/api/v1/webhooks/{h}/deliveries?state=succeeded&per_page=1", jwt)
                        delivered += log["meta"]["total"]
                    got["delivered"] = delivered
                    figures.setdefault("article creates, 8 clients", {}).setdefault(label, []).append(got)
                    print(f"round {r + 1}: creates, {label}: {got['rps']:,.0f} req/s, "
                          f"{got['cpu_us']:.1f} µs CPU/req, {got['errors']} errors, "
                          f"{delivered:,} deliveries succeeded by 1 s after", flush=True)
                finally:
                    server.stop()
    finally:
        receivers.kill()
    print("\nload | A | B | median req/s A | median req/s B | B/A | µs CPU A | µs CPU B")
    for name, by in figures.items():
        a, b = list(by)
        ma = statistics.median(x["rps"] for x in by[a])
        mb = statistics.median(x["rps"] for x in by[b])
        ca = statistics.median(x["cpu_us"] for x in by[a])
        cb = statistics.median(x["cpu_us"] for x in by[b])
        print(f"{name} | {a} | {b} | {ma:,.0f} | {mb:,.0f} | {mb / ma:.2f}× | {ca:.1f} | {cb:.1f}")


if __name__ == "__main__":
    main()
