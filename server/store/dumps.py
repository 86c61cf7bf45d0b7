"""Dumps of the whole dataset: N-Quads and TriG (gzip), and each named graph as Turtle.

The dataset is its named graphs (one per source file or submission); the store's default
graph is their union, so it is not dumped again. Loading the N-Quads or TriG dump into an
empty store gives the same named graphs. The files are written by `ilo-kg export` and by
the server (GET /dumps/…), with the same function; gzip headers carry no time stamp, so the
same store gives the same bytes.
"""

import gzip
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from server.files import sync_folder
from server.namespaces import DISPLAY_PREFIXES, GRAPH

_PREFIXES = {p: ns for p, ns in DISPLAY_PREFIXES.items() if p in (
    "ilop", "rdf", "rdfs", "owl", "xsd", "skos", "sh", "dcterms", "dcat", "org", "prov", "schema", "id", "cl")}

NQUADS = "ilo-partnerships.nq.gz"
TRIG = "ilo-partnerships.trig.gz"
GRAPHS_FOLDER = "graphs"


@dataclass(frozen=True)
class DumpFile:
    """One file of a dump: its name (relative path), media type and what it holds."""

    name: str
    media_type: str
    encoding: str | None
    title: str


def graph_file(graph: str) -> str | None:
    """The dump file of one named graph (graphs/data/….ttl), or None if it is not one of ours."""
    if not graph.startswith(str(GRAPH)):
        return None
    return f"{GRAPHS_FOLDER}/{graph[len(str(GRAPH)):]}.ttl"


def dump_files(graphs: list[str]) -> list[DumpFile]:
    """The files a dump of these named graphs consists of."""
    files = [
        DumpFile(NQUADS, "application/n-quads", "gzip", "The whole dataset, N-Quads, gzip"),
        DumpFile(TRIG, "application/trig", "gzip", "The whole dataset, TriG, gzip"),
    ]
    for graph in sorted(graphs):
        name = graph_file(graph)
        if name is not None:
            files.append(DumpFile(name, "text/turtle", None, f"The graph <{graph}>, Turtle"))
    return files


class DumpTargetError(Exception):
    """The folder named for the dumps holds something else, which replacing it whole would delete."""


def refuse_unless_dump_folder(target: Path) -> None:
    """Refuse a target that is a file or a link, or a folder holding anything but an earlier export's files: the
    folder is replaced whole, so `ilo-kg export ~/Documents` (or `.`) would have deleted what it held."""
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise DumpTargetError(f"{target} is {'a link' if target.is_symlink() else 'a file'}, not a folder of dumps; "
                              "name a new folder (it is made) or one an export wrote. Nothing was changed")
    for path in sorted(target.rglob("*")):
        relative = path.relative_to(target)
        ours = (relative.parts[0] in (NQUADS, TRIG) and len(relative.parts) == 1 and path.is_file()) or (
            relative.parts[0] == GRAPHS_FOLDER and not path.is_symlink()
            and (path.is_dir() or (path.is_file() and path.suffix == ".ttl")))
        if not ours:
            raise DumpTargetError(
                f"{target} holds {relative}, which no export wrote: the folder is replaced whole, so name a new folder "
                "(it is made) or one an export wrote. Nothing was changed")


def write_dumps(store: ox.Store, target: Path, graphs: list[str]) -> list[DumpFile]:
    """Write the dump files of the store's named graphs into target (replaced whole, atomically); DumpTargetError if
    target holds anything else."""
    refuse_unless_dump_folder(target)
    files = dump_files(graphs)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)  # (mkdtemp makes it private; dumps are for sharing)
    try:
        # Streamed graph by graph, in the store's index order: the same store gives the
        # same bytes (blank-node labels are the store's own, so another store's dump of the same
        # data is the same dataset up to those labels).
        for name, rdf_format in ((NQUADS, ox.RdfFormat.N_QUADS), (TRIG, ox.RdfFormat.TRIG)):
            with gzip.GzipFile(staging / name, "wb", mtime=0) as out:
                quads = (q for g in sorted(graphs) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
                ox.serialize(quads, out, format=rdf_format)
        for graph in sorted(graphs):
            name = graph_file(graph)
            if name is None:
                continue
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            triples = (ox.Triple(q.subject, q.predicate, q.object)
                       for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
            ox.serialize(triples, str(path), format=ox.RdfFormat.TURTLE, prefixes=_PREFIXES)
        sync_folder(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        sync_folder(target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files
