"""Speed-ups of pyshacl and rdflib for validating many small documents against fixed shapes.

Two are subclasses used by the engine (PreparedQueryGraph, FrozenGraph). One is a monkeypatch:
`install()` replaces pyshacl's SPARQLQueryHelper.check_invalid_sparql, process-wide, with a
version that remembers which texts passed. It is installed once per process, where the process
starts validating (the validation worker's initialiser, the command line), never by importing
a module. What it changes: nothing observable but speed (a text that fails still raises on every
call); what it depends on: pyshacl's method of that name and signature (pyshacl is pinned to one
minor series in pyproject.toml for this reason).
"""

import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper
from rdflib import RDF, Graph
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

# rdflib's SPARQL parser breaks when first used from several threads at once (rdflib
# issue 1282), so preparing queries is serialised.
_PREPARE_LOCK = threading.Lock()


@lru_cache(maxsize=512)
def _prepared(text: str) -> Query:
    with _PREPARE_LOCK:
        return prepareQuery(text)


class PreparedQueryGraph(Graph):
    """A graph that parses each distinct SPARQL text once.

    pyshacl evaluates a SPARQL constraint by handing rdflib the query text with $this bound
    through initBindings, once per focus node; rdflib would parse the text every time (about
    40 ms each), which dominated validation time.
    """

    def query(  # type: ignore[override]
        self,
        query_object: str | Query,
        processor: str = "sparql",
        result: str = "sparql",
        initNs: Mapping[str, Any] | None = None,  # noqa: N803 (rdflib's name)
        initBindings: Mapping[str, Node] | None = None,  # noqa: N803
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Any:
        if isinstance(query_object, str) and not initNs:
            query_object = _prepared(query_object)
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


def install() -> None:
    """Make pyshacl check each SPARQL constraint's text once, not once per focus node.

    pyshacl runs five regular expressions over the text of a SPARQL-based constraint every
    time it binds $this (a third of a small submission's validation time). The check depends
    only on the text and which variables may be pre-bound, so its outcome is remembered;
    a text that fails still raises every time.
    """
    check = SPARQLQueryHelper.check_invalid_sparql
    if getattr(check, "remembered", False):
        return
    passed: set[tuple[str, bool, frozenset[str]]] = set()

    def remembered(self: SPARQLQueryHelper, sparql_text: str, valuenode: Any = None, extravars: Any = None) -> bool:
        key = (sparql_text, valuenode is not None, frozenset(extravars or ()))
        if key not in passed:
            check(self, sparql_text, valuenode=valuenode, extravars=extravars)
            passed.add(key)
        return True

    remembered.remembered = True  # type: ignore[attr-defined]
    SPARQLQueryHelper.check_invalid_sparql = remembered  # type: ignore[method-assign]


class FrozenGraph(Graph):
    """A graph that is not changed after it is built, so its answers can be remembered.

    pyshacl reads the shapes graph again each time it checks a constraint (for sh:in, it walks
    the whole list: 250 country codes), per shape evaluation, per call.
    """

    def __init__(self, source: Graph):
        super().__init__()
        self._answers: dict[tuple[Any, Any, Any], list[Any]] = {}
        for prefix, namespace in source.namespaces():
            self.bind(prefix, namespace, override=True)
        self += source
        self._answers.clear()

    def triples(self, triple: tuple[Any, Any, Any]):  # type: ignore[no-untyped-def, override]
        if not all(t is None or isinstance(t, Node) for t in triple):
            # A property path in predicate position: rdflib evaluates it with other calls.
            yield from super().triples(triple)
            return
        answer = self._answers.get(triple)
        if answer is None:
            answer = self._answers[triple] = list(super().triples(triple))
        yield from answer

    def items(self, list: Node):  # type: ignore[no-untyped-def, override]  # noqa: A002 (rdflib's name)
        key = (list, RDF.rest, RDF.nil)  # not a triple pattern: the key of a whole list's items
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = [*super().items(list)]
        yield from answer
