"""Generates the typed Python client for newsdesk from its OpenAPI document.

    python3 clients/python/generate.py [openapi/openapi.json]

writes the package `newsdesk_client` beside this file with openapi-python-client (see
requirements.txt), then makes two corrections the document asks for and that
generator does not yet make by itself:

- an operation whose security admits anonymous callers (`security: [{}, {"bearer":
  []}]`, every public read) takes a plain `Client` as well as an `AuthenticatedClient`
  (openapi-python-client 0.29 asks for an `AuthenticatedClient` whenever `security` is
  non-empty, its issue 1372);
- the breaking stream (`text/event-stream`, endless) is left out: a plain call would
  wait for it forever. Read it with an SSE client (httpx-sse, or a browser
  EventSource); its events are documented as `BreakingStreamEvent`.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "newsdesk_client"


def operations(doc):
    for item in doc["paths"].values():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield op


def module_of(root, operation_id):
    found = list((root / "api").glob(f"*/{operation_id}.py"))
    if len(found) != 1:
        sys.exit(f"generate: no single module for operation {operation_id}: {found}")
    return found[0]


def main():
    document = Path(sys.argv[1] if len(sys.argv) > 1 else HERE / "../../openapi/openapi.json")
    doc = json.loads(document.read_text())
    out = HERE / PACKAGE
    shutil.rmtree(out, ignore_errors=True)
    generator = Path(sys.executable).with_name("openapi-python-client")
    subprocess.run(
        [str(generator), "generate", "--path", str(document), "--meta", "none",
         "--config", str(HERE / "config.yaml"), "--output-path", str(out)],
        check=True,
    )
    widened = dropped = 0
    for op in operations(doc):
        content = op["responses"].get("200", {}).get("content", {})
        if "text/event-stream" in content:
            module_of(out, op["operationId"]).unlink()
            dropped += 1
            continue
        if {} in op.get("security", []):
            module = module_of(out, op["operationId"])
            text = module.read_text()
            fixed = text.replace("client: AuthenticatedClient,", "client: AuthenticatedClient | Client,")
            if fixed != text:
                module.write_text(fixed)
                widened += 1
    print(f"generated {PACKAGE}: {widened} public operations take a plain Client, "
          f"{dropped} event stream left to an SSE client")


if __name__ == "__main__":
    main()
