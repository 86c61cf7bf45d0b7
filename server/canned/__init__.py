"""Canned queries: the catalogue of .rq files, their typed parameters, paging and the formats of their
answers.

May import: server.namespaces, server.formats, server.settings, server.store, server.sparql.
"""
