"""Load test: concurrent clients on 127.0.0.1 mixing canned queries and ad-hoc lookups, with a
pathological query every second and slow clients trickling bytes.

    python -m bench.load --triples 1000000 --clients 32 --seconds 60 --write bench/LOAD.md

Good requests: canned queries (the catalogue's common questions, with parameters) and
uncached ad-hoc lookups of random synthetic projects over /sparql. Pathological: a cartesian
product with timeout=2, once a second; it must be cut at its deadline (422). Slow clients:
connections that send a request's headers and then one byte of body every half second.
Goals: zero errors on good requests; p99 of good requests under 250 ms; every pathological
query cut at its deadline; slow clients starve no one.

The same good traffic runs twice on the same server: first alone (the control), then with the
pathological queries and slow clients, so the report shows what the hostile traffic costs.
"""

import argparse
import asyncio
import os
import random
import statistics
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.generate import AGENCIES, TRIPLES_PER_PROJECT
from bench.report import percentile, publish
from bench.validation import _prepare, _serve
from server.settings import Settings

CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CANNED = [
    ("/queries/projects", {"country": "KR", "limit": "50"}),
    ("/queries/countries-reached", {}),
    ("/queries/partner-profile", {"partner": "country:KR", "limit": "50"}),
    ("/queries/funding-by-funder", {}),
    ("/queries/search", {"q": "korea"}),
]


def _lookup(rng: random.Random, projects: int) -> tuple[str, dict[str, str]]:
    number = rng.randrange(projects)
    query = f"SELECT ?p ?o WHERE {{ <https://w3id.org/ilo-partnerships/id/project/synthetic-{number}> ?p ?o }}"
    return "/sparql", {"query": query}


async def _good_client(
    url: str, until: float, rng: random.Random, projects: int, out: list[tuple[float, bool]], statuses: Counter[str]
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            path, params = rng.choice(CANNED) if rng.random() < 0.5 else _lookup(rng, projects)
            started = time.perf_counter()
            try:
                accept = "application/sparql-results+json" if path == "/sparql" else "application/json"
                response = await client.get(path, params=params, headers={"Accept": accept})
                ok = response.status_code == 200
                statuses[f"{path} {response.status_code}"] += 1
            except httpx.HTTPError as error:
                ok = False
                statuses[f"{path} {type(error).__name__}"] += 1
            out.append((time.perf_counter() - started, ok))


async def _pathological(url: str, until: float, out: list[tuple[float, int]]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        tasks = []
        while time.monotonic() < until:
            # Each one different, so that none is refused as a repeat of one that already failed.
            async def one(text: str = f"{CARTESIAN} # {len(tasks)}") -> None:
                started = time.perf_counter()
                response = await client.get("/sparql", params={"query": text, "timeout": "2"})
                out.append((time.perf_counter() - started, response.status_code))
            tasks.append(asyncio.create_task(one()))
            await asyncio.sleep(1)
        await asyncio.gather(*tasks)


async def _slow_client(port: int, until: float, out: list[str]) -> None:
    """Headers, then one byte of body every half second (a slowloris), until the server answers."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                 b"Content-Length: 100000\r\n\r\n")
    answer = asyncio.create_task(reader.read(200))
    try:
        while time.monotonic() < until and not answer.done():
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.5)
    except (ConnectionError, OSError):
        await asyncio.wait([answer], timeout=5)
    finally:
        writer.close()
    if not answer.done():
        answer.cancel()
        out.append("held to the end")
    elif answer.exception() is None and answer.result().startswith(b"HTTP/1.1 "):
        status = answer.result().split(b" ")[1].decode()
        out.append(f"cut by the server ({status}) after {time.monotonic() - started:.0f} s")
    else:
        out.append("closed by the server without an answer")


async def _run(url: str, port: int, clients: int, seconds: float, slow: int, projects: int, hostile: bool) -> dict:
    until = time.monotonic() + seconds
    good: list[tuple[float, bool]] = []
    bad: list[tuple[float, int]] = []
    slow_out: list[str] = []
    statuses: Counter[str] = Counter()
    rng = random.Random(1)
    hostiles = [_pathological(url, until, bad), *(_slow_client(port, until, slow_out) for _ in range(slow))] if hostile else []
    await asyncio.gather(
        *(_good_client(url, until, random.Random(rng.random()), projects, good, statuses) for _ in range(clients)),
        *hostiles,
    )
    return {"good": good, "bad": bad, "slow": slow_out, "statuses": statuses}


def _row(name: str, result: dict, seconds: float) -> str:
    times = [t * 1000 for t, ok in result["good"] if ok]
    errors = sum(1 for _, ok in result["good"] if not ok)
    cut = result["bad"]
    return (
        f"| {name} | {len(result['good']):,} | {len(result['good']) / seconds:.0f} | {statistics.median(times):.1f} | "
        f"{percentile(times, 0.99):.1f} | {errors} | {len(cut)} | {sum(1 for _, s in cut if s == 422)} | "
        f"{max((t for t, _ in cut), default=0):.1f} | {', '.join(sorted(set(result['slow']))) or '—'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--slow", type=int, default=4)
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    # The server inherits this environment: these are its settings, as the report states them.
    settings = Settings()
    process = _serve(args.triples, _prepare(args.triples), args.port)
    url = f"http://127.0.0.1:{args.port}"
    try:
        stored = httpx.get(url + "/health").json()["triples"]
        projects = max(1, (args.triples - AGENCIES * 4) // TRIPLES_PER_PROJECT)
        # Warm-up, alone: a server in service has answered its common questions before (and
        # keeps their answers until the data changes); this also shows what each costs alone.
        warm = []
        for path, params in CANNED:
            started = time.perf_counter()
            status = httpx.get(url + path, params=params, headers={"Accept": "application/json"}, timeout=60).status_code
            warm.append(f"{path} {status} in {time.perf_counter() - started:.1f} s")
        control = asyncio.run(_run(url, args.port, args.clients, args.seconds, args.slow, projects, hostile=False))
        result = asyncio.run(_run(url, args.port, args.clients, args.seconds, args.slow, projects, hostile=True))
        after = httpx.get(url + "/health", timeout=5).status_code
    finally:
        process.terminate()
        process.wait()
    def p99(run: dict) -> float:
        return percentile([t for t, ok in run["good"] if ok], 0.99)

    lines = [
        "# Load test",
        "",
        f"`python -m bench.load --triples {args.triples} --clients {args.clients} --seconds {args.seconds:g} "
        f"--slow {args.slow}` on {os.cpu_count()} cores, server and clients on the same machine; "
        f"{stored:,} stored triples; {settings.query_workers} query workers, {settings.query_timeout_seconds:g} s "
        f"deadline, long queries demoted after {settings.query_demote_after_seconds:g} s. The good traffic runs "
        "twice: alone, then beside the hostile traffic.",
        "",
        "| run | good requests | throughput req/s | p50 ms | p99 ms | errors | pathological sent | cut with 422 | "
        "longest cut s | slow clients |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        _row("good traffic alone", control, args.seconds),
        _row("with hostile traffic", result, args.seconds),
        "",
        f"- p99 beside the hostile traffic / p99 alone: {p99(result) / p99(control):.2f}.",
        f"- /health after the run: {after}.",
        "- Warm-up, each canned query alone before the run: " + "; ".join(warm) + ".",
        "- Good requests by path and status, beside the hostile traffic: "
        + "; ".join(f"{key}: {count}" for key, count in sorted(result["statuses"].items())) + ".",
    ]
    publish(lines, args.write)


if __name__ == "__main__":
    main()
