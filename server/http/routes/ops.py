"""Operations: liveness and readiness (/health) and Prometheus metrics (/metrics)."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.http.deps import MetricsDep, StoreDep

router = APIRouter(tags=["Operations"])


@router.get("/health", summary="Liveness and readiness")
async def health(store: StoreDep, request: Request) -> dict[str, object]:
    """Answers at once, whatever queries are running: it touches neither the workers nor the disk. `explorer`: the
    data version whose unfiltered explorer answers are computed (null while they are not, or with the warm-up off)."""
    info = store.info
    warmup = request.app.state.warmup
    return {
        "status": "ok", "ready": True, "triples": info.triples, "graphs": len(info.graphs), "dataVersion": info.version,
        "workers": store.load, "explorer": warmup.version if warmup is not None else None,
    }


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(metrics: MetricsDep) -> Response:
    """Requests, latency, deadline hits and cache hits, in the Prometheus text format."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
