"""The triple store: its interface, the embedded pyoxigraph store, an external SPARQL 1.1 store (remote.py), what
runs in the embedded store's query workers, and the dumps and context walks written from either.

Everything that reads or writes the store's files goes through this package.

May import: server.namespaces, server.formats, server.files, server.problems, server.settings, server.workers.
"""
