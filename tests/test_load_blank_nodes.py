"""A data file's blank nodes are its own on every kind of store: two files that both say `_:x` mean two nodes, in
their graphs and in the default graph, whether `ilo-kg load` puts them into the embedded store, `oxigraph serve` or
Virtuoso (the embedded store's parser once kept the label as the node's name)."""

from pathlib import Path

import httpx
import pytest

from server.settings import Settings
from tests.support.engines import backend
from tests.support.servers import RunningServer, copy_project, run_cli

EX = "https://example.org/"


def _select(url: str, query: str) -> list[dict[str, str]]:
    response = httpx.get(url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


@pytest.mark.parametrize("kind", ["embedded", "oxigraph", "virtuoso"])
def test_two_files_that_both_say_x_load_as_two_nodes(kind: str, tmp_path: Path, settings: Settings) -> None:
    env = copy_project(settings, tmp_path)
    for name in ("first", "second"):
        (tmp_path / "data" / f"{name}.ttl").write_text(
            f'@prefix ex: <{EX}> .\nex:{name} ex:says _:x .\n_:x ex:in "{name}" ; ex:has [ ex:deep [ ex:level 2 ] ] .\n')
    with backend(kind, tmp_path / "engine") as store_env:
        env |= store_env
        loaded = run_cli("load", env={**env, "ILOKG_STORE_DIR": str(tmp_path / "store")})
        assert loaded.returncode == 0, loaded.stderr
        server = RunningServer(tmp_path / "store", env).start()
        try:
            # One answer: a blank node has one label throughout it.
            said = _select(server.url, f"SELECT ?g ?x WHERE {{ GRAPH ?g {{ ?s <{EX}says> ?x }} }}")
            assert sorted(row["g"].rsplit("/", 1)[1] for row in said) == ["first", "second"]
            assert len({row["x"] for row in said}) == 2
            named = _select(server.url, f"SELECT ?x ?name WHERE {{ ?x <{EX}in> ?name }}")
            assert sorted(row["name"] for row in named) == ["first", "second"] and len({row["x"] for row in named}) == 2
            # The nested nodes: one chain per file, in the default graph as in the graphs.
            chains = f"SELECT ?x ?deep WHERE {{ ?x <{EX}has>/<{EX}deep> ?deep . ?deep <{EX}level> 2 }}"
            assert len({row["deep"] for row in _select(server.url, chains)}) == 2
            in_graphs = _select(server.url, f"SELECT DISTINCT ?deep WHERE {{ GRAPH ?g {{ ?deep <{EX}level> 2 }} }}")
            assert len(in_graphs) == 2
        finally:
            server.stop()
