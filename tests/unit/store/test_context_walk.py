"""The context walk: what it collects around the seeds, and that no stored structure can break it."""

import pyoxigraph as ox

from server.store.context_walk import walk

EX = "https://example.org/"
P, TYPE = ox.NamedNode(EX + "p"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _node(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


def _store(*triples: tuple[object, object, object], graph: ox.NamedNode | None = None) -> ox.Store:
    store = ox.Store()
    for s, p, o in triples:
        store.add(ox.Quad(s, p, o, ox.DefaultGraph()))  # type: ignore[arg-type]
        store.add(ox.Quad(s, p, o, graph or _node("g")))  # type: ignore[arg-type]
    return store


def _walked(store: ox.Store, seeds: list[str], depth: int = 2, max_triples: int = 1000, **kwargs: object) -> set[str]:
    text = walk(store, seeds, [], depth, max_triples, **kwargs).ntriples.decode()  # type: ignore[arg-type]
    return {line for line in text.splitlines() if line}


def test_a_chain_of_a_hundred_thousand_blank_nodes_is_cut_at_the_cap_without_recursion() -> None:
    links = [ox.BlankNode() for _ in range(100_000)]
    triples = [(_node("seed"), P, links[0])] + [(a, P, b) for a, b in zip(links, links[1:], strict=False)]
    assert len(_walked(_store(*triples), [EX + "seed"], max_triples=5000)) == 5000


def test_blank_nodes_are_followed_to_their_end_and_cycles_end() -> None:
    a, b, c = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    triples = [(_node("seed"), P, a), (a, P, b), (b, P, c), (c, P, a), (c, P, ox.Literal("end"))]
    assert len(_walked(_store(*triples), [EX + "seed"])) == 5


def test_named_nodes_are_followed_depth_steps_and_typed_where_the_walk_stops() -> None:
    triples = [(_node("a"), P, _node("b")), (_node("b"), P, _node("c")), (_node("c"), P, _node("d")),
               (_node("c"), TYPE, _node("C")), (_node("d"), TYPE, _node("D"))]
    walked = _walked(_store(*triples), [EX + "a"], depth=2)
    assert walked == {f"<{EX}a> <{EX}p> <{EX}b> .", f"<{EX}b> <{EX}p> <{EX}c> .",
                      f"<{EX}c> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}C> ."}


def test_triples_only_the_excluded_graph_asserts_are_left_out() -> None:
    store = _store((_node("a"), P, _node("b")), graph=_node("replaced"))
    store.add(ox.Quad(_node("a"), P, _node("c"), ox.DefaultGraph()))
    store.add(ox.Quad(_node("a"), P, _node("c"), _node("other")))
    assert _walked(store, [EX + "a"], depth=1, excluded_graph=EX + "replaced") == {f"<{EX}a> <{EX}p> <{EX}c> ."}


def test_a_schemes_top_concepts_are_typed_not_followed() -> None:
    top = ox.NamedNode("http://www.w3.org/2004/02/skos/core#hasTopConcept")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    triples = [(_node("concept"), P, _node("scheme")), (_node("scheme"), top, _node("other")),
               (_node("other"), TYPE, _node("Concept")), (_node("other"), label, ox.Literal("another code"))]
    walked = _walked(_store(*triples), [EX + "concept"], depth=3)
    assert walked == {
        f"<{EX}concept> <{EX}p> <{EX}scheme> .",
        f"<{EX}scheme> <http://www.w3.org/2004/02/skos/core#hasTopConcept> <{EX}other> .",
        f"<{EX}other> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}Concept> .",
    }
