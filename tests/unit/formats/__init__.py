"""Unit tests of server.formats."""
