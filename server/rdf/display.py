"""RDF nodes and SHACL paths written for people, as reports and the vocabulary's pages show them."""

import json

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from server.namespaces import shorten


def is_web_iri(iri: str) -> bool:
    """Whether a page may link to the IRI: http(s) only. A javascript: or data: IRI as a link is a script on the page
    (submissions refuse them, and the pages' policy runs no such script: this is the third guard)."""
    return iri.split(":", 1)[0].lower() in ("http", "https")


def display_node(node: Node | None) -> str:
    """A node as a report shows it: a prefixed name, [] for a blank node, or a Turtle literal."""
    if node is None:
        return "(none)"
    if isinstance(node, URIRef):
        return shorten(str(node))
    if isinstance(node, BNode):
        return "[]"
    if isinstance(node, Literal):
        text = json.dumps(str(node), ensure_ascii=False)
        if node.language:
            return f"{text}@{node.language}"
        return f"{text}^^{shorten(str(node.datatype))}" if node.datatype else text
    return str(node)


def display_path(graph: Graph, path: Node | None) -> str | None:
    """A SHACL property path in SPARQL notation, such as ^ilop:hasComponent."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return shorten(str(path))
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + (display_path(graph, inverse) or "?")
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "|".join(display_path(graph, p) or "?" for p in Collection(graph, alternatives))
    if graph.value(path, RDF.first) is not None:
        return "/".join(display_path(graph, p) or "?" for p in Collection(graph, path))
    return "[]"
