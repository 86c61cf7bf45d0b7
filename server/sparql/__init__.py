"""The SPARQL query service: what a query text says (the lexer), the checks and limits around running
it, the answer cache, federation and the service description.

May import: server.namespaces, server.problems, server.formats, server.settings, server.workers,
server.store.
"""
