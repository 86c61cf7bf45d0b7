"""Benchmark this server against `oxigraph serve` and rdflib-endpoint, in one run, on the same data.

    python -m bench.run --triples 1000000 [--duration 15] [--write bench/RESULTS.md]

Each server gets CPU 1 only (taskset), the load generator (wrk) CPU 0, so every server has
the same core. Our server and `oxigraph serve-read-only` open the very same on-disk store
(whose default graph our server keeps as the union of the named graphs, so both query it);
rdflib-endpoint loads the same triples from the same file. Load is bounded (duration and
connections) and goes to 127.0.0.1 only. Workloads:

- lookup: all triples of one project, a different project each request (uncached: each
  request also carries a unique comment, so no cache can answer it);
- canned: one canned-style question (the projects of a country, with funders and amounts)
  asked again and again, as a web page or a script would;
- aggregate: projects and funding totals by country over the whole graph (uncached);
- count: projects by country (uncached), the simplest aggregate.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.generate import generate, projects_for

HERE = Path(__file__).resolve().parent
PREFIXES = ("PREFIX ilop: <https://w3id.org/ilo-partnerships/ontology#> PREFIX schema: <https://schema.org/> "
            "PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")
ID = "https://w3id.org/ilo-partnerships/id/"
WORKLOADS = {
    # name: (query template with %d for the project number and the request number, connections, unique?)
    "lookup": (f"SELECT ?p ?o WHERE {{ <{ID}project/synthetic-%d> ?p ?o }} # request %d", 8, True),
    "canned": (PREFIXES + f"SELECT ?project ?label ?funder ?value WHERE {{ ?project dcterms:spatial <{ID}country/KR> ; "
               "rdfs:label ?label . ?f schema:fundedItem ?project ; schema:funder ?funder ; schema:amount/schema:value ?value } "
               "ORDER BY ?label", 8, False),
    "aggregate": (PREFIXES + "SELECT ?country (COUNT(?project) AS ?projects) (SUM(?value) AS ?total) WHERE { "
                  "?project a ilop:Project ; dcterms:spatial ?country . ?f schema:fundedItem ?project ; "
                  "schema:amount ?amount . ?amount schema:value ?value } GROUP BY ?country ORDER BY DESC(?total) "
                  "# request %d", 2, True),
    "count": (PREFIXES + "SELECT ?country (COUNT(?project) AS ?projects) WHERE { ?project a ilop:Project ; "
              "dcterms:spatial ?country } GROUP BY ?country ORDER BY DESC(?projects) # request %d", 2, True),
}
LUA = """
counter = %d
local function encode(s)
  return (s:gsub("[^%%w%%-%%._~]", function(c) return string.format("%%%%%%02X", string.byte(c)) end))
end
request = function()
  counter = counter + 1
  local q = %s
  return wrk.format("GET", "%s?query=" .. encode(q), {["Accept"] = "application/sparql-results+json"})
end
"""


@dataclass
class Server:
    name: str
    command: list[str]
    endpoint: str
    env: dict[str, str]
    process: subprocess.Popen | None = None
    # The folder it runs in (for `python -m server`, the checkout whose code runs).
    cwd: str | None = None


@dataclass
class Measure:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    method: str = "wrk"


def _lua(workload: str, path: str, projects: int) -> str:
    template, _, unique = WORKLOADS[workload]
    if workload == "lookup":
        # Lua's own modulo: this text reaches the script through %s, so it is not unescaped.
        query = f'string.format("{_lua_escape(template)}", counter % {projects}, counter)'
    elif unique:
        query = f'string.format("{_lua_escape(template)}", counter)'
    else:
        query = f'"{_lua_escape(template)}"'
    # Each run numbers its requests from a point of its own: numbered from 0 every time, a run would repeat the
    # queries of the runs before it, and the answer cache (not the engine) would answer the repeats.
    return LUA % (time.time_ns() // 1000 % 10**12, query, path)


def _lua_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("%%d", "%d")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * _UNITS[unit]


def ours_server(name: str, port: int, store_dir: Path, data_dir: Path, cwd: str | None = None) -> Server:
    """This server on the synthetic data, with the project's own ontology and shapes (its validation workers need
    the shapes to start)."""
    return Server(
        name, [sys.executable, "-m", "server", "serve", "--port", str(port)], f"http://127.0.0.1:{port}/sparql",
        {"ILOKG_STORE_DIR": str(store_dir), "ILOKG_DATA_DIR": str(data_dir), "ILOKG_QUERY_TIMEOUT_SECONDS": "120",
         # wrk's connections all come from 127.0.0.1: one address's share would be all of them.
         "ILOKG_QUERIES_PER_CLIENT": "1000",
         # The explorer's answers computed in the background after the start would run beside what is measured
         # (at 10M triples, for the whole of bench.scale's run); bench.pictures turns it on and measures it.
         "ILOKG_EXPLORER_WARMUP": "false"},
        cwd=cwd,
    )


# Which CPUs the servers and the load generator get: one each by default (bench.paired --cores 2 shares both).
CPUS = {"server": "1", "load": "0"}


def run_wrk(server: Server, workload: str, projects: int, duration: int) -> Measure:
    """Drive one server with one workload through wrk, pinned to the load generator's CPUs."""
    connections = WORKLOADS[workload][1]
    parts = urlsplit(server.endpoint)
    host = f"{parts.scheme}://{parts.netloc}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(workload, parts.path or "/", projects))
    finished = subprocess.run(
        ["taskset", "-c", CPUS["load"], "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "120s",
         "--latency", "-s", script.name, host],
        capture_output=True, text=True, check=True,
    )
    os.unlink(script.name)
    if finished.stderr.strip():
        # wrk reports a script that does not compile on stderr and then sends plain GET / requests:
        # the figures would be the home page's (as the lookup figures of the first run were).
        raise RuntimeError(f"wrk: {finished.stderr.strip()}")
    output = finished.stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    # The distribution's lines only: "92.50%" in the thread statistics must not match "50%".
    p50, p99 = (re.search(rf"^\s+{share}%\s+(\S+)\s*$", output, re.M) for share in (50, 99))
    if requests == 0 or p50 is None or p99 is None:
        # No request finished, or too few for wrk to print a latency distribution: measure()
        # then times requests one by one.
        return Measure(0.0, 0.0, 0.0, 0, 0)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return Measure(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=requests,
        errors=errors,
    )


def run_sequential(server: Server, workload: str, projects: int, count: int = 3) -> Measure:
    """For a server too slow for wrk to see a request finish: time `count` requests one after another."""
    template = WORKLOADS[workload][0]
    latencies, errors = [], 0
    for n in range(count):
        query = template % ((n % projects, n) if workload == "lookup" else (n,) if WORKLOADS[workload][2] else ())
        started = time.perf_counter()
        response = httpx.get(server.endpoint, params={"query": query}, timeout=3600,
                             headers={"Accept": "application/sparql-results+json"})
        latencies.append((time.perf_counter() - started) * 1000)
        errors += response.status_code != 200
    latencies.sort()
    return Measure(1000 * count / sum(latencies), latencies[len(latencies) // 2], latencies[-1], count, errors, "sequential")


def measure(server: Server, workload: str, projects: int, duration: int) -> Measure:
    """wrk's figures, or sequential timings where wrk saw fewer than three requests finish."""
    result = run_wrk(server, workload, projects, duration)
    return result if result.requests >= 3 else run_sequential(server, workload, projects)


def measure_pair(server: Server, peer: Server, workload: str, projects: int, duration: int) -> tuple[float, float]:
    """Requests per second of a server and then of its peer, each warmed up, one right after the other."""
    pair = []
    for measured in (server, peer):
        run_wrk(measured, workload, projects, 2)
        pair.append(measure(measured, workload, projects, duration).requests_per_second)
    return pair[0], pair[1]


def _start(server: Server, wait_seconds: float) -> None:
    server.process = subprocess.Popen(["taskset", "-c", CPUS["server"], *server.command], env={**os.environ, **server.env},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=server.cwd)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
        try:
            if httpx.get(server.endpoint, params={"query": "ASK {}"}, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{server.name} did not answer within {wait_seconds} s")


def _stop(server: Server) -> None:
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()


def host() -> str:
    """The machine a benchmark ran on: CPUs, memory, kernel and Python."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} × {cpu}, {int(memory) // 1024 // 1024} GiB, Linux {platform.release()}, "
            f"Python {platform.python_version()}")


def _machine() -> str:
    return (f"{host()}; pyoxigraph {version('pyoxigraph')}, oxigraph {version('oxigraph')}, "
            f"rdflib {version('rdflib')}, rdflib-endpoint {version('rdflib-endpoint')}, wrk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per server and workload")
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS),
                        help="only these workloads (default: all)")
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        sys.exit("wrk and taskset are needed (Debian packages wrk and util-linux)")

    work = HERE / "work" / str(args.triples)
    data_dir, store_dir = work / "data", work / "store"
    data_file = data_dir / "synthetic.ttl"
    if not data_file.exists():
        print(f"generating {args.triples} triples …", flush=True)
        generate(args.triples, data_file)
    ntriples = work / "synthetic.nt"  # the same file, named so rdflib uses its N-Triples parser
    if not ntriples.exists():
        os.link(data_file, ntriples)
    projects = projects_for(args.triples)
    bin_dir = Path(sys.executable).parent

    ours = ours_server("this server", 18001, store_dir, data_dir)
    oxigraph = Server("oxigraph serve", [str(bin_dir / "oxigraph"), "serve-read-only", "--location", str(store_dir),
                                         "--bind", "127.0.0.1:18002"],
                      "http://127.0.0.1:18002/query", {})
    rdflib_endpoint = Server("rdflib-endpoint", [str(bin_dir / "rdflib-endpoint"), "serve", str(ntriples),
                                                 "--host", "127.0.0.1", "--port", "18003"],
                             "http://127.0.0.1:18003/", {})
    servers = [ours, oxigraph, rdflib_endpoint]
    results: dict[tuple[str, str], Measure] = {}
    try:
        print("starting this server (loads the store) …", flush=True)
        _start(ours, 1800)
        _start(oxigraph, 120)
        print("starting rdflib-endpoint (loads the triples into memory) …", flush=True)
        _start(rdflib_endpoint, 3600)
        for workload in args.workloads:
            for server in servers:
                run_wrk(server, workload, projects, 2)  # warm-up
                results[(server.name, workload)] = m = measure(server, workload, projects, args.duration)
                print(f"{workload:10} {server.name:16} {m.requests_per_second:10.2f} req/s  p50 {m.p50_ms:9.2f} ms  "
                      f"p99 {m.p99_ms:9.2f} ms  errors {m.errors}  ({m.method})", flush=True)
    finally:
        for server in servers:
            _stop(server)

    report = _report(args, results)
    print(report)
    if args.write:
        with args.write.open("a", encoding="utf-8") as file:
            file.write(report)


def _report(args: argparse.Namespace, results: dict[tuple[str, str], Measure]) -> str:
    def ratio(workload: str, other: str) -> float:
        return results[("this server", workload)].requests_per_second / results[(other, workload)].requests_per_second

    goals = [
        (name, ratio(workload, other), target)
        for name, workload, other, target in (
            ("uncached lookups vs oxigraph serve", "lookup", "oxigraph serve", 0.8),
            ("repeated canned query vs oxigraph serve", "canned", "oxigraph serve", 2.0),
            ("aggregates (totals by country) vs rdflib-endpoint", "aggregate", "rdflib-endpoint", 20.0),
            ("aggregates (counts by country) vs rdflib-endpoint", "count", "rdflib-endpoint", 20.0),
        )
        if workload in args.workloads
    ]
    lines = [
        f"\n## {args.triples:,} triples, {datetime.date.today().isoformat()}\n",
        f"Machine: {_machine()}. Each server pinned to CPU 1, wrk to CPU 0; {args.duration} s per measure "
        f"after a 2 s warm-up; lookups and canned queries over 8 connections, aggregates over 2. A server "
        "that finished fewer than 3 requests in that time was timed instead on 3 requests one after another "
        "(measured by: sequential).\n",
        "| workload | server | requests/s | p50 ms | p99 ms | requests | errors | measured by |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for (server, workload), m in results.items():
        lines.append(f"| {workload} | {server} | {m.requests_per_second:.2f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} | "
                     f"{m.requests} | {m.errors} | {m.method} |")
    lines += ["", "| goal | ratio | target | met |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {value:.2f}× | {target}× | {'yes' if value >= target else 'no'} |" for name, value, target in goals]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
