"""The HTTP floor of bench/ingest.py: the collector's own HTTP server (uvicorn with the
collector's settings, collector.server.make_server) with an app that reads each report's
body whole and answers 201, storing nothing. What ingest costs beyond this is the
collector's work: parse, check, group commit.

    python bench/ingest_floor.py COLLECTOR_YAML
"""

from __future__ import annotations

import json
import sys
import uuid


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = json.dumps({"status": "stored", "report_id": str(uuid.uuid4())}).encode()
    await send({"type": "http.response.start", "status": 201,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    from yte_compliance.collector.config import load_collector_config
    from yte_compliance.collector.server import make_server

    make_server(app, load_collector_config(sys.argv[1])).run()


if __name__ == "__main__":
    main()
