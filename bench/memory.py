"""Does the server's memory come back after a long hostile run? RSS before, during and after.

The hostile corpus (tests/security/corpus.py), every case over and over, from two clients at
once for a bounded time, beside good queries; the resident memory of the server process and of
each worker is read from /proc before the run, at its end, and after a minute of rest (the
caches keep what they are allowed to keep: ILOKG_CACHE_TOTAL_BYTES each).

    python -m bench.memory --minutes 10 --write bench/MEMORY.md
"""

import argparse
import os
import threading
import time
from pathlib import Path

import httpx

from bench.hostile import hostile_server, send
from bench.report import publish, resident_kib
from tests.security.corpus import CASES, Context

GOOD = ["/queries/projects", "/id/country/KR", "/sparql?query=SELECT%20*%20WHERE%20%7B%20?s%20?p%20?o%20%7D%20LIMIT%2010"]


def _hammer(context: Context, until: float, counts: dict[str, int], lock: threading.Lock) -> None:
    while time.monotonic() < until:
        for case in CASES:
            if time.monotonic() >= until:
                return
            send(context, case)
            for path in GOOD:
                httpx.get(context.url + path, timeout=60)
            with lock:
                counts["requests"] += 1 + len(GOOD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rest", type=float, default=60, help="seconds of rest before the last reading")
    parser.add_argument("--port", type=int, default=8795)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    # Two clients on one address: their shares are lifted so that the run is of the corpus, not of 429s.
    with hostile_server(args.port, {"ILOKG_QUERIES_PER_CLIENT": "64", "ILOKG_VALIDATIONS_PER_CLIENT": "16"}) as (
        process, context,
    ):
        for path in GOOD:  # warm: the caches hold their first answers
            httpx.get(context.url + path, timeout=60)
        before = resident_kib(process.pid)
        counts, lock = {"requests": 0}, threading.Lock()
        until = time.monotonic() + args.minutes * 60
        clients = [threading.Thread(target=_hammer, args=(context, until, counts, lock)) for _ in range(2)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        during = resident_kib(process.pid)
        time.sleep(args.rest)
        after = resident_kib(process.pid)
    server = process.pid

    def mib(sizes: dict[int, int], only_server: bool) -> float:
        return sum(v for k, v in sizes.items() if (k == server) == only_server) / 1024

    lines = [
        "# Memory after a long hostile run",
        "",
        f"`python -m bench.memory --minutes {args.minutes:g}` on {os.cpu_count()} cores: the {len(CASES)} cases of the "
        f"hostile corpus over and over from two clients, each case followed by {len(GOOD)} good requests, "
        f"{counts['requests']} requests in all; resident memory (RSS) read from /proc.",
        "",
        "| | server MiB | workers MiB (all) | workers |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {mib(sizes, True):.0f} | {mib(sizes, False):.0f} | {len(sizes) - 1} |"
          for name, sizes in (("before", before), ("at the end of the run", during), (f"after {args.rest:g} s of rest", after))),
        "",
        f"Server growth after rest: {mib(after, True) - mib(before, True):+.0f} MiB "
        f"({(mib(after, True) / mib(before, True) - 1) * 100:+.0f} %).",
    ]
    publish(lines, args.write)


if __name__ == "__main__":
    main()
