"""Submissions: records, bearer tokens, the plan of a check against what is stored, and accepting,
replacing and withdrawing files.

May import: server.namespaces, server.problems, server.rdf, server.exchange, server.files, server.settings,
server.store, server.validation.
"""
