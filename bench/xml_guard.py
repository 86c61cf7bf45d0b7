"""What checking XML answers costs: the engine writing an answer as XML, with and without the guard, paired.

    python -m bench.xml_guard [--triples 300000] [--rounds 7] [--write bench/RESULTS.md]

Every XML answer passes through server.formats.xml_characters.XmlOutputGuard on its way into the
spool (it refuses characters XML cannot carry and escapes carriage returns). This measures the
upper bound of its cost: pyoxigraph writing one answer (SPARQL XML for a SELECT of every triple,
RDF/XML for a CONSTRUCT of them) into a sink that keeps nothing, plain and guarded, back to back
in each round (the order alternating), on one in-memory store of synthetic triples; the medians
of the rounds and their ratio are reported. A request through the server does more (the query,
HTTP, the spool), so its share there is smaller.
"""

import argparse
import statistics
import time
from pathlib import Path

import pyoxigraph as ox

from bench.report import publish
from bench.run import host
from server.formats.registry import RDFXML, SPARQL_XML, Format
from server.formats.xml_characters import XmlOutputGuard

EX = "https://example.org/"


class _Sink:
    """Where the engine writes: counts the bytes, through the guard if one is given."""

    def __init__(self, guard: XmlOutputGuard | None):
        self.guard, self.size = guard, 0

    def write(self, data: bytes) -> int:
        taken = len(data)
        self.size += len(self.guard(data) if self.guard is not None else data)
        return taken

    def flush(self) -> None:
        pass


def _write(store: ox.Store, chosen: Format, guarded: bool) -> tuple[float, int]:
    sink = _Sink(XmlOutputGuard(chosen) if guarded else None)
    started = time.perf_counter()
    if chosen is SPARQL_XML:
        store.query("SELECT ?s ?o WHERE { ?s ?p ?o }").serialize(sink, format=ox.QueryResultsFormat.XML)
    else:
        ox.serialize(store.query("CONSTRUCT WHERE { ?s ?p ?o }"), sink, format=ox.RdfFormat.RDF_XML)
    return time.perf_counter() - started, sink.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    args = parser.parse_args()
    store = ox.Store()
    # Labels as the graph holds them: text, some of it with line breaks (a carriage return to escape in one of ten).
    store.bulk_extend(
        ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(f"{EX}label"),
                ox.Literal(f"Label number {i}, with some text" + ("\r\nand a second line" if i % 10 == 0 else "")),
                ox.DefaultGraph())
        for i in range(args.triples)
    )
    lines = [f"### The XML guard's cost ({args.triples:,} triples, {args.rounds} paired rounds, medians; {host()})", "",
             "| answer | bytes | engine alone, s | engine + guard, s | ratio |", "|---|---:|---:|---:|---:|"]
    for chosen in (SPARQL_XML, RDFXML):
        plain: list[float] = []
        guarded: list[float] = []
        size = 0
        for round_ in range(args.rounds):
            for with_guard in ((False, True) if round_ % 2 == 0 else (True, False)):
                seconds, size = _write(store, chosen, with_guard)
                (guarded if with_guard else plain).append(seconds)
        alone, checked = statistics.median(plain), statistics.median(guarded)
        lines.append(f"| {chosen.label} | {size:,} | {alone:.3f} | {checked:.3f} | {checked / alone:.2f} |")
    publish(lines, args.write, append=True)


if __name__ == "__main__":
    main()
