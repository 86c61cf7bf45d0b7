"""`ilo-kg load` into an external store filled by the engine's own bulk loader (`--plan`, `--engine-loaded`), on a real
`oxigraph serve` whose store `oxigraph load` wrote first, as an operator with millions of triples would."""

import subprocess
from pathlib import Path

import httpx

from server.settings import Settings
from server.store.remote import UNION
from tests.support.engines import oxigraph_command, start_oxigraph
from tests.support.servers import RunningServer, copy_project, run_cli

ILOP = "https://w3id.org/ilo-partnerships/ontology#"
PROJECT = "https://w3id.org/ilo-partnerships/id/project/bulk-loaded"
# A file too big to send in the engine's one transaction stands for this one: loaded by the engine's loader.
BIG = f'<{PROJECT}> a <{ILOP}Project> ; <http://www.w3.org/2000/01/rdf-schema#label> "Loaded in bulk"@en .\n'
# Put in the same graph by the operator's loader only: gone if `ilo-kg load` sent the file (a PUT replaces the graph).
MARKER = f'<{PROJECT}> <http://www.w3.org/2000/01/rdf-schema#comment> "loaded by the engine"@en .\n'


def _oxigraph_load(location: Path, file: Path, graph: str) -> None:
    done = subprocess.run([oxigraph_command(), "load", "--location", str(location), "--file", str(file), "--graph", graph],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_files_the_engine_loaded_are_recorded_not_sent_and_the_server_serves_them(
    tmp_path: Path, settings: Settings,
) -> None:
    env = {**copy_project(settings, tmp_path), "ILOKG_STORE_DIR": str(tmp_path / "var" / "store")}
    (tmp_path / "data" / "bulk.ttl").write_text(BIG, encoding="utf-8")

    plan = run_cli("load", "--plan", env=env)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    assert lines[0] == f"# graph\tfile (with an external store, each file goes into its graph and into <{UNION}>)"
    graphs = dict(line.split("\t") for line in lines[1:])
    assert len(graphs) == 15 and str(tmp_path / "data" / "bulk.ttl") in graphs.values()
    bulk_graph = next(iri for iri, path in graphs.items() if path.endswith("bulk.ttl"))

    # The operator's bulk load: the file (and a triple of its own) into its graph, the file into the union.
    (tmp_path / "marker.nt").write_text(MARKER, encoding="utf-8")
    location = tmp_path / "engine" / "store"
    location.parent.mkdir()
    for file, graph in ((tmp_path / "data" / "bulk.ttl", bulk_graph), (tmp_path / "marker.nt", bulk_graph),
                        (tmp_path / "data" / "bulk.ttl", UNION)):
        _oxigraph_load(location, file, graph)
    engine = start_oxigraph(tmp_path / "engine")
    try:
        env.update(engine.env)
        loaded = run_cli("load", "--engine-loaded", env=env)
        assert loaded.returncode == 0, loaded.stderr
        assert loaded.stdout.endswith(")\n") and "named graphs at http://127.0.0.1:" in loaded.stdout

        def count(where: str) -> int:
            response = httpx.post(engine.env["ILOKG_STORE_URL"], data={
                "query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{bulk_graph}> {{ {where} }} }}"},
                headers={"Accept": "application/sparql-results+json"}, timeout=30)
            return int(response.json()["results"]["bindings"][0]["n"]["value"])

        # Not sent: the operator's triple is still in the graph; the other files were sent as usual.
        assert count(f"<{PROJECT}> ?p ?o") == 3
        server = RunningServer(tmp_path / "var" / "store", env).start()
        try:
            # The server found every file recorded (nothing sent again at its start) and serves both kinds.
            assert count(f"<{PROJECT}> ?p ?o") == 3
            answer = httpx.get(server.url + "/sparql", params={"query": f"SELECT ?label WHERE {{ <{PROJECT}> "
                               "<http://www.w3.org/2000/01/rdf-schema#label> ?label }"}, timeout=30,
                               headers={"Accept": "application/sparql-results+json"}).json()
            assert [row["label"]["value"] for row in answer["results"]["bindings"]] == ["Loaded in bulk"]
            assert httpx.get(server.url + "/queries/countries-reached", params={"format": "rows"},
                             timeout=30).json()["rows"]
        finally:
            server.stop()

        # A file changed since: the union holds its old triples, so a record-only load is refused, and nothing moves.
        (tmp_path / "data" / "bulk.ttl").write_text(BIG.replace("Loaded in bulk", "Changed"), encoding="utf-8")
        refused = run_cli("load", "--engine-loaded", env=env)
        assert (refused.returncode, refused.stdout) == (2, "")
        assert refused.stderr == (
            "error: nothing loaded: files were removed or changed since the store's last load, and the union graph holds "
            "their old triples: load without --engine-loaded (the union is then rebuilt), or empty the store first\n")
        assert count(f"<{PROJECT}> ?p ?o") == 3
    finally:
        engine.stop()


def test_engine_loaded_is_refused_for_the_embedded_store(tmp_path: Path) -> None:
    result = run_cli("load", "--engine-loaded", env={"ILOKG_STORE_DIR": str(tmp_path / "store")})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("error: --engine-loaded is for an external store (ILOKG_STORE_URL); the embedded store "
                             "loads its files itself\n")
    assert not (tmp_path / "store").exists()
