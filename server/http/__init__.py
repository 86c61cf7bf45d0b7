"""The HTTP face of the server: the app factory, its routers (routes/) and middleware (middleware/).

Request flow: middleware (connection limits, body limit, HEAD, request context, security headers)
→ a router in routes/ → a service of the packages below → the store. Routers translate HTTP to
service calls and back; they hold no logic of their own.

May import: every package of the server.
"""
