"""``msdw docs``: the dbt docs, the gate pages and the reports on one local HTTP port.

dbt's ``index.html`` loads ``manifest.json`` and ``catalog.json`` with
``fetch``, which browsers refuse from ``file://``: the docs must be served.
Everything is served from disk by the standard library on 127.0.0.1 only, no
network needed (the pages load nothing from outside):

    /dbt/        dbt_project/target       (dbt docs generate: index.html, manifest.json, catalog.json)
    /            $MSDW_REPORTS_DIR        (gate_docs/index.html, quality_report_YYYY-MM.html/.pdf, work reports)

``dbt docs generate --static`` also writes ``static_index.html`` with both
files embedded: that single file opens from disk without a server.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    """Serves ``routes`` (URL prefix → directory, longest prefix first); quiet logs."""

    routes: dict[str, Path] = {}

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, root in sorted(self.routes.items(), key=lambda kv: -len(kv[0])):
            if clean == prefix.rstrip("/") or clean.startswith(prefix):
                rest = clean[len(prefix):] if clean.startswith(prefix) else ""
                handler = functools.partial(SimpleHTTPRequestHandler.translate_path, self)
                # reuse the stdlib's safe path join relative to this route's root
                self.directory = str(root)
                return handler("/" + rest)
        return str(Path(self.routes.get("/", Path.cwd())) / "__not_found__")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass


def start(routes: dict[str, Path], port: int = 8081, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve ``routes`` on ``host:port`` (``port=0``: any free port) in a daemon thread; returns the server."""
    handler = type("DocsHandler", (_Handler,), {"routes": {k: Path(v) for k, v in routes.items()}})
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="msdw-docs", daemon=True).start()
    return server


def url(server: ThreadingHTTPServer, path: str = "/") -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{path}"
