"""Prometheus metrics of one app instance (its own registry, so tests can build many apps)."""

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    """Requests, latency, deadline hits and cache hits."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ilokg_http_requests_total", "HTTP requests answered.", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "ilokg_http_request_seconds", "Time to answer an HTTP request, in seconds.", ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.deadline_hits = Counter(
            "ilokg_query_deadline_hits_total", "Queries stopped at their deadline.", registry=self.registry
        )
        self.cache_hits = Counter(
            "ilokg_query_cache_hits_total", "Queries answered from the result cache.", registry=self.registry
        )
