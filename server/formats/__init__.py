"""The answer formats: the registry of media types, names and serialisers, and content negotiation.

Lowest layer: plain data and functions over bytes.

May import: server.namespaces, server.problems.
"""
