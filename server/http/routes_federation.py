"""The federation relay (see server.federation): forwards a query worker's SERVICE call, within limits."""

import asyncio

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from server.federation import RELAY_PATH, FederationRelay

router = APIRouter(include_in_schema=False)
_FORWARDED = ("accept", "content-type")


@router.api_route(RELAY_PATH + "/{secret}/{index}", methods=["GET", "POST"])
async def relay(secret: str, index: str, request: Request) -> Response:
    """Forward one SERVICE call to its allowlisted endpoint; 504 past the deadline, 502 past the size cap."""
    federation: FederationRelay | None = request.app.state.federation
    client = request.client.host if request.client else None
    endpoint = None if federation is None else federation.endpoint(secret, index, client)
    if federation is None or endpoint is None:
        return PlainTextResponse("Not found.\n", status_code=404)
    headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
    body = await request.body()
    url = endpoint + (f"?{request.url.query}" if request.url.query else "")
    try:
        async with asyncio.timeout(federation.timeout), httpx.AsyncClient(
            timeout=federation.timeout, follow_redirects=False, trust_env=False
        ) as client_session, client_session.stream(request.method, url, headers=headers, content=body) as upstream:
            chunks, size = [], 0
            async for chunk in upstream.aiter_bytes():
                size += len(chunk)
                if size > federation.max_bytes:
                    return PlainTextResponse(
                        f"The answer of {endpoint} exceeds the federation limit of {federation.max_bytes} bytes.\n",
                        status_code=502,
                    )
                chunks.append(chunk)
            media_type = upstream.headers.get("content-type")
            return Response(b"".join(chunks), status_code=upstream.status_code, media_type=media_type)
    except TimeoutError:
        return PlainTextResponse(
            f"{endpoint} did not answer within the federation deadline of {federation.timeout:g} s.\n", status_code=504
        )
    except httpx.HTTPError as error:
        return PlainTextResponse(f"{endpoint} could not be reached: {type(error).__name__}.\n", status_code=502)
