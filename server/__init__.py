"""The ILO partnerships knowledge graph: vocabulary, data, shapes and the tools around them."""


def __getattr__(name: str) -> str:
    # Read on first use, not at import: the query workers import this package, and a worker
    # replaced after a deadline should start in milliseconds (package metadata costs 30 ms).
    if name == "__version__":
        from importlib.metadata import version

        return version("ilo-partnerships-kg")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
