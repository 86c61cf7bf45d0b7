"""Paired rounds against `oxigraph serve`: each ratio is the median over rounds, each round measured back to back.

    python -m bench.paired --triples 1000000 --rounds 3 [--workloads lookup count] [--compare REV] [--write FILE]

A single run's ratio moves with whatever else the machine does during it; a ratio taken from two
measures made one right after the other, on the same core, and then the median of several such
pairs, does not. With --compare REV, the server at another git revision (checked out in a
temporary worktree, with a store of its own on the same data) is measured in the same rounds:
the change between the two is then read from one run.

Pinning, workloads and data are bench/run.py's.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.generate import generate, projects_for
from bench.report import publish
from bench.run import CPUS, HERE, WORKLOADS, Server, _machine, _start, _stop, measure_pair, ours_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measure")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=["lookup"])
    parser.add_argument("--compare", help="also measure the server at this git revision")
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    parser.add_argument("--cores", type=int, choices=(1, 2), default=1,
                        help="1: servers on CPU 1, wrk on CPU 0; 2: servers and wrk share CPUs 0 and 1")
    args = parser.parse_args()
    if args.cores == 2:
        CPUS.update(server="0,1", load="0,1")

    work = HERE / "work" / str(args.triples)
    data_dir = work / "data"
    if not (data_dir / "synthetic.ttl").exists():
        generate(args.triples, data_dir / "synthetic.ttl")
    projects = projects_for(args.triples)
    servers = [ours_server("this server", 18001, work / "store", data_dir)]
    worktree = None
    if args.compare:
        worktree = tempfile.mkdtemp(prefix="bench-rev-")
        subprocess.run(["git", "worktree", "add", "--detach", worktree, args.compare], check=True, capture_output=True)
        servers.append(ours_server(f"at {args.compare}", 18004, work / f"store-{args.compare}", data_dir, worktree))
    oxigraph = Server("oxigraph serve", [str(Path(sys.executable).parent / "oxigraph"), "serve-read-only", "--location",
                                         str(work / "store"), "--bind", "127.0.0.1:18002"], "http://127.0.0.1:18002/query", {})
    ratios: dict[tuple[str, str], list[float]] = {}
    rates: dict[tuple[str, str], list[float]] = {}
    try:
        for server in servers:
            _start(server, 1800)
        _start(oxigraph, 120)
        for round_ in range(1, args.rounds + 1):
            for workload in args.workloads:
                for server in servers:
                    pair = measure_pair(server, oxigraph, workload, projects, args.duration)
                    ratios.setdefault((server.name, workload), []).append(pair[0] / pair[1])
                    rates.setdefault((server.name, workload), []).append(pair[0])
                    rates.setdefault(("oxigraph serve", workload), []).append(pair[1])
                    print(f"round {round_} {workload:9} {server.name:16} {pair[0]:10.1f} req/s vs {pair[1]:10.1f}: "
                          f"{pair[0] / pair[1]:.3f}×", flush=True)
    finally:
        for server in (*servers, oxigraph):
            _stop(server)
        if worktree:
            subprocess.run(["git", "worktree", "remove", "--force", worktree], check=False, capture_output=True)

    lines = [
        f"\n## Paired rounds, {args.triples:,} triples\n",
        f"Machine: {_machine()}. Each server and `oxigraph serve` on CPUs {CPUS['server']}, wrk on CPUs {CPUS['load']}; "
        f"{args.rounds} rounds, each "
        f"measure {args.duration} s after a 2 s warm-up, each ratio from two measures made back to back; medians.\n",
        "| workload | server | median requests/s | median ratio to `oxigraph serve` | ratios by round |",
        "|---|---|---:|---:|---|",
    ]
    for (name, workload), values in ratios.items():
        lines.append(f"| {workload} | {name} | {statistics.median(rates[(name, workload)]):.1f} | "
                     f"{statistics.median(values):.3f}× | {', '.join(f'{v:.3f}' for v in values)} |")
    for workload in args.workloads:
        lines.append(f"| {workload} | oxigraph serve | {statistics.median(rates[('oxigraph serve', workload)]):.1f} | 1× | |")
    publish(lines, args.write, append=True)


if __name__ == "__main__":
    main()
