"""What the benchmark scripts share: percentiles, resident memory, CPU time, and printing a Markdown report (and
writing it)."""

import os
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


def _process_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def resident_kib(pid: int) -> dict[int, int]:
    """The RSS (KiB) of a process and of its children (the workers)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(c) for c in (task / "children").read_text().split()]
    sizes = {}
    for each in pids:
        try:
            sizes[each] = _process_kib(each)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return sizes


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
