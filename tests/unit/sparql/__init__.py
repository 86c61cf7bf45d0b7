"""Unit tests of server.sparql."""
