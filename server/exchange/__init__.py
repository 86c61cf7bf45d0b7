"""Data as partners hold it: IATI activity files read into the vocabulary (streamed, each fact with the element
and line it came from) and cut into submissions; the IATI codelists as SKOS; the one entry point that reads
any input, RDF or not, into a document.

Functions of their input; what the graph already holds comes in as plain data (identifiers, N-Triples).

May import: server.namespaces, server.formats, server.rdf.
"""
