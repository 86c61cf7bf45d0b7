"""What the benchmark scripts share: percentiles, and printing a Markdown report (and writing it)."""

from pathlib import Path


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def publish(lines: list[str], path: Path | None, append: bool = False) -> None:
    """Print a report's lines, and write them to path if one is given (after what it holds, if append)."""
    text = "\n".join(lines) + "\n"
    print(text)
    if path is not None:
        with path.open("a" if append else "w", encoding="utf-8") as file:
            file.write(text)
