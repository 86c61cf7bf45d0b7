"""Validation against the shapes: the engine, the report and its renderings, the submission rules, the
pyshacl speed-ups, and the worker that runs it.

Documents in, reports out; the context of the store comes in as N-Triples.

May import: server.namespaces, server.problems, server.rdf, server.exchange, server.settings, server.workers,
server.store, server.formats, server.logs.
"""
