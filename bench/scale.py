"""The embedded store as the data grows: load time, disk, memory and latencies at each size.

    python -m bench.scale --sizes 100000 1000000 10000000 [--write bench/RESULTS.md] [--plot bench/scale.png]

For each size: synthetic data (bench.generate), `ilo-kg load` into a fresh store (wall time and
the loader's peak memory), the store's size on disk, then a real server on it (CPU 1; the client
here, CPU 0) timed with sequential requests: uncached lookups (a different project and a unique
comment each time), a canned-style question asked again and again (bench.run's `canned`: its
first answer is the engine's, the rest the answer cache's) and uncached aggregates. The server's
memory is its resident size with its worker processes after the run.
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

COUNTS = {"lookup": 300, "canned": 100, "aggregate": 5}


def _load(store_dir: Path, data_dir: Path) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of `ilo-kg load` into a fresh store."""
    for stale in store_dir.parent.glob(store_dir.name + "*"):  # the store, its generations, manifest and lock
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    env = {**os.environ, "ILOKG_STORE_DIR": str(store_dir), "ILOKG_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "server", "load"], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"ilo-kg load failed with {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - started, usage.ru_maxrss * 1024


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
            if response.status_code != 200:
                raise RuntimeError(f"{workload}: {response.status_code} {response.text[:200]}")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    parser.add_argument("--plot", type=Path, help="write a PNG of latency against size here")
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})
    rows = []
    for size in args.sizes:
        work = HERE / "work" / str(size)
        data_dir, store_dir = work / "data", work / "scale-store"
        if not (data_dir / "synthetic.ttl").exists():
            generate(size, data_dir / "synthetic.ttl")
        print(f"{size:,}: loading …", flush=True)
        seconds, peak = _load(store_dir, data_dir)
        disk = _disk(store_dir)
        server = ours_server("this server", 18021, store_dir, data_dir)
        try:
            _start(server, 600)
            measured = {w: _latencies(server.endpoint, w, projects_for(size)) for w in COUNTS}
            assert server.process is not None
            memory = sum(resident_kib(server.process.pid).values()) * 1024
        finally:
            _stop(server)
        rows.append((size, seconds, peak, disk, memory, measured))
        print(f"{size:,}: load {seconds:.0f} s, {peak / 2**30:.1f} GiB; lookup p50 "
              f"{statistics.median(measured['lookup']):.1f} ms", flush=True)
    lines = [
        "## The embedded store as the data grows", "",
        f"`python -m bench.scale --sizes {' '.join(map(str, args.sizes))}`. Machine: {_machine()}. Server on CPU 1, "
        f"client on CPU 0; sequential requests: {COUNTS['lookup']} uncached lookups, {COUNTS['canned']} repeats of "
        f"one canned-style question (its first answer from the engine, the rest from the answer cache), "
        f"{COUNTS['aggregate']} uncached aggregates.", "",
        "| triples | load s | loader peak GiB | disk GiB | server memory GiB | lookup p50 / p99 ms | canned first / "
        "p50 / p99 ms | aggregate p50 / max ms |",
        "|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for size, seconds, peak, disk, memory, m in rows:
        lookup, canned, aggregate = m["lookup"], m["canned"], m["aggregate"]
        lines.append(
            f"| {size:,} | {seconds:.0f} | {peak / 2**30:.2f} | {disk / 2**30:.2f} | {memory / 2**30:.2f} | "
            f"{statistics.median(lookup):.1f} / {percentile(lookup, 0.99):.1f} | {canned[0]:.0f} / "
            f"{statistics.median(canned):.1f} / {percentile(canned, 0.99):.1f} | "
            f"{statistics.median(aggregate):,.0f} / {max(aggregate):,.0f} |"
        )
    publish(lines, args.write, append=True)
    if args.plot is not None:
        _plot(rows, args.plot)


def _plot(rows: list[tuple], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    sizes = [row[0] for row in rows]
    for workload, label in (("lookup", "lookup p50"), ("canned", "canned (cached) p50"), ("aggregate", "aggregate p50")):
        axes.plot(sizes, [statistics.median(row[5][workload]) for row in rows], marker="o", label=label)
    axes.plot(sizes, [row[5]["canned"][0] for row in rows], marker="s", linestyle="--", label="canned, first answer")
    axes.set(xscale="log", yscale="log", xlabel="triples", ylabel="milliseconds",
             title="Embedded store: latency against size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
