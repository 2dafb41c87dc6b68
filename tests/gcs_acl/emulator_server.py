"""Runs gcp-storage-emulator for the tests and the benchmark, with documented adjustments.

Usage: ``python tests/gcs_acl/emulator_server.py --port N [--data-dir DIR] [--threaded]
[--latency-ms MS]``; in memory unless a data directory is given; loopback only; prints
``ready PORT`` once it serves. It is the emulator from PyPI, started through its own
``create_server``; these behaviours of version 2026.7 are adjusted, each to match real GCS or to
remove a cost that changes nothing observable:

1. ``objects.list`` ignores ``maxResults``/``pageToken`` and always answers with one page. Real
   GCS pages (at most 1,000 items a page, an opaque ``nextPageToken``), and the engine's
   pagination is exactly what the tests must exercise, so the list handler is wrapped to page the
   emulator's own (name-sorted) answer the way GCS does.
2. In memory, the emulator re-serialises its whole metadata (every object of every bucket) to an
   in-memory ``.meta`` file after every write; that file is only read back at start-up, which an
   in-memory server never does again. That makes each write O(total objects) and a 5,000-object
   bucket take minutes, so in memory the write is skipped.
3. On disk (``--data-dir``) that write is the persistence that lets a killed emulator restart
   with its data; it is made atomic (temporary file, then rename), because the tests SIGKILL the
   emulator mid-run on purpose and a half-written ``.meta`` would not load again.
4. The listen backlog is 128 (``--backlog``) instead of Python's default of 5. The emulator still
   serves one request at a time, but with 5 a client keeping 16 requests in flight sees
   connection resets whenever the emulator is slow, which no
   real GCS endpoint does. The benchmark's "as shipped" rows pass ``--backlog 5``.

Benchmark-only options: ``--threaded`` serves each connection on its own thread, as a real
service does; ``--latency-ms`` sleeps that long before each request, standing in for the network
round trip to real GCS, which a loopback emulator does not have.
"""

from __future__ import annotations

import argparse
import base64
import http.server
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from gcp_storage_emulator import server as emu_server
from gcp_storage_emulator import storage as emu_storage
from gcp_storage_emulator.handlers import objects as emu_objects

GCS_MAX_PAGE = 1000  # objects.list maxResults upper bound (and default) on real GCS


def _paged_ls(original: Any) -> Any:
    def ls(request: Any, response: Any, storage: Any, *args: Any, **kwargs: Any) -> None:
        original(request, response, storage, *args, **kwargs)
        if response.status != 200 or not isinstance(response._content, str):
            return
        body = json.loads(response._content)
        query = request.query
        size = min(int(query.get("maxResults", [GCS_MAX_PAGE])[0]), GCS_MAX_PAGE)
        start = 0
        if query.get("pageToken"):
            start = int(base64.urlsafe_b64decode(query["pageToken"][0]).decode())
        items = body.get("items") or []
        body["items"] = items[start : start + size]
        if start + size < len(items):
            body["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        response.json(body)

    return ls


def _patch_emulator(in_memory: bool) -> None:
    paged = _paged_ls(emu_objects.ls)
    # The routing table holds the handler functions themselves: swap every reference to ls.
    emu_server.HANDLERS = tuple(
        (regex, {m: (paged if h is emu_objects.ls else h) for m, h in handlers.items()})
        for regex, handlers in emu_server.HANDLERS
    )
    if in_memory:
        emu_storage.Storage._write_config_to_file = lambda self: None
        return
    store_cls = emu_storage._FileStore
    original_write = store_cls.write_bytes

    def write_bytes(self: Any, rel: str, content: bytes) -> None:
        if rel != ".meta":
            original_write(self, rel, content)
            return
        target = Path(self._disk_path(rel))
        tmp = target.with_name(".meta.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, target)

    store_cls.write_bytes = write_bytes


class _ThreadedServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main() -> int:
    parser = argparse.ArgumentParser(description="gcp-storage-emulator for tests and bench")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", default=None, help="persist here (default: in memory)")
    parser.add_argument("--backlog", type=int, default=128, help="listen backlog (stock: 5)")
    parser.add_argument("--threaded", action="store_true", help="a thread per connection")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each request")
    args = parser.parse_args()
    in_memory = args.data_dir is None
    _patch_emulator(in_memory)
    http.server.HTTPServer.request_queue_size = args.backlog
    if args.threaded:
        # APIThread builds its server as http.server.HTTPServer(...): point that name here.
        emu_server.server.HTTPServer = _ThreadedServer
    if args.latency_ms > 0:
        handle = emu_server.Router.handle
        delay = args.latency_ms / 1000

        def delayed(self: Any, method: str) -> None:
            time.sleep(delay)
            handle(self, method)

        emu_server.Router.handle = delayed
    logging.basicConfig(level=logging.CRITICAL)
    srv = emu_server.create_server(
        "127.0.0.1", args.port, in_memory=in_memory, data_dir=args.data_dir
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    srv.start()
    print(f"ready {args.port}", flush=True)
    stop.wait()
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
