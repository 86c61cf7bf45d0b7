"""Request bodies are read as they are sent: one with a content coding (Content-Encoding: gzip, br…) is refused with
415 (RFC 9110, 15.5.16), not read as if it were plain, which made a compressed file "not valid UTF-8" and a body
labelled with a coding it did not have pass as plain."""

from starlette.types import ASGIApp, Receive, Scope, Send

from server.http.middleware.body_limit import refuse


class ContentCodingMiddleware:
    """Answers 415 to a request whose body declares a content coding other than identity."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"]) if scope["type"] == "http" else {}
        # Only where there is a body to read (a GET may carry the header with nothing it applies to).
        if headers.get(b"content-length", b"0") not in (b"0", b"") or b"transfer-encoding" in headers:
            codings = [value.decode("latin-1") for name, value in scope["headers"] if name == b"content-encoding"]
            named = [c.strip() for value in codings for c in value.split(",") if c.strip().lower() not in ("", "identity")]
            if named:
                await refuse(send, 415, (
                    f"The request body is encoded ({', '.join(named)[:100]}), which this server does not read: send it "
                    "as it is, without Content-Encoding."
                ), scope["path"], [(b"accept-encoding", b"identity")])
                return
        await self.app(scope, receive, send)
