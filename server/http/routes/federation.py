"""The federation relay (see server.sparql.federation): forwards a query worker's SERVICE call, within limits."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.http.errors import problem_response
from server.sparql.federation import RELAY_PATH, FederationRelay

router = APIRouter(include_in_schema=False)


@router.api_route(RELAY_PATH + "/{secret}/{index}", methods=["GET", "POST"])
async def relay(secret: str, index: str, request: Request) -> Response:
    """Forward one SERVICE call to its allowlisted endpoint; 504 past the deadline, 502 past the size cap."""
    federation: FederationRelay | None = request.app.state.federation
    client = request.client.host if request.client else None
    endpoint = None if federation is None else federation.endpoint(secret, index, client)
    if federation is None or endpoint is None:
        return problem_response(request, 404, "Not found.")
    relayed = await federation.forward(endpoint, request.method, request.url.query, dict(request.headers), await request.body())
    return Response(relayed.body, status_code=relayed.status, media_type=relayed.media_type)
