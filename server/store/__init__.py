"""The triple store: its interface, the embedded pyoxigraph store, what runs in its query workers, and
the dumps and context walks written from it.

Everything that reads or writes the store's files goes through this package.

May import: server.namespaces, server.formats, server.files, server.settings, server.workers.
"""
