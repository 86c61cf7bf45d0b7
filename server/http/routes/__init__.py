"""The routers, one per part of the API: SPARQL, canned queries, resources, dataset, submissions, web
pages, operations, federation relay.

May import: every package of the server.
"""
