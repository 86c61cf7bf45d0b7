"""The embedded on-disk store: one named graph per file, reloads only what changed, survives restarts."""

import asyncio
import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from server.settings import Settings
from server.store.dumps import dump_files
from server.store.embedded import (
    DataChangedError,
    EmbeddedStore,
    GraphChange,
    GraphInfo,
    graph_iri,
    project_sources,
    published,
    sync_files,
)
from server.store.query_worker import DumpJob, QueryJob
from tests.support.engines import BACKENDS, backend
from tests.support.servers import RunningServer, copy_project, free_port, run_cli
from tests.support.stores import run_with_store

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture
def project_copy(tmp_path: Path, settings: Settings) -> Settings:
    """Settings pointing at a private copy of ontology/, shapes/ and data/."""
    copy_project(settings, tmp_path)
    return settings.model_copy(update={
        "ontology_dir": tmp_path / "ontology", "shapes_dir": tmp_path / "shapes", "data_dir": tmp_path / "data",
        "store_dir": tmp_path / "var" / "store",
    })


def _graph_counts(store_dir: Path) -> dict[str, int]:
    store = ox.Store.read_only(str(store_dir))
    counts = {row["g"].value: int(row["n"].value)
              for row in store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    del store
    return counts


def _default_and_union(store_dir: Path) -> tuple[set, set]:
    """The triples of the default graph, and those of all named graphs together."""
    store = ox.Store.read_only(str(store_dir))
    triples = [(q.subject, q.predicate, q.object, q.graph_name) for q in store.quads_for_pattern(None, None, None)]
    del store
    default = {t[:3] for t in triples if t[3] == ox.DefaultGraph()}
    union = {t[:3] for t in triples if t[3] != ox.DefaultGraph()}
    return default, union


def test_each_file_is_its_own_named_graph(project_copy: Settings) -> None:
    sources = project_sources(project_copy)
    assert len(sources) == 14
    info = sync_files(project_copy.store_dir, sources)
    counts = _graph_counts(project_copy.store_dir)
    assert set(counts) == set(sources)
    for iri, path in sources.items():
        assert counts[iri] == len(list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)))
    default, union = _default_and_union(project_copy.store_dir)
    assert default == union
    # Statements made by two sources are one triple in the union.
    assert info.triples == len(union) < sum(counts.values())
    assert graph_iri(project_copy.data_dir, project_copy.data_dir / "sources.ttl") == (
        "https://w3id.org/ilo-partnerships/graph/data/sources")


def test_only_changed_files_are_reloaded(project_copy: Settings) -> None:
    first = sync_files(project_copy.store_dir, project_sources(project_copy))
    changed = project_copy.data_dir / "sources.ttl"
    changed.write_text(changed.read_text() + "\n<https://example.org/a> <https://example.org/b> \"c\" .\n")
    (project_copy.data_dir / "un-m49-regions.ttl").unlink()
    second = sync_files(project_copy.store_dir, project_sources(project_copy))
    before = {g.iri: g for g in first.graphs}
    after = {g.iri: g for g in second.graphs}
    changed_iri = graph_iri(project_copy.data_dir, changed)
    removed_iri = graph_iri(project_copy.data_dir, project_copy.data_dir / "un-m49-regions.ttl")
    assert removed_iri not in after and removed_iri not in _graph_counts(project_copy.store_dir)
    assert after[changed_iri].triples == before[changed_iri].triples + 1
    # The default graph follows: it is again exactly the union of the named graphs.
    default, union = _default_and_union(project_copy.store_dir)
    assert default == union
    assert (ox.NamedNode("https://example.org/a"), ox.NamedNode("https://example.org/b"), ox.Literal("c")) in default
    assert second.triples == len(default)
    assert after[changed_iri].sha256 != before[changed_iri].sha256
    unchanged = set(after) - {changed_iri}
    assert unchanged and all(after[i] == before[i] for i in unchanged)
    assert second.version != first.version
    manifest = json.loads(project_copy.store_dir.with_name("store-manifest.json").read_text())
    assert manifest["version"] == second.version


def test_a_files_blank_nodes_are_its_own_and_the_same_in_its_graph_and_in_the_union(project_copy: Settings) -> None:
    # Two files that both say `_:x`, each with anonymous nodes, nested ones and one in a triple term.
    for name in ("first", "second"):
        (project_copy.data_dir / f"{name}.ttl").write_text(
            "@prefix ex: <https://example.org/> .\n"
            f'ex:{name} ex:says _:x ; ex:claims <<( ex:{name} ex:knows [] )>> .\n'
            f'_:x ex:in "{name}" ; ex:has [ ex:deep [ ex:level 2 ] ] .\n'
        )
    sync_files(project_copy.store_dir, project_sources(project_copy))
    default, union = _default_and_union(project_copy.store_dir)
    assert default == union
    store = ox.Store.read_only(str(project_copy.store_dir))
    said = {(row["g"].value, row["x"]) for row in store.query(
        "SELECT ?g ?x WHERE { GRAPH ?g { ?s <https://example.org/says> ?x } }")}
    assert {g.rsplit("/", 1)[1] for g, _ in said} == {"first", "second"}
    # `_:x` of one file is not `_:x` of the other: one name each, in the union as in the graphs.
    assert len({x for _, x in said}) == 2
    names = [(row["x"], row["name"].value) for row in store.query(
        'SELECT ?x ?name WHERE { ?x <https://example.org/in> ?name }')]
    assert sorted(name for _, name in names) == ["first", "second"] and len({x for x, _ in names}) == 2
    # Each file's four blank nodes (`_:x`, two anonymous ones, one inside the triple term), none shared.
    per_file: dict[str, set[ox.BlankNode]] = {}
    for row in store.query("SELECT DISTINCT ?g ?b WHERE { GRAPH ?g { { ?b ?p ?o } UNION { ?s ?p ?b } "
                           "UNION { ?s ?p <<( ?t ?q ?b )>> } FILTER(isBlank(?b)) } }"):
        per_file.setdefault(row["g"].value.rsplit("/", 1)[1], set()).add(row["b"])
    assert (len(per_file["first"]), len(per_file["second"])) == (4, 4)
    assert not per_file["first"] & per_file["second"]
    del store


def _count(url: str) -> int:
    return int(httpx.get(url + "/sparql", params={"query": COUNT}).json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["terminated", "killed"])
def test_data_survives_a_restart(tmp_path: Path, stop_signal: signal.Signals) -> None:
    store_dir = tmp_path / "store"
    server = RunningServer(store_dir).start()
    triples = _count(server.url)
    modified = httpx.get(server.url + "/sparql", params={"query": COUNT}).headers["last-modified"]
    server.process.send_signal(stop_signal)
    server.process.wait(timeout=30)
    restarted = RunningServer(store_dir).start()
    try:
        assert _count(restarted.url) == triples
        # Nothing changed on disk, so nothing was reloaded: the data keeps its date.
        assert httpx.get(restarted.url + "/sparql", params={"query": COUNT}).headers["last-modified"] == modified
    finally:
        restarted.stop()


def test_a_dump_of_a_version_the_store_no_longer_holds_is_refused(project_copy: Settings, tmp_path: Path) -> None:
    # DumpService names a dump's folder after the version it read; a write landing before the
    # worker starts would put newer data under the older name. The store refuses such a job.
    store = EmbeddedStore.open(project_copy)
    before = store.info.version
    graphs = tuple(g.iri for g in store.info.graphs)

    async def scenario() -> None:
        extra = "https://w3id.org/ilo-partnerships/graph/test/extra"
        info = GraphInfo(extra, "a submission", "0" * 64, 1, "2026-11-22T12:00:00+00:00")
        await store.write(GraphChange(extra, "<urn:a> <urn:b> <urn:c> .", info))
        with pytest.raises(DataChangedError):
            await store.dump(DumpJob(str(tmp_path / "stale"), graphs, before), 60)
        await store.dump(DumpJob(str(tmp_path / "current"), graphs, store.info.version), 60)

    run_with_store(store, scenario)
    assert store.info.version != before
    assert not (tmp_path / "stale").exists()
    written = sorted(str(p.relative_to(tmp_path / "current")) for p in (tmp_path / "current").rglob("*") if p.is_file())
    assert written == sorted(f.name for f in dump_files(list(graphs)))


# ---- generations: a write makes a new one; readers keep the one they started on

LONG = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # hours of CPU in little memory


def _change(n: int) -> GraphChange:
    triples = "\n".join(f"<https://example.org/s{i}> <https://example.org/p> {i} ." for i in range(n))
    return GraphChange("https://example.org/graph/big", triples, None)


def test_a_write_lands_while_a_long_query_still_reads_the_generation_it_started_on(project_copy: Settings) -> None:
    settings = project_copy.model_copy(update={"query_timeout_seconds": 3600.0, "query_workers": 2})
    store = EmbeddedStore.open(settings)

    async def run() -> tuple[bool, int, int, int]:
        before = store.info.triples
        reading = asyncio.ensure_future(store.execute(QueryJob(LONG, "json"), 3600))
        while store.load["running"] == 0:  # the event: the long query holds a worker
            await asyncio.sleep(0.01)
        await store.write(_change(20_000))
        still_reading = not reading.done()
        reading.cancel()
        counted = json.loads((await store.execute(QueryJob(COUNT, "json"), 60)).body or b"")
        generations = sorted(p.name for p in settings.store_dir.with_name("store.generations").iterdir())
        return still_reading, before, int(counted["results"]["bindings"][0]["n"]["value"]), len(generations)

    still_reading, before, count, _ = run_with_store(store, run)
    assert still_reading, "the write waited for the query"
    assert count == store.info.triples == before + 20_000


def test_a_relative_store_path_keeps_its_published_generation(
    project_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative ILOKG_STORE_DIR once made published() take the live generation for a stale one and delete it.
    sync_files(project_copy.store_dir, project_sources(project_copy))
    current = published(project_copy.store_dir)
    counts = _graph_counts(current)
    monkeypatch.chdir(project_copy.store_dir.parent)
    assert published(Path("store")) == current and _graph_counts(current) == counts
    monkeypatch.setenv("ILOKG_STORE_DIR", "store")
    assert Settings().store_dir == project_copy.store_dir  # made absolute where the process started
    assert published(Settings().store_dir) == current and _graph_counts(current) == counts


def test_a_store_of_the_earlier_layout_becomes_generation_0(project_copy: Settings) -> None:
    plain = project_copy.store_dir
    sync_files(plain, project_sources(project_copy))  # a plain folder, as earlier versions made it
    assert plain.is_dir() and not plain.is_symlink()
    counts = _graph_counts(plain)
    current = published(plain)
    assert plain.is_symlink() and current == plain.with_name("store.generations") / "0"
    assert _graph_counts(plain) == counts


def _contents(place: Path) -> dict[str, bytes]:
    if place.is_file():
        return {".": place.read_bytes()}
    return {str(p.relative_to(place)): p.read_bytes() for p in place.rglob("*")}


def _a_file(place: Path) -> Path:
    place.write_text("someone's notes\n", encoding="utf-8")
    return place


def _a_folder_of_other_files(place: Path) -> Path:
    place.mkdir()
    (place / "notes.txt").write_text("someone's notes\n", encoding="utf-8")
    return place


@pytest.mark.parametrize(("make", "what"), [(_a_file, "a file"), (_a_folder_of_other_files, "a folder of other files")])
def test_a_store_folder_naming_what_is_not_a_store_is_refused_and_left_as_it_was(
    make: Callable[[Path], Path], what: str, tmp_path: Path, settings: Settings,
) -> None:
    # A mistyped ILOKG_STORE_DIR was taken for a store of the earlier layout: a file was replaced by the store's
    # link, a folder moved into the generations with the store written among its files.
    place = make(tmp_path / "mine")
    before = _contents(place)
    assert before in ({".": b"someone's notes\n"}, {"notes.txt": b"someone's notes\n"})
    env = {**copy_project(settings, tmp_path), "ILOKG_STORE_DIR": str(place)}
    said = (f"{place} is {what}, not a store; set ILOKG_STORE_DIR to a folder that does not exist yet (it is made) or "
            "to a store this server made. Nothing was changed there")
    for command, prefix in (("load", "error: could not load: "), ("serve", "refusing to start: ")):
        result = run_cli(command, *(("--port", "1") if command == "serve" else ()), env=env)
        assert (result.returncode, result.stdout, result.stderr.splitlines()[-1]) == (2, "", prefix + said)
    assert not place.is_symlink() and not tmp_path.joinpath("mine.generations").exists()
    assert _contents(place) == before


def test_an_empty_folder_becomes_the_store(project_copy: Settings) -> None:
    project_copy.store_dir.mkdir(parents=True)
    result = run_cli("load", env=_load_env(project_copy))
    assert result.returncode == 0, result.stderr
    assert project_copy.store_dir.is_symlink() and len(_graph_counts(project_copy.store_dir)) == 14


def test_a_generation_left_half_made_by_a_crash_is_removed_and_the_published_one_kept(project_copy: Settings) -> None:
    current = published(project_copy.store_dir)
    sync_files(project_copy.store_dir, project_sources(project_copy))
    half_made = current.with_name(str(int(current.name) + 1))
    half_made.mkdir()
    (half_made / "000001.sst").write_bytes(b"torn")
    assert published(project_copy.store_dir) == current
    assert not half_made.exists()


def test_old_generations_are_deleted_once_nobody_reads_them(project_copy: Settings) -> None:
    store = EmbeddedStore.open(project_copy)
    generations = project_copy.store_dir.with_name("store.generations")

    async def run() -> None:
        for n in (10, 20, 30):
            await store.write(_change(n))

    run_with_store(store, run)
    deadline = time.monotonic() + 60
    while len(list(generations.iterdir())) > 1 and time.monotonic() < deadline:  # retired in a thread: the folder goes
        time.sleep(0.01)
    assert [p.name for p in generations.iterdir()] == ["3"]
    assert project_copy.store_dir.resolve() == generations / "3"


def test_reads_that_end_during_a_write_do_not_remove_the_generation_being_written(project_copy: Settings) -> None:
    # Found by bench/write_stall.py: each read's end retired every generation but the published one.
    store = EmbeddedStore.open(project_copy)

    async def run() -> int:
        writing = asyncio.ensure_future(store.write(_change(20_000)))
        ended_during = 0
        while not writing.done():
            await store.execute(QueryJob("ASK { ?s ?p ?o }", "json"), 60)
            ended_during += not writing.done()
        await writing
        return ended_during

    ended_during = run_with_store(store, run)
    assert ended_during > 0
    assert store.info.triples == _graph_total(project_copy.store_dir)


def _graph_total(store_dir: Path) -> int:
    store = ox.Store.read_only(str(store_dir))
    total = int(next(iter(store.query(COUNT)))["n"].value)  # type: ignore[index]
    del store
    return total


def _load_env(settings: Settings) -> dict[str, str]:
    return {"ILOKG_STORE_DIR": str(settings.store_dir), "ILOKG_ONTOLOGY_DIR": str(settings.ontology_dir),
            "ILOKG_SHAPES_DIR": str(settings.shapes_dir), "ILOKG_DATA_DIR": str(settings.data_dir)}


def test_ilo_kg_load_loads_the_files_and_then_only_what_changed(project_copy: Settings) -> None:
    first = run_cli("load", env=_load_env(project_copy))
    assert first.returncode == 0, first.stderr
    manifest = json.loads(project_copy.store_dir.with_name("store-manifest.json").read_text())
    counts = _graph_counts(project_copy.store_dir)
    default, union = _default_and_union(project_copy.store_dir)
    assert default == union and set(counts) == {g["iri"] for g in manifest["graphs"]} and len(counts) == 14
    assert first.stdout == (f"{len(default):,} triples in 14 named graphs at {project_copy.store_dir} "
                            f"(version {manifest['version']})\n")
    loaded = {g["iri"]: g["loaded"] for g in manifest["graphs"]}
    again = run_cli("load", env=_load_env(project_copy))
    assert again.returncode == 0 and again.stdout == first.stdout
    # Nothing was read again: every graph keeps the time it was loaded.
    assert {g["iri"]: g["loaded"] for g in json.loads(
        project_copy.store_dir.with_name("store-manifest.json").read_text())["graphs"]} == loaded


@pytest.mark.parametrize("damage", [b"{ half a file", b"\xff\xfe", b"[]", b'{"graphs": [{"iri": 1}]}'])
def test_a_manifest_that_cannot_be_read_makes_the_load_read_every_file_again(
    project_copy: Settings, damage: bytes,
) -> None:
    # It is only a cache of the files' hashes: damaged (or edited), it stopped `load` and `serve` with a traceback.
    first = run_cli("load", env=_load_env(project_copy))
    assert first.returncode == 0, first.stderr
    manifest = project_copy.store_dir.with_name("store-manifest.json")
    written = json.loads(manifest.read_text())
    manifest.write_bytes(damage)
    again = run_cli("load", env=_load_env(project_copy))
    assert (again.returncode, again.stdout) == (0, first.stdout), again.stderr
    assert "store_manifest_unreadable" in again.stderr
    rewritten = json.loads(manifest.read_text())
    assert [g["iri"] for g in rewritten["graphs"]] == [g["iri"] for g in written["graphs"]]
    assert _graph_counts(project_copy.store_dir) == {g["iri"]: g["triples"] for g in rewritten["graphs"]}


def test_a_store_a_server_holds_is_neither_loaded_nor_served_twice(sparql_server: RunningServer) -> None:
    store = sparql_server.store_dir
    generations = sorted(p.name for p in store.with_name(store.name + ".generations").iterdir())
    result = run_cli("load", env={"ILOKG_STORE_DIR": str(store)})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"error: could not load: another process holds the store at {store} (a running server, or "
                             "`ilo-kg load`); a running server loads the files itself when it starts\n")
    second = run_cli("serve", "--port", "1", env={"ILOKG_STORE_DIR": str(store)})
    assert second.returncode == 2
    assert f"refusing to start: another process holds the store at {store}" in second.stderr.splitlines()[0]
    # The server's generations are untouched, and it answers.
    assert sorted(p.name for p in store.with_name(store.name + ".generations").iterdir()) == generations
    assert httpx.get(sparql_server.url + "/health").status_code == 200


def test_a_load_reports_its_progress_in_bytes_to_the_end(project_copy: Settings) -> None:
    calls: list[tuple[int, int]] = []
    sources = project_sources(project_copy)
    sync_files(project_copy.store_dir, sources, lambda done, total: calls.append((done, total)))
    total = sum(path.stat().st_size for path in sources.values())
    assert calls and calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls}) and {t for _, t in calls} == {total}
    # Nothing changed: nothing read, nothing reported.
    calls.clear()
    sync_files(project_copy.store_dir, sources, lambda done, total: calls.append((done, total)))
    assert calls == []


_BROKEN = '<urn:x:a> <urn:x:p> "PT36S"^^<http://www.w3.org/2001/XMLSchema#duration> .\n<urn:x:a> <urn:x:p> "no end ;\n'


@pytest.mark.parametrize("store", BACKENDS)
def test_a_data_file_that_cannot_be_read_stops_load_and_serve_with_its_place(
    store: str, tmp_path: Path, settings: Settings,
) -> None:
    env = {**copy_project(settings, tmp_path), "ILOKG_STORE_DIR": str(tmp_path / "store"), "ILOKG_PORT": str(free_port())}
    broken = tmp_path / "data" / "broken.ttl"
    broken.write_text(_BROKEN, encoding="utf-8")
    said = (f"{broken}: Parser error between line 2 column 21 and line 3 column 1: Unexpected end of file (line 2). "
            "Correct the file and load again: the store keeps its last complete load's record, and the next load "
            "reads every file changed since.\n")
    with backend(store, tmp_path / "engine") as engine:
        for command, prefix in (("load", "error: "), ("serve", "refusing to start: ")):
            result = run_cli(command, env={**env, **engine}, timeout=120)
            # (serve logs, as JSON lines here, that it loads the files before it refuses)
            refusal = "".join(line for line in result.stderr.splitlines(keepends=True) if not line.startswith("{"))
            assert (result.returncode, refusal) == (2, prefix + said), command
        broken.write_text(_BROKEN.replace('"no end ;', '"an end" .'), encoding="utf-8")
        loaded = run_cli("load", env={**env, **engine}, timeout=120)
        assert loaded.returncode == 0, loaded.stderr
        assert loaded.stdout.startswith("10,00") and "triples in 15 named graphs" in loaded.stdout
