"""Validation latency of a one-project submission (48 triples) as the store grows.

For each store size a real server is started on the bundled data plus synthetic projects
(bench.generate); POST /validate is timed sequentially from this process (latency, not
throughput). The baseline, measured in the same run at the smallest size, is what the
peers do: pyshacl over the submission merged into the whole data.

    python -m bench.validation --sizes 10000 100000 1000000 --write bench/VALIDATION.md
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyshacl

from bench.generate import generate
from bench.report import percentile, publish
from server.rdf.parsing import parse_rdf
from server.rdf.project_graphs import load_folder, read_turtle
from server.rdf.syntaxes import BY_NAME
from server.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
SUBMISSION = ROOT / "examples" / "first-submission.ttl"



def _prepare(size: int) -> Path:
    """A data folder of the bundled files and `size` synthetic triples (generated once)."""
    folder = WORK / str(size) / "validation-data"
    synthetic = WORK / str(size) / "data" / "synthetic.ttl"
    if not synthetic.exists():
        generate(size, synthetic)
    folder.mkdir(parents=True, exist_ok=True)
    for path in [*get_settings().data_dir.glob("*.ttl"), synthetic]:
        link = folder / path.name
        if not link.exists():
            link.symlink_to(path)
    return folder


def _serve(size: int, data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ILOKG_DATA_DIR": str(data), "ILOKG_STORE_DIR": str(WORK / str(size) / "store-validation"),
           "ILOKG_VALIDATION_RATE": "100000/minute", "ILOKG_TOKENS_FILE": str(WORK / "no-tokens.json"),
           # Every simulated client comes from 127.0.0.1: one address's share would be all of them.
           "ILOKG_QUERIES_PER_CLIENT": "1000", "ILOKG_VALIDATIONS_PER_CLIENT": "1000"}
    process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the server did not start")


def measure_server(size: int, requests: int, port: int = 8791) -> tuple[list[float], int]:
    """Latencies (ms) of POST /validate at one store size, and the store's triple count."""
    process = _serve(size, _prepare(size), port)
    try:
        url = f"http://127.0.0.1:{port}/validate"
        body, headers = SUBMISSION.read_bytes(), {"Content-Type": "text/turtle"}
        with httpx.Client(timeout=60) as client:
            for _ in range(5):
                assert client.post(url, content=body, headers=headers).json()["conforms"] is True
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.post(url, content=body, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            triples = client.get(f"http://127.0.0.1:{port}/health").json()["triples"]
        return times, triples
    finally:
        process.terminate()
        process.wait()


def measure_whole_store(size: int, runs: int) -> list[float]:
    """Latencies (ms) of the baseline: pyshacl over the submission merged into all the data (in memory).

    This is what a validator without a store does (the EU test bed's, Fuseki's SHACL service):
    every node of the merged graph is checked, so the time follows the store. (The synthetic
    projects cite a source that is not described, so this report has violations of its own;
    only the time is compared.)
    """
    settings = get_settings()
    shapes = load_folder(settings.shapes_dir)
    data = load_folder(settings.ontology_dir) + load_folder(settings.data_dir) + parse_rdf(
        (WORK / str(size) / "data" / "synthetic.ttl").read_bytes(), BY_NAME["turtle"], "synthetic"
    ).graph + read_turtle(SUBMISSION).graph
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        pyshacl.validate(data, shacl_graph=shapes, inference=None, allow_warnings=True)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    rows, p50s = [], []
    for size in args.sizes:
        times, triples = measure_server(size, args.requests)
        p50s.append(statistics.median(times))
        rows.append(f"| {triples:,} | {statistics.median(times):.1f} | {percentile(times, 0.95):.1f} | {max(times):.1f} |")
        print(rows[-1], flush=True)
    baseline = statistics.median(measure_whole_store(args.sizes[0], 3))
    lines = [
        "# Validation latency of a one-project submission",
        "",
        f"`python -m bench.validation --sizes {' '.join(map(str, args.sizes))}` on {os.cpu_count()} cores; "
        f"{args.requests} sequential POST /validate of examples/first-submission.ttl (48 triples) "
        "to a real server per store size, after 5 warm-up requests. Goal: p50 under 100 ms and flat as the store grows.",
        "",
        "| stored triples | p50 ms | p95 ms | max ms |",
        "|---:|---:|---:|---:|",
        *rows,
        "",
        f"- Growth of p50 from the smallest to the largest store: {p50s[-1] / p50s[0]:.2f}×.",
        f"- Baseline, same run: pyshacl over the submission merged into all {args.sizes[0]:,} synthetic triples "
        f"(in memory, no HTTP) takes {baseline:.0f} ms, {baseline / p50s[0]:.1f}× our p50 at that size; it grows with the store.",
        "",
    ]
    publish(lines, args.write)


if __name__ == "__main__":
    main()
