"""Unit tests of server.store."""
