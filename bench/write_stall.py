"""Do writes stall reads? Uncached query latency while a large submission is stored and withdrawn.

One client sends queries that no cache can answer (each asks for a literal of its own), one after
another, for the whole run; meanwhile a token holder submits a file of tens of thousands of
triples (copies of examples/first-submission.ttl, each project with IRIs of its own),
then withdraws it. Reads are grouped by when they were sent: before the write, while the POST
(validation and write) or the DELETE was under way, and after.

    python -m bench.write_stall --copies 800 --write bench/WRITES.md
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

FIXTURE = Path(__file__).resolve().parent.parent / "examples" / "first-submission.ttl"


def submission(copies: int) -> bytes:
    """A file of `copies` projects, each the fixture with IRIs and labels of its own."""
    text = FIXTURE.read_text(encoding="utf-8")
    return "\n".join(
        text.replace("green-jobs", f"green-jobs-{n}").replace("in the Mekong", f"in the Mekong ({n})") for n in range(copies)
    ).encode()


def _reader(url: str, stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    with httpx.Client(timeout=120) as client:
        n = 0
        while not stop.is_set():
            n += 1
            sent = time.monotonic()
            answer = client.get(url + "/sparql", params={"query": f'ASK {{ ?s ?p "never-{n}-{sent}" }}'})
            assert answer.status_code == 200, answer.text
            samples.append((sent, time.monotonic() - sent))


def _summary(name: str, latencies: list[float]) -> str:
    if not latencies:
        return f"| {name} | 0 | | | |"
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"| {name} | {len(ordered)} | {statistics.median(ordered) * 1000:.1f} | {p99 * 1000:.1f} | {ordered[-1] * 1000:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=800)
    parser.add_argument("--port", type=int, default=8796)
    parser.add_argument("--label", default="this version")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    data = submission(args.copies)
    env = {"ILOKG_MAX_SUBMISSION_BYTES": str(len(data) + 1024), "ILOKG_MAX_SUBMISSION_TRIPLES": "1000000",
           "ILOKG_VALIDATION_TIMEOUT_SECONDS": "600", "ILOKG_PARSE_TIMEOUT_SECONDS": "600", "ILOKG_QUERIES_PER_CLIENT": "64"}
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    with hostile_server(args.port, env) as (_, context):
        url = context.url
        reader = threading.Thread(target=_reader, args=(url, stop, samples))
        reader.start()
        try:
            time.sleep(3)
            headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {context.token}"}
            post_start = time.monotonic()
            created = httpx.post(url + "/submissions", content=data, headers=headers, timeout=900)
            post_end = time.monotonic()
            assert created.status_code == 201, created.text[:500]
            triples = created.json()["triples"]
            time.sleep(2)
            delete_start = time.monotonic()
            withdrawn = httpx.delete(url + created.json()["links"]["self"], headers=headers, timeout=900)
            delete_end = time.monotonic()
            assert withdrawn.status_code == 204, withdrawn.text
            time.sleep(3)
        finally:
            stop.set()
            reader.join()
    before = [t for s, t in samples if s < post_start]
    posting = [t for s, t in samples if post_start <= s < post_end]
    deleting = [t for s, t in samples if delete_start <= s < delete_end]
    after = [t for s, t in samples if s >= delete_end]
    lines = [
        f"## Reads during a write of {triples:,} triples: {args.label}",
        "",
        f"`python -m bench.write_stall --copies {args.copies}` on {os.cpu_count()} cores: one client sends uncached "
        f"queries one after another while a token holder submits a file of {len(data) / 1e6:.1f} MB "
        f"({triples:,} triples; the POST took {post_end - post_start:.1f} s, validation included) and withdraws it "
        f"(the DELETE took {delete_end - delete_start:.2f} s).",
        "",
        "| reads sent | reads | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        _summary("before", before), _summary("during the submission", posting),
        _summary("during the withdrawal", deleting), _summary("after", after),
    ]
    publish(lines, args.write)


if __name__ == "__main__":
    main()
