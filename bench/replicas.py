"""One replica against two behind HAProxy, over one external store (`oxigraph serve`): uncached lookups per second.

    python -m bench.replicas --triples 100000 [--rounds 3] [--duration 15] [--write bench/RESULTS.md]

The synthetic data is loaded into `oxigraph serve` with `ilo-kg load`; then, in paired rounds (the order alternating),
wrk sends uncached lookups (a different project and a unique comment each request) through HAProxy, configured from
examples/deploy/haproxy.cfg, to one replica (both server lines naming it) and to two. Nothing is pinned: the engine,
the replicas, HAProxy and wrk share the machine's cores, as they would on one host. Reported: the medians of the
rounds, and their ratio.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench import run as bench_run
from bench.generate import generate, projects_for
from bench.report import cpu_seconds, publish
from bench.run import HERE, Measure, Server, _machine, _start, _stop, run_wrk
from tests.support.balancer import start_haproxy
from tests.support.engines import start_oxigraph
from tests.support.processes import stop
from tests.support.servers import free_port


def _replica(port: int, env: dict[str, str], work: Path) -> Server:
    return Server(
        f"replica :{port}", [sys.executable, "-m", "server", "serve", "--port", str(port)],
        f"http://127.0.0.1:{port}/sparql",
        {**env, "ILOKG_STORE_DIR": str(work / f"replica-{port}" / "store"), "ILOKG_QUERIES_PER_CLIENT": "1000",
         "ILOKG_STORE_CONNECTIONS": "32", "ILOKG_CACHE_ENTRIES": "0"},
    )


def _through_balancer(replicas: list[int], work: Path, projects: int, duration: int,
                      pids: dict[str, list[int]]) -> tuple[Measure, dict[str, float]]:
    """wrk through HAProxy to these replica ports; the measure, and the share of one core each part used."""
    front, stats = free_port(), free_port()
    balancer = start_haproxy(work / "haproxy", front, stats, replicas)
    pids = {**pids, "HAProxy": [balancer.pid]}
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{front}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        time.sleep(1)  # both servers seen up by the health checks (rise 2, every 250 ms)
        before = {part: sum(cpu_seconds(p) for p in ps) for part, ps in pids.items()}
        started = time.perf_counter()
        measure = run_wrk(Server("balancer", [], f"http://127.0.0.1:{front}/sparql", {}), "lookup", projects, duration)
        elapsed = time.perf_counter() - started
        used = {part: (sum(cpu_seconds(p) for p in ps) - before[part]) / elapsed for part, ps in pids.items()}
        return measure, used
    finally:
        stop(balancer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--engine-timeout", type=int, default=0,
                        help="oxigraph serve's --timeout-s (0: none)")
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    args = parser.parse_args()
    # Everything shares every core here (the point is what a second replica adds on this machine).
    bench_run.CPUS.update(server="0,1", load="0,1")
    timeout = None if args.engine_timeout == 0 else args.engine_timeout
    lookup = bench_run.WORKLOADS["lookup"]
    bench_run.WORKLOADS["lookup"] = (lookup[0], args.connections, lookup[2])
    work = HERE / "work" / str(args.triples)
    data_dir = work / "data"
    if not (data_dir / "synthetic.ttl").exists():
        generate(args.triples, data_dir / "synthetic.ttl")
    engine_dir = work / "replicas-engine"
    shutil.rmtree(engine_dir, ignore_errors=True)
    engine = start_oxigraph(engine_dir, timeout_seconds=timeout)
    env = {**engine.env, "ILOKG_DATA_DIR": str(data_dir)}
    servers: list[Server] = []
    try:
        subprocess.run([sys.executable, "-m", "server", "load"], env={**os.environ, **env}, check=True,
                       stdout=subprocess.DEVNULL)
        servers = [_replica(free_port(), env, work) for _ in range(2)]
        for server in servers:
            _start(server, 120)
        ports = [int(s.endpoint.split(":")[2].split("/")[0]) for s in servers]
        results: dict[str, list[Measure]] = {"one": [], "two": []}
        shares: dict[str, list[dict[str, float]]] = {"one": [], "two": []}
        processes = {"oxigraph serve": [engine.process.pid],
                     "replicas": [s.process.pid for s in servers if s.process is not None]}
        for round_ in range(args.rounds):
            order = ("one", "two") if round_ % 2 == 0 else ("two", "one")
            for which in order:
                chosen = [ports[0], ports[0]] if which == "one" else ports
                measure, used = _through_balancer(chosen, work, projects_for(args.triples), args.duration, processes)
                results[which].append(measure)
                shares[which].append(used)
                print(f"round {round_ + 1} {which}: {measure.requests_per_second:.0f} req/s, p50 {measure.p50_ms:.1f} ms, "
                      f"errors {measure.errors}, cores used {used}", flush=True)
    finally:
        for server in servers:
            _stop(server)
        engine.stop()
    one = statistics.median(m.requests_per_second for m in results["one"])
    two = statistics.median(m.requests_per_second for m in results["two"])
    lines = [
        "## Replicas over one external store", "",
        f"`python -m bench.replicas --triples {args.triples} --rounds {args.rounds} --duration {args.duration} "
        f"--connections {args.connections} --engine-timeout {args.engine_timeout}`. Machine: {_machine()}. "
        "`oxigraph serve` (one store), one or two replicas (answer cache off: every lookup reaches the store), "
        "HAProxy from examples/deploy/haproxy.cfg, wrk; "
        "all on the same two cores, none pinned. Uncached lookups (a different project each request), medians of "
        "paired rounds.", "",
        "| replicas | lookups/s (rounds) | p50 ms | p99 ms | errors | cores used: oxigraph serve / replicas / HAProxy |",
        "|---|---|---:|---:|---:|---|",
    ]
    for which in ("one", "two"):
        measures = results[which]
        used = {part: statistics.median(s[part] for s in shares[which]) for part in shares[which][0]}
        lines.append(
            f"| {which} | {statistics.median(m.requests_per_second for m in measures):,.0f} "
            f"({', '.join(f'{m.requests_per_second:,.0f}' for m in measures)}) | "
            f"{statistics.median(m.p50_ms for m in measures):.1f} | {statistics.median(m.p99_ms for m in measures):.1f} | "
            f"{sum(m.errors for m in measures)} | {used['oxigraph serve']:.2f} / {used['replicas']:.2f} / "
            f"{used['HAProxy']:.2f} |"
        )
    lines += ["", f"Two replicas / one: **{two / one:.2f}×**."]
    publish(lines, args.write, append=True)


if __name__ == "__main__":
    main()
