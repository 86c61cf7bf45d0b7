"""Which HTTP client a SPARQL-protocol store should use: client CPU per proxied lookup, measured.

    python -m bench.http_clients --triples 1000000 [--rounds 3] [--requests 3000] [--write bench/RESULTS.md]

`oxigraph serve-read-only` on the benchmark store (CPU 1) answers uncached lookups (all triples of
one synthetic project, a different one each request, SPARQL JSON) sent by each candidate client
from this process (CPU 0) over keep-alive connections, `--concurrency` requests in flight, the
answer read as a stream. What is compared is this process's CPU time per request (the cost a
server pays for every proxied query) and the requests per second; the candidates are measured in
turn within each round, in a different order each round, and the medians of the rounds reported.

Candidates: httpx (the project's client elsewhere) as installed, and with sniffio installed (httpcore
imports it on every request and retries when it is missing); aiohttp; and two thin clients on
asyncio connections that leave HTTP/1.1 framing to a parser library, h11 (pure Python) and
httptools (uvicorn's C parser).
"""

import argparse
import asyncio
import importlib.util
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import h11
import httptools
import httpx

from bench.generate import projects_for
from bench.report import publish
from bench.run import HERE, Server, _machine, _start, _stop

Lookup = Callable[[str], Awaitable[bytes]]
HEADERS = {"content-type": "application/sparql-query", "accept": "application/sparql-results+json"}


def _query(rng: random.Random, projects: int) -> str:
    number = rng.randrange(projects)
    # A unique comment: no cache anywhere can answer it.
    return (f"# {rng.random()}\nSELECT ?p ?o WHERE {{ "
            f"<https://w3id.org/ilo-partnerships/id/project/synthetic-{number}> ?p ?o }}")


class _Pool:
    """Keep-alive connections for the thin clients: one per request in flight."""

    def __init__(self, url: str, connect: Callable[[str, int], Awaitable[object]]):
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self._connect = connect
        self._idle: list[object] = []

    async def take(self) -> object:
        return self._idle.pop() if self._idle else await self._connect(self.host, self.port)

    def give(self, connection: object) -> None:
        self._idle.append(connection)


async def _h11_client(url: str) -> tuple[Lookup, Callable[[], Awaitable[None]]]:
    async def connect(host: str, port: int) -> object:
        reader, writer = await asyncio.open_connection(host, port)
        return reader, writer, h11.Connection(h11.CLIENT)

    pool = _Pool(url, connect)
    target = f"{pool.host}:{pool.port}"

    async def lookup(query: str) -> bytes:
        reader, writer, connection = await pool.take()  # type: ignore[misc]
        body = query.encode()
        headers = [("host", target), ("content-length", str(len(body))), *HEADERS.items()]
        writer.write(connection.send(h11.Request(method="POST", target=pool.path, headers=headers)))
        writer.write(connection.send(h11.Data(data=body)) + connection.send(h11.EndOfMessage()))
        chunks = []
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
        connection.start_next_cycle()
        pool.give((reader, writer, connection))
        return b"".join(chunks)

    return lookup, _nothing


class _HttptoolsProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.chunks: list[bytes] = []
        self.done: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        assert self.done is not None
        self.done.set_result(b"".join(self.chunks))
        self.chunks = []


async def _httptools_client(url: str) -> tuple[Lookup, Callable[[], Awaitable[None]]]:
    loop = asyncio.get_running_loop()

    async def connect(host: str, port: int) -> object:
        _, protocol = await loop.create_connection(_HttptoolsProtocol, host, port)
        return protocol

    pool = _Pool(url, connect)
    head = (f"POST {pool.path} HTTP/1.1\r\nhost: {pool.host}:{pool.port}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())).encode()

    async def lookup(query: str) -> bytes:
        protocol: _HttptoolsProtocol = await pool.take()  # type: ignore[assignment]
        body = query.encode()
        protocol.done = loop.create_future()
        assert protocol.transport is not None
        protocol.transport.write(head + b"content-length: %d\r\n\r\n" % len(body) + body)
        answer = await protocol.done
        pool.give(protocol)
        return answer

    return lookup, _nothing


async def _httpx_client(url: str) -> tuple[Lookup, Callable[[], Awaitable[None]]]:
    client = httpx.AsyncClient(timeout=30)

    async def lookup(query: str) -> bytes:
        async with client.stream("POST", url, content=query.encode(), headers=HEADERS) as response:
            return b"".join([chunk async for chunk in response.aiter_raw()])

    return lookup, client.aclose


async def _aiohttp_client(url: str) -> tuple[Lookup, Callable[[], Awaitable[None]]]:
    import aiohttp

    session = aiohttp.ClientSession()

    async def lookup(query: str) -> bytes:
        async with session.post(url, data=query.encode(), headers=HEADERS) as response:
            return b"".join([chunk async for chunk in response.content.iter_chunked(65536)])

    return lookup, session.close


async def _nothing() -> None:
    return None


CLIENTS: dict[str, Callable[[str], Awaitable[tuple[Lookup, Callable[[], Awaitable[None]]]]]] = {
    "httpx": _httpx_client,
    "aiohttp": _aiohttp_client,
    "h11 on asyncio streams": _h11_client,
    "httptools on an asyncio protocol": _httptools_client,
}


async def _measure(name: str, url: str, requests: int, concurrency: int, projects: int, seed: int) -> tuple[float, float]:
    """(client CPU µs per request, requests per second) for one client."""
    lookup, close = await CLIENTS[name](url)
    rng = random.Random(seed)
    queries = [_query(rng, projects) for _ in range(requests + 50)]
    for query in queries[:50]:  # warm-up: connections open, code paths hot
        await lookup(query)
    pending = iter(queries[50:])

    async def worker() -> None:
        for query in pending:
            answer = await lookup(query)
            if not answer.startswith(b'{"head"'):
                raise RuntimeError(f"{name}: unexpected answer {answer[:80]!r}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await close()
    return cpu / requests * 1e6, requests / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000, help="per client and round")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    args = parser.parse_args()
    store_dir = HERE / "work" / str(args.triples) / "store"
    if not store_dir.exists():
        sys.exit(f"{store_dir} is missing: run python -m bench.run --triples {args.triples} first")
    os.sched_setaffinity(0, {0})
    names = [n for n in CLIENTS if n != "aiohttp" or importlib.util.find_spec("aiohttp")]
    label = {"httpx": "httpx " + ("with sniffio" if importlib.util.find_spec("sniffio") else "without sniffio")}
    bin_dir = Path(sys.executable).parent
    peer = Server("oxigraph serve", [str(bin_dir / "oxigraph"), "serve-read-only", "--location", str(store_dir),
                                     "--bind", "127.0.0.1:18012"], "http://127.0.0.1:18012/query", {})
    results: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    try:
        _start(peer, 120)
        for round_number in range(args.rounds):
            order = names[round_number % len(names):] + names[: round_number % len(names)]
            for name in order:
                measured = asyncio.run(_measure(name, peer.endpoint, args.requests, args.concurrency,
                                                projects_for(args.triples), round_number))
                results[name].append(measured)
                print(f"round {round_number + 1} {name}: {measured[0]:.0f} µs CPU/request, {measured[1]:.0f} req/s",
                      flush=True)
    finally:
        _stop(peer)
    lines = [
        f"## HTTP clients for a SPARQL-protocol store, {args.triples:,} triples", "",
        f"`python -m bench.http_clients --triples {args.triples} --rounds {args.rounds} --requests {args.requests} "
        f"--concurrency {args.concurrency}`. Machine: {_machine()}. `oxigraph serve-read-only` on CPU 1, the "
        "client in one Python process on CPU 0; uncached lookups (SPARQL JSON, about 30 solutions), POSTed, "
        f"{args.concurrency} in flight over keep-alive connections, answers read as streams; medians of the rounds.",
        "", "| client | client CPU µs / request | requests/s | CPU by round |", "|---|---:|---:|---|",
    ]
    for name in sorted(names, key=lambda n: statistics.median(c for c, _ in results[n])):
        cpus = [c for c, _ in results[name]]
        rates = [r for _, r in results[name]]
        lines.append(f"| {label.get(name, name)} | {statistics.median(cpus):.0f} | {statistics.median(rates):,.0f} | "
                     f"{', '.join(f'{c:.0f}' for c in cpus)} |")
    publish(lines, args.write, append=True)


if __name__ == "__main__":
    main()
