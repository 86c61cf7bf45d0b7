"""Unit tests of server.workers."""
