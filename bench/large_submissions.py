"""Large submissions on each kind of store: how long a file of many triples takes to validate, to submit, to be
replaced by a small one, and to withdraw, through a real server on the embedded store, `oxigraph serve` and
Virtuoso (each engine started here, as the tests start them).

The file is one partnership programme with `notes` blank-node notes (three triples each) and a list of 200 steps
(a chain of blank nodes): what an external store must write in parts, each blank node's triples in one part.
Rounds are paired: in each, every backend does the same four steps on the same file, the order of the backends
turned by one each round; the figures are medians over rounds, with the ratio to the embedded store's.

    python -m bench.large_submissions --triples 10000 100000 --rounds 3 --write bench/SUBMISSIONS.md
"""

import argparse
import contextlib
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.report import publish
from bench.run import host
from tests.support.engines import backend
from tests.support.servers import SubmissionServer
from tests.support.submissions import large_programme, programmes

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "large-submissions"
BACKENDS = ("embedded", "oxigraph", "virtuoso")
STEPS = ("validate", "submit", "replace by a small file", "withdraw")
TURTLE = {"Content-Type": "text/turtle"}


@contextlib.contextmanager
def _servers() -> Iterator[dict[str, SubmissionServer]]:
    with contextlib.ExitStack() as stack:
        servers = {}
        for name in BACKENDS:
            folder = WORK / name
            shutil.rmtree(folder, ignore_errors=True)
            env = stack.enter_context(backend(name, folder / "engine"))
            server = SubmissionServer(folder, {"ILOKG_SUBMISSION_RATE": "1000/minute",
                                               "ILOKG_VALIDATION_RATE": "1000/minute", **env}).start()
            server.backend = name
            stack.callback(server.stop)
            servers[name] = server
        yield servers


def _round(server: SubmissionServer, data: bytes, small: bytes) -> dict[str, float]:
    """The four steps on one server, each timed; raises if one does not answer as it should."""
    alice = {**TURTLE, **server.auth("alice")}
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    checked = httpx.post(server.url + "/validate", content=data, headers={**TURTLE, "Accept": "application/json"},
                         timeout=600)
    seconds["validate"] = time.perf_counter() - started
    if checked.status_code != 200 or not checked.json()["conforms"]:
        raise SystemExit(f"{server.backend}: /validate answered {checked.status_code}: {checked.text[:300]}")
    started = time.perf_counter()
    created = httpx.post(server.url + "/submissions", content=data, headers=alice, timeout=600)
    seconds["submit"] = time.perf_counter() - started
    if created.status_code != 201:
        raise SystemExit(f"{server.backend}: POST /submissions answered {created.status_code}: {created.text[:300]}")
    link = server.url + created.json()["links"]["self"]
    started = time.perf_counter()
    replaced = httpx.put(link, content=small, headers=alice, timeout=600)
    seconds["replace by a small file"] = time.perf_counter() - started
    if replaced.status_code != 200:
        raise SystemExit(f"{server.backend}: PUT answered {replaced.status_code}: {replaced.text[:300]}")
    started = time.perf_counter()
    withdrawn = httpx.delete(link, headers=server.auth("alice"), timeout=600)
    seconds["withdraw"] = time.perf_counter() - started
    if withdrawn.status_code != 204:
        raise SystemExit(f"{server.backend}: DELETE answered {withdrawn.status_code}: {withdrawn.text[:300]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, nargs="+", default=[10_000, 100_000],
                        help="about how many triples each file holds (at most the server's 100,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", type=Path, help="also write the report here (Markdown)")
    args = parser.parse_args()
    small = programmes(["P2Y"])
    lines = ["# Large submissions on each kind of store", "",
             f"`python -m bench.large_submissions --triples {' '.join(map(str, args.triples))} --rounds {args.rounds}`, "
             f"{time.strftime('%Y-%m-%d')}; {host()}; Virtuoso from Debian's `virtuoso-opensource`. "
             f"Seconds, medians of {args.rounds} paired rounds (every backend does the "
             "same steps on the same file in each round, their order turned each round); in brackets, the ratio to "
             "the embedded store's.", ""]
    with _servers() as servers:
        for triples in args.triples:
            data = large_programme(max(0, (triples - 410) // 3))
            measured: dict[str, list[dict[str, float]]] = {name: [] for name in BACKENDS}
            for number in range(args.rounds):
                order = BACKENDS[number % len(BACKENDS):] + BACKENDS[:number % len(BACKENDS)]
                for name in order:
                    measured[name].append(_round(servers[name], data, small))
            lines += [f"## A file of {triples:,} triples ({len(data) / 1e6:.1f} MB of Turtle)", "",
                      "| step | " + " | ".join(BACKENDS) + " |", "|---|" + "---:|" * len(BACKENDS)]
            for step in STEPS:
                medians = {name: statistics.median(r[step] for r in measured[name]) for name in BACKENDS}
                cells = [f"{medians[name]:.2f}" + ("" if name == "embedded" else f" ({medians[name] / medians['embedded']:.2f}×)")
                         for name in BACKENDS]
                lines.append(f"| {step} | " + " | ".join(cells) + " |")
            lines.append("")
    publish(lines, args.write)


if __name__ == "__main__":
    main()
