"""Crash test: SIGKILL the server at random points during a stream of submissions, restart it, check.

A client sends N distinct valid submissions one after another; a killer sends SIGKILL to the
server at random moments (whatever it is doing: validating, writing, answering), until at
least K kills have happened. After each restart and at the end it checks: the store opens and
the server answers; every submission answered 201 is there and whole (its record, and its
named graph holding exactly the triples the record counts); a submission in flight at a kill
is either absent or whole, never partial; no graph of a submission lacks its record.

    python -m bench.crash --submissions 100 --kills 20 --write bench/CRASH.md
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.report import publish
from server.submissions.tokens import Role, TokenRegistry

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "examples" / "first-submission.ttl"
GRAPHS = "https://w3id.org/ilo-partnerships/graph/submissions/"
RECORDS = "https://w3id.org/ilo-partnerships/id/submi"  # submission records and submitters


def variant(number: int) -> bytes:
    """The fixture's project as a distinct submission (its own IRIs and label)."""
    text = FIXTURE.read_text()
    return text.replace("green-jobs", f"green-jobs-{number}").replace("in the Mekong", f"in the Mekong ({number})").encode()


@dataclass
class Run:
    """What happened: which submissions were stored (answered 201, or found whole after a kill), what broke."""

    accepted: dict[int, str] = field(default_factory=dict)  # number -> submission id
    kills: int = 0
    cut_requests: int = 0  # kills that broke a request in progress (no answer came)
    stored_in_flight: int = 0  # of those, requests found stored whole after the restart
    problems: list[str] = field(default_factory=list)
    restarts_seconds: list[float] = field(default_factory=list)


class Server:
    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        env = {**os.environ, "ILOKG_STORE_DIR": str(self.folder / "store"), "ILOKG_TOKENS_FILE": str(self.folder / "tokens.json"),
               "ILOKG_SUBMISSION_RATE": "100000/minute", "ILOKG_LOG_FORMAT": "text"}
        started = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(self.port)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while time.monotonic() - started < 120:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode} at start")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the server did not answer within 120 s of starting")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


def check(server: Server, run: Run) -> None:
    """The invariants, asked of the restarted server."""
    records = {r["id"]: r for r in httpx.get(server.url + "/submissions", timeout=30).json()["submissions"]}
    # The submitted triples of each submission's graph (the record's own triples left out).
    query = (f'SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{GRAPHS}") '
             f'&& !STRSTARTS(STR(?s), "{RECORDS}")) }} GROUP BY ?g')
    rows = httpx.get(server.url + "/sparql", params={"query": query}, timeout=30,
                     headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    counts = {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
    for number, submission in run.accepted.items():
        if submission not in records:
            run.problems.append(f"submission {number} ({submission}) was answered 201 and is missing")
    for submission, record in records.items():
        if counts.get(record["graph"], 0) != record["triples"]:
            run.problems.append(
                f"submission {submission} is partial: {counts.get(record['graph'], 0)} of {record['triples']} triples")
    for graph in set(counts) - {r["graph"] for r in records.values()}:
        run.problems.append(f"graph {graph} has no record")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    random.seed(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="ilokg-crash-"))
    token = TokenRegistry(folder / "tokens.json").issue("crash", Role.SUBMITTER)
    server, run = Server(folder, args.port), Run()
    server.start()
    # Somewhat more often than strictly needed, so that K kills happen whatever the draws.
    every = max(1, args.submissions // (args.kills + 5))
    next_kill = random.randint(0, every - 1)
    number = 0
    while number < args.submissions:
        fire = None
        if run.kills < args.kills and number >= next_kill:
            # A random moment around this request: before it arrives, while it is validated or
            # written, or after its answer.
            fire = threading.Timer(random.uniform(0.0, 0.15), server.kill)
            fire.start()
        response = None
        try:
            response = httpx.post(server.url + "/submissions", content=variant(number), timeout=60, headers={
                "Content-Type": "text/turtle", "Authorization": f"Bearer {token}"})
        except httpx.TransportError:
            pass
        if fire is not None:
            fire.join()
        if response is not None and response.status_code == 201:
            run.accepted[number] = response.json()["id"]
        elif response is not None:
            run.problems.append(f"submission {number} refused: {response.status_code} {response.text[:200]}")
        if fire is not None:
            run.kills += 1
            run.cut_requests += response is None
            run.restarts_seconds.append(server.start())
            check(server, run)
            if number not in run.accepted:
                # In flight at the kill: stored whole (then it is the one new record) or absent (sent again).
                records = {r["id"] for r in httpx.get(server.url + "/submissions", timeout=30).json()["submissions"]}
                new = records - set(run.accepted.values())
                if len(new) > 1:
                    run.problems.append(f"{len(new)} unexpected records after the kill at submission {number}")
                if new:
                    run.accepted[number] = new.pop()
                    run.stored_in_flight += 1
            next_kill = number + random.randint(1, 2 * every - 1)
        if number in run.accepted or (response is not None and response.status_code != 201):
            number += 1
    check(server, run)
    server.stop()
    lines = [
        "# Crash test: SIGKILL during a stream of submissions",
        "",
        f"`python -m bench.crash --submissions {args.submissions} --kills {args.kills} --seed {args.seed}` on "
        f"{os.cpu_count()} cores.",
        "",
        "| submissions stored | kills (SIGKILL) | of which cut a request | cut requests found stored whole | "
        "problems found | restart, median s |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {len(run.accepted)} | {run.kills} | {run.cut_requests} | {run.stored_in_flight} | {len(run.problems)} | "
        f"{sorted(run.restarts_seconds)[len(run.restarts_seconds) // 2] if run.restarts_seconds else 0:.1f} |",
        "",
        *(f"- {p}" for p in run.problems),
    ]
    publish(lines, args.write)
    sys.exit(1 if run.problems or run.kills < args.kills else 0)


if __name__ == "__main__":
    main()
