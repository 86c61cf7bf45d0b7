"""The thinnest `/sparql` this stack allows, for bench.ceiling: a plain ASGI app on uvicorn, no duties at all.

`CEILING_VARIANT` says how a query runs: `in-process` (in the event loop: no deadline could stop it),
`one-at-a-time` (the server's worker pool, one job per worker at a time) or `pipelined` (the pool as
the server uses it). `CEILING_STORE` is the store's folder.
"""

import os
from typing import Any
from urllib.parse import parse_qs

from server.store import query_worker
from server.store.query_worker import QueryJob
from server.workers.pool import WorkerPool

_HEADERS = [(b"content-type", b"application/sparql-results+json")]


class _App:
    def __init__(self) -> None:
        self.variant = os.environ.get("CEILING_VARIANT", "pipelined")
        self.store = os.path.realpath(os.environ["CEILING_STORE"])
        self.pool: WorkerPool | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        query = parse_qs(scope["query_string"].decode("latin-1"))["query"][0]
        job = QueryJob(query=query, result_format="json")
        if self.pool is None:
            output = query_worker.run(job, self.store)
        else:
            output = await self.pool.run(query_worker.run, job, self.store)
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": output.body})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.variant != "in-process":
                    self.pool = WorkerPool(1, depth=1 if self.variant == "one-at-a-time" else 4)
                    await self.pool.start()
                await send({"type": "lifespan.startup.complete"})
            else:
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


app = _App()
