"""Linked data: resource descriptions and pages, the vocabulary's documentation, the dataset
description, dumps offered, and the graphs linked to.

May import: server.namespaces, server.problems, server.rdf, server.exchange, server.settings, server.workers,
server.store, server.sparql.
"""
