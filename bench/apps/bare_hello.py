"""The baseline for bench/apps: the smallest Tornado hello-world (no logging, no probes)."""

import asyncio
import os

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("Hello World\n")


async def main() -> None:
    sockets = bind_sockets(int(os.environ.get("PORT", "0")), address="127.0.0.1")
    HTTPServer(Application([(r"/", Hello)])).add_sockets(sockets)
    print(f"bare-python listening on port {sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
