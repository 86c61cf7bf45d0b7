"""A token holder's latency while anonymous clients hold every worker they may, against the same server idle.

Anonymous clients keep endless queries running (each is cut at the deadline and sent again), as
many as their share allows; a token holder asks a small uncached query, one after another.

    python -m bench.saturation --write bench/SATURATION.md
"""

import argparse
import os
import statistics
import threading
import time
from pathlib import Path

import httpx

from bench.hostile import hostile_server
from bench.report import publish

ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _token_holder(url: str, token: str, rounds: int) -> list[float]:
    latencies = []
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        for n in range(rounds):
            started = time.perf_counter()
            answer = client.get(url + "/sparql", params={"query": f'ASK {{ ?s ?p "token-{n}-{started}" }}'})
            assert answer.status_code == 200, answer.text
            latencies.append(time.perf_counter() - started)
    return latencies


def _anonymous(url: str, stop: threading.Event, statuses: list[int], n: int) -> None:
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            statuses.append(client.get(url + "/sparql", params={"query": ENDLESS + f" # {n}"}).status_code)


def _row(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    return (f"| {name} | {len(ordered)} | {statistics.median(ordered) * 1000:.1f} | "
            f"{ordered[int(len(ordered) * 0.99) - 1] * 1000:.1f} | {ordered[-1] * 1000:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--anonymous", type=int, default=6, help="anonymous clients, each with one query at a time")
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    # Six clients on one address: each address may have four queries in flight (the default).
    with hostile_server(args.port, {"ILOKG_QUERY_TIMEOUT_SECONDS": "5"}) as (_, context):
        idle = _token_holder(context.url, context.token, args.rounds)
        stop, statuses = threading.Event(), []
        clients = [threading.Thread(target=_anonymous, args=(context.url, stop, statuses, n)) for n in range(args.anonymous)]
        for client in clients:
            client.start()
        while httpx.get(context.url + "/health", timeout=30).json()["workers"]["running"] < 3:
            time.sleep(0.05)  # the event: the anonymous share (three of four workers) is taken
        busy = _token_holder(context.url, context.token, args.rounds)
        workers = httpx.get(context.url + "/health", timeout=30).json()["workers"]
        stop.set()
        for client in clients:
            client.join()
    lines = [
        "# A token holder beside saturating anonymous clients",
        "",
        f"`python -m bench.saturation` on {os.cpu_count()} cores, default shares (4 query workers, 1 kept for token "
        f"holders, 4 queries in flight per address), deadline 5 s: {args.anonymous} anonymous clients on one address "
        "each keep an endless query going (cut at the deadline, sent again); a token holder sends "
        f"{args.rounds} uncached queries one after another, first on the idle server, then beside them.",
        "",
        "| token holder's queries | n | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        _row("server idle", idle),
        _row("anonymous clients saturating", busy),
        "",
        f"The anonymous clients' answers: {statuses.count(422)} cut at the deadline (422), {statuses.count(429)} refused "
        f"for their share (429), {len([s for s in statuses if s not in (422, 429)])} other; workers at the end: "
        f"{workers['running']} running, {workers['waiting']} waiting.",
    ]
    publish(lines, args.write)


if __name__ == "__main__":
    main()
