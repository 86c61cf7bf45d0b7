"""How fast can a Python front on uvicorn answer lookups at all? Paired rounds against `oxigraph serve`.

    python -m bench.ceiling --triples 1000000 --rounds 3 [--write FILE]

The server's lookup ratio has a ceiling that no work on the server can pass: uvicorn's own HTTP
handling plus the engine. This measures, in the same rounds as `oxigraph serve` on the same core
and store, the thinnest app this stack allows (bench/ceiling_app.py: no request id, log, metrics,
security headers, CORS, negotiation or checks) in three variants: the query run in the event loop
(no deadline possible: pyoxigraph cannot be interrupted), and in the server's worker pool one job
at a time or pipelined. Pinning, workloads and data are bench/run.py's.
"""

import argparse
import statistics
import sys
from pathlib import Path

from bench.generate import generate, projects_for
from bench.report import publish
from bench.run import HERE, Server, _machine, _start, _stop, measure_pair

VARIANTS = ("in-process", "one-at-a-time", "pipelined")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per measure")
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    args = parser.parse_args()
    work = HERE / "work" / str(args.triples)
    if not (work / "data" / "synthetic.ttl").exists():
        generate(args.triples, work / "data" / "synthetic.ttl")
    store = work / "store"
    if not store.exists():
        sys.exit(f"no store at {store}: run bench.paired (or bench.run) once first, it builds it")
    projects = projects_for(args.triples)
    bin_dir = Path(sys.executable).parent
    servers = [
        Server(variant, [sys.executable, "-m", "uvicorn", "--port", str(18101 + n), "--log-level", "warning",
                         "--no-access-log", "bench.ceiling_app:app"],
               f"http://127.0.0.1:{18101 + n}/sparql", {"CEILING_VARIANT": variant, "CEILING_STORE": str(store)},
               cwd=str(HERE.parent))
        for n, variant in enumerate(VARIANTS)
    ]
    oxigraph = Server("oxigraph serve", [str(bin_dir / "oxigraph"), "serve-read-only", "--location", str(store),
                                         "--bind", "127.0.0.1:18199"], "http://127.0.0.1:18199/query", {})
    ratios: dict[str, list[float]] = {}
    try:
        for server in (*servers, oxigraph):
            _start(server, 300)
        for round_ in range(1, args.rounds + 1):
            for server in servers:
                pair = measure_pair(server, oxigraph, "lookup", projects, args.duration)
                ratios.setdefault(server.name, []).append(pair[0] / pair[1])
                print(f"round {round_} {server.name:14} {pair[0]:9.1f} req/s vs {pair[1]:9.1f}: {pair[0] / pair[1]:.3f}×",
                      flush=True)
    finally:
        for server in (*servers, oxigraph):
            _stop(server)
    lines = [
        f"\n## Ceiling of a Python front, {args.triples:,} triples\n",
        f"`python -m bench.ceiling --rounds {args.rounds}`. Machine: {_machine()}. Each app and `oxigraph serve` on "
        "CPU 1, wrk on CPU 0; uncached lookups; each ratio from two measures made back to back; medians.\n",
        "| plain ASGI app on uvicorn, query run … | median ratio to `oxigraph serve` | ratios by round |",
        "|---|---:|---|",
    ]
    for name, values in ratios.items():
        lines.append(f"| {name} | {statistics.median(values):.3f}× | {', '.join(f'{v:.3f}' for v in values)} |")
    publish(lines, args.write, append=True)


if __name__ == "__main__":
    main()
