"""Static web pages served by the server."""
