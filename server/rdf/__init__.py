"""RDF as the project reads and writes it: namespaces, syntaxes, safe parsing, canonical form, the
project's own graphs, display of nodes, the origins of converted facts.

No server state: functions of their input (and the project's files).

May import: server.namespaces, server.formats.
"""
