"""A Qdrant REST server for tests, emulated with qdrant-client's local mode: the calls the bot makes, no more.

A real Qdrant cannot be installed on these machines, and local mode locks its folder to one process, so
tests that need several processes on one collection (bot replicas) talk to this instead, over the same
REST client a real server is reached with. Run: python -m tests.qdrant_server --path DIR --port N
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from importlib.metadata import version
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from qdrant_client import QdrantClient, models

VERSION = version("qdrant-client")  # what GET / reports: the client checks it is close to its own


def _dump(value):
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return value


class Emulated:
    """Routes (method, path) to the local-mode client; one request at a time, as local mode expects."""

    def __init__(self, path: str):
        self.client = QdrantClient(path=path)
        self.lock = threading.Lock()
        c = self.client
        done = models.UpdateResult(operation_id=0, status=models.UpdateStatus.COMPLETED)
        self.routes = [
            ("GET", r"/collections", lambda m, b: c.get_collections()),
            ("GET", r"/aliases", lambda m, b: c.get_aliases()),
            ("POST", r"/collections/aliases", lambda m, b: c.update_collection_aliases(
                models.ChangeAliasesOperation.model_validate(b).actions)),
            ("GET", r"/collections/(?P<name>[^/]+)/exists", lambda m, b: {"exists": c.collection_exists(m["name"])}),
            ("PUT", r"/collections/(?P<name>[^/]+)", lambda m, b: self._create(m["name"], b)),
            ("DELETE", r"/collections/(?P<name>[^/]+)", lambda m, b: c.delete_collection(m["name"])),
            ("PUT", r"/collections/(?P<name>[^/]+)/index", lambda m, b: (self._index(m["name"], b), done)[1]),
            ("PUT", r"/collections/(?P<name>[^/]+)/points", lambda m, b: c.upsert(
                m["name"], models.PointsList.model_validate(b).points)),
            ("POST", r"/collections/(?P<name>[^/]+)/points", lambda m, b: self._retrieve(m["name"], b)),
            ("POST", r"/collections/(?P<name>[^/]+)/points/count", lambda m, b: c.count(
                m["name"], count_filter=models.CountRequest.model_validate(b).filter, exact=True)),
            ("POST", r"/collections/(?P<name>[^/]+)/points/delete", lambda m, b: c.delete(
                m["name"], points_selector=models.PointIdsList.model_validate(b))),
            ("POST", r"/collections/(?P<name>[^/]+)/points/query", lambda m, b: c.query_batch_points(
                m["name"], [models.QueryRequest.model_validate(b)])[0]),
            ("POST", r"/collections/(?P<name>[^/]+)/points/query/batch", lambda m, b: c.query_batch_points(
                m["name"], models.QueryRequestBatch.model_validate(b).searches)),
        ]

    def _create(self, name: str, body: dict):
        spec = models.CreateCollection.model_validate(body)
        return self.client.create_collection(name, vectors_config=spec.vectors, sparse_vectors_config=spec.sparse_vectors)

    def _index(self, name: str, body: dict) -> None:
        import warnings

        spec = models.CreateFieldIndex.model_validate(body)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.client.create_payload_index(name, spec.field_name, spec.field_schema)

    def _retrieve(self, name: str, body: dict):
        spec = models.PointRequest.model_validate(body)
        return self.client.retrieve(name, spec.ids, with_payload=spec.with_payload if spec.with_payload is not None
                                    else True, with_vectors=spec.with_vector if spec.with_vector is not None else False)

    def handle(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        if (method, path) == ("GET", "/"):  # the server's banner, not wrapped in a result
            return 200, {"title": "qdrant - emulated", "version": VERSION}
        for verb, pattern, run in self.routes:
            m = re.fullmatch(pattern, path)
            if verb == method and m:
                try:
                    with self.lock:
                        result = run(m.groupdict(), body)
                except (ValueError, KeyError) as exc:  # a missing collection, a bad request
                    return 404 if "not found" in str(exc).lower() else 400, {"status": {"error": str(exc)}}
                return 200, {"result": _dump(result), "status": "ok", "time": 0.0}
        return 404, {"status": {"error": f"{method} {path} is not emulated"}}


def serve(path: str, port: int) -> ThreadingHTTPServer:
    emulated = Emulated(path)

    class Handler(BaseHTTPRequestHandler):
        def _run(self, method: str) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(size)) if size else None
            code, out = emulated.handle(method, self.path.split("?")[0], body)
            data = json.dumps(out).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            self._run("GET")

        def do_POST(self):  # noqa: N802
            self._run("POST")

        def do_PUT(self):  # noqa: N802
            self._run("PUT")

        def do_DELETE(self):  # noqa: N802
            self._run("DELETE")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--path", required=True)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    server = serve(args.path, args.port)
    print(f"listening on {args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
