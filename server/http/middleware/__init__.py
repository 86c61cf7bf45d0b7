"""Plain ASGI middleware (streaming-safe) and uvicorn's protocol with connection limits: what every request passes through.

May import: server.http.metrics, server.settings.
"""
