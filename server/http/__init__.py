"""The HTTP face of the server: app factory, routers and middleware."""
