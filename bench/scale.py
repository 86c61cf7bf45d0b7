"""The store as the data grows: load time, disk, memory and latencies at each size, for each backend.

    python -m bench.scale --sizes 100000 1000000 10000000 [--backends embedded oxigraph virtuoso] [--bulk]
                          [--write bench/RESULTS.md] [--plot bench/scale.png]
    python -m bench.scale --replot bench/RESULTS.md --plot bench/scale-backends.png

For each backend and size: synthetic data (bench.generate), `ilo-kg load` into a fresh store (wall
time and the loader's peak memory: for an external store, the engine does the work and the loader
only sends the files), the store's size on disk, then a real server on it (server and engine on
CPU 1; the client here, CPU 0) timed with sequential requests: uncached lookups (a different
project and a unique comment each time), a canned-style question asked again and again (bench.run's
`canned`: its first answer is the engine's, the rest the answer cache's) and uncached aggregates.
The server's memory is its resident size with its worker processes, and the engine's, after the run.
Backends: the embedded store; `oxigraph serve` and Virtuoso 7 (tests/support/engines.py), each on a
fresh database (Virtuoso with 340,000 buffers, its guide's figure for 4 GB). With --bulk, an external
backend is filled by the engine's own bulk loader (`oxigraph load` and `optimize`; Virtuoso's ld_dir and
rdf_loader_run), the synthetic file into its graph and into the union graph, and `ilo-kg load
--engine-loaded` then records it and sends the small files: the load time is the sum of both.
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

from bench.generate import generate, projects_for
from bench.report import percentile, publish, resident_kib
from bench.run import HERE, WORKLOADS, _machine, _start, _stop, ours_server
from server.store.remote import UNION
from tests.support.engines import Engine, oxigraph_command, start_oxigraph, start_virtuoso, virtuoso_sql

COUNTS = {"lookup": 300, "canned": 100, "aggregate": 5}


def _load(store_dir: Path, data_dir: Path, engine_env: dict[str, str], *options: str) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of `ilo-kg load` into a fresh store."""
    for stale in store_dir.parent.glob(store_dir.name + "*"):  # the store, its generations, manifest and lock
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    env = {**os.environ, "ILOKG_STORE_DIR": str(store_dir), "ILOKG_DATA_DIR": str(data_dir), **engine_env}
    return _timed([sys.executable, "-m", "server", "load", *options], env)


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of a command run to its end."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed with {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - started, usage.ru_maxrss * 1024


def _data_graph(data_dir: Path) -> str:
    """The named graph `ilo-kg load` gives the synthetic file (from its --plan)."""
    env = {**os.environ, "ILOKG_DATA_DIR": str(data_dir)}
    plan = subprocess.run([sys.executable, "-m", "server", "load", "--plan"], env=env, check=True, capture_output=True,
                          text=True).stdout
    return next(line.split("\t")[0] for line in plan.splitlines() if line.endswith("synthetic.ttl"))


def _bulk_oxigraph(folder: Path, data: Path, graph: str) -> tuple[float, int]:
    """`oxigraph load` (the engine's bulk loader, before it serves) of the file into its graph and into the union,
    then `oxigraph optimize`."""
    command = oxigraph_command()
    seconds, peak = 0.0, 0
    folder.mkdir(parents=True, exist_ok=True)
    location = ["--location", str(folder / "store")]
    # Then `oxigraph optimize`, as its loader advises for reading: at 10M the aggregate ran past 120 s without it,
    # 20 s after it.
    for step in (["load", *location, "--file", str(data), "--graph", graph],
                 ["load", *location, "--file", str(data), "--graph", UNION], ["optimize", *location]):
        spent, used = _timed([command, *step])
        seconds, peak = seconds + spent, max(peak, used)
    return seconds, peak


def _bulk_virtuoso(engine: Engine, data: Path, graph: str) -> float:
    """Virtuoso's bulk loader (ld_dir, rdf_loader_run, checkpoint) of the file into its graph and into the union; the
    file linked into the engine's folder (its DirsAllowed), once per graph (the load list is keyed by file)."""
    folder = engine.folder / "bulk"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name in ("graph.ttl", "union.ttl"):
        os.link(data, folder / name)
    started = time.perf_counter()
    virtuoso_sql(engine, f"ld_dir('{folder}', 'graph.ttl', '{graph}'); ld_dir('{folder}', 'union.ttl', '{UNION}'); "
                         "rdf_loader_run(); checkpoint;", timeout=7200)
    return time.perf_counter() - started


def _disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.resolve().rglob("*") if f.is_file())


def _latencies(endpoint: str, workload: str, projects: int) -> list[float]:
    template, _, unique = WORKLOADS[workload]
    latencies = []
    with httpx.Client(timeout=600, headers={"Accept": "application/sparql-results+json"}) as client:
        for n in range(COUNTS[workload]):
            if workload == "lookup":
                query = template % ((n * 7919) % projects, n)
            else:
                query = template % (n,) if unique else template
            started = time.perf_counter()
            response = client.get(endpoint, params={"query": query})
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code == 422 and "deadline" in response.text:
                latencies[-1] = float("inf")  # stopped at the server's deadline: reported as such, not asked again
                break
            if response.status_code != 200:
                raise RuntimeError(f"{workload}: {response.status_code} {response.text[:200]}")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--backends", nargs="+", choices=["embedded", "oxigraph", "virtuoso"], default=["embedded"])
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    parser.add_argument("--plot", type=Path, help="write a PNG of latency against size here")
    parser.add_argument("--bulk", action="store_true",
                        help="external backends: the engine's own bulk loader, then `ilo-kg load --engine-loaded`")
    parser.add_argument("--replot", type=Path,
                        help="measure nothing: draw --plot from the tables this benchmark wrote into this report")
    args = parser.parse_args()
    if args.replot is not None:
        _plot(_points_in(args.replot), args.plot or Path("bench/scale-backends.png"))
        return
    os.sched_setaffinity(0, {0})
    rows = []
    for backend in args.backends:
        for size in args.sizes:
            rows.append(_measure(backend, size, args.bulk))
    lines = [
        "## The store as the data grows, by backend", "",
        f"`python -m bench.scale --sizes {' '.join(map(str, args.sizes))} --backends {' '.join(args.backends)}"
        f"{' --bulk' if args.bulk else ''}`. "
        f"Machine: {_machine()}. Server (and engine) on CPU 1, "
        f"client on CPU 0; sequential requests: {COUNTS['lookup']} uncached lookups, {COUNTS['canned']} repeats of "
        f"one canned-style question (its first answer from the engine, the rest from the answer cache), "
        f"{COUNTS['aggregate']} uncached aggregates.", "",
        "| backend | triples | load s | loader peak GiB | disk GiB | server (+ engine) memory GiB | lookup p50 / p99 ms | "
        "canned first / p50 / p99 ms | aggregate p50 / max ms |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for backend, size, seconds, peak, disk, memory, m in rows:
        lookup, canned, aggregate = m["lookup"], m["canned"], m["aggregate"]
        lines.append(
            f"| {backend} | {size:,} | {seconds:.0f} | {peak / 2**30:.2f} | {disk / 2**30:.2f} | {memory / 2**30:.2f} | "
            f"{statistics.median(lookup):.1f} / {percentile(lookup, 0.99):.1f} | {canned[0]:.0f} / "
            f"{statistics.median(canned):.1f} / {percentile(canned, 0.99):.1f} | "
            f"{_ms(statistics.median(aggregate))} / {_ms(max(aggregate))} |"
        )
    publish(lines, args.write, append=True)
    if args.plot is not None:
        _plot(_points(rows), args.plot)


def _measure(backend: str, size: int, bulk: bool = False) -> tuple:
    """One backend at one size: (backend, size, load seconds, loader peak, disk, memory, latencies by workload)."""
    work = HERE / "work" / str(size)
    data_dir, store_dir = work / "data", work / "scale-store"
    if not (data_dir / "synthetic.ttl").exists():
        generate(size, data_dir / "synthetic.ttl")
    engine = None
    engine_env: dict[str, str] = {}
    if backend != "embedded":
        folder = work / f"scale-{backend}"
        shutil.rmtree(folder, ignore_errors=True)
        engine = (start_oxigraph(folder, timeout_seconds=600) if backend == "oxigraph"
                  else start_virtuoso(folder, timeout_seconds=600, buffers=340_000))
        _pin(engine)
        engine_env = engine.env
    try:
        print(f"{backend} {size:,}: loading …", flush=True)
        if bulk and engine is not None:
            graph = _data_graph(data_dir)
            if backend == "oxigraph":
                # `oxigraph load` needs the store to itself: the engine is started again on what it wrote.
                engine.stop()
                loaded, peak = _bulk_oxigraph(engine.folder, data_dir / "synthetic.ttl", graph)
                engine = start_oxigraph(engine.folder, timeout_seconds=600)
                _pin(engine)
                engine_env = engine.env
            else:
                loaded, peak = _bulk_virtuoso(engine, data_dir / "synthetic.ttl", graph), 0
            recorded, recorder = _load(store_dir, data_dir, engine_env, "--engine-loaded")
            seconds, peak = loaded + recorded, max(peak, recorder)
        else:
            seconds, peak = _load(store_dir, data_dir, engine_env)
        disk = _disk(engine.folder if engine is not None else store_dir)
        server = ours_server("this server", 18021, store_dir, data_dir)
        server.env.update(engine_env)
        try:
            _start(server, 600)
            # The data is all there (a bulk load that missed the file would make every lookup fast and empty).
            held = httpx.get(server.endpoint.rsplit("/sparql", 1)[0] + "/health", timeout=600).json()["triples"]
            if held < size * 0.99:
                raise RuntimeError(f"{backend} {size:,}: the store holds {held:,} triples")
            measured = {w: _latencies(server.endpoint, w, projects_for(size)) for w in COUNTS}
            assert server.process is not None
            memory = sum(resident_kib(server.process.pid).values()) * 1024
            if engine is not None:
                memory += sum(resident_kib(engine.process.pid).values()) * 1024
        finally:
            _stop(server)
    finally:
        if engine is not None:
            engine.stop()
    print(f"{backend} {size:,}: load {seconds:.0f} s, {peak / 2**30:.1f} GiB; lookup p50 "
          f"{statistics.median(measured['lookup']):.1f} ms", flush=True)
    return backend, size, seconds, peak, disk, memory, measured


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value != float("inf") else "past the deadline"


def _pin(engine: Engine) -> None:
    """The engine on the server's CPU, all its threads."""
    subprocess.run(["taskset", "-a", "-cp", "1", str(engine.process.pid)], check=True, stdout=subprocess.DEVNULL)


def _points(rows: list[tuple]) -> list[tuple[str, int, float, float, float]]:
    """(backend, triples, lookup p50, aggregate p50, canned first answer) of measured rows, in ms."""
    return [(row[0], row[1], statistics.median(row[6]["lookup"]), statistics.median(row[6]["aggregate"]),
             row[6]["canned"][0]) for row in rows]


def _points_in(report: Path) -> list[tuple[str, int, float, float, float]]:
    """The same figures read back from the tables this benchmark wrote into a report (the last row of each backend
    and size wins): tables with a backend column, and the embedded store's own (without one)."""
    found: dict[tuple[str, int], tuple[str, int, float, float, float]] = {}
    header: list[str] = []
    for line in report.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if "triples" in cells and "lookup p50 / p99 ms" in cells:
            header = cells
            continue
        if not cells or not header or len(cells) != len(header) or cells[0].startswith("-"):
            header = header if cells else []
            continue
        row = dict(zip(header, cells, strict=True))
        backend, size = row.get("backend", "embedded"), int(row["triples"].replace(",", ""))
        found[(backend, size)] = (backend, size, _first(row["lookup p50 / p99 ms"]),
                                  _first(row["aggregate p50 / max ms"]), _first(row["canned first / p50 / p99 ms"]))
    return sorted(found.values())


def _first(cell: str) -> float:
    """The first figure of a table cell ("1,037 / 1,698" → 1037); no figure (past the deadline): no point drawn."""
    first = cell.split("/")[0].replace(",", "").strip()
    return float(first) if first.replace(".", "", 1).isdigit() else float("nan")


def _plot(points: list[tuple[str, int, float, float, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(10, 5))
    colours = dict(zip(dict.fromkeys(p[0] for p in points), ("#0072B2", "#E69F00", "#009E73", "#CC79A7"), strict=False))
    for backend, colour in colours.items():
        mine = sorted(p for p in points if p[0] == backend)
        sizes = [p[1] for p in mine]
        for index, label, style in ((2, "lookup p50", "o-"), (3, "aggregate p50", "s--"), (4, "canned first answer", "^:")):
            axes.plot(sizes, [p[index] for p in mine], style, color=colour, label=f"{backend}: {label}")
    axes.set(xscale="log", yscale="log", xlabel="triples", ylabel="milliseconds",
             title="Latency against size, by backend")
    axes.grid(True, which="both", alpha=0.3)
    # Beside the axes: inside, it covered the upper lines.
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
