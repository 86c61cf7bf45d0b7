"""The whole test suite, run again and again while every core is kept busy: a suite that passes
here does not depend on timing margins or on having the machine to itself.

One burner process per core spins at normal priority for the whole run (the tests compete with
it as with any other load); the suite runs as `make test` runs it, `--runs` times in a row, and
the report says how each run ended and how long it took.

    python -m bench.under_load --runs 5 --write bench/UNDER_LOAD.md
"""

import argparse
import multiprocessing
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from multiprocessing.synchronize import Event
from pathlib import Path

from bench.report import publish

_ROOT = Path(__file__).resolve().parent.parent
_LOGS = _ROOT / "bench" / "work"
# pytest's last line: "1672 passed in 323.29s (0:05:23)" (under -q), or framed in "=" signs.
_SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|error).* in [\d.]+s.*?)\s*=*$")


def _burn(stop: Event) -> None:
    """Spin until told to stop: one core's worth of CPU load."""
    count = 0
    while not stop.is_set():
        for _ in range(100_000):
            count += 1


def _suite() -> tuple[int, str, float]:
    """One run of the suite as `make test` runs it: its exit code, its summary line and its duration."""
    environment = {**os.environ, "ILOKG_TEST_CHROMIUM": os.environ.get("ILOKG_TEST_CHROMIUM", "/usr/bin/chromium")}
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "auto", "-q", "-p", "no:cacheprovider"],
        cwd=_ROOT, env=environment, capture_output=True, text=True, check=False,
    )
    summaries = [m.group(1) for m in map(_SUMMARY.match, finished.stdout.splitlines()) if m]
    summary = summaries[-1] if summaries else "(no summary)"
    if finished.returncode != 0:
        # The whole output of a failed run is kept, for its tracebacks.
        _LOGS.mkdir(parents=True, exist_ok=True)
        log = _LOGS / f"under-load-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"
        log.write_text(finished.stdout + finished.stderr, encoding="utf-8")
        failed = [line for line in finished.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        summary += f" (output in {log.relative_to(_ROOT)})\n" + "\n".join(failed[:20])
    return finished.returncode, summary, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="how many times in a row the suite must pass")
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2, help="busy processes (default: one per core)")
    parser.add_argument("--write", type=Path, help="write the report to this file")
    arguments = parser.parse_args()

    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(arguments.burners)]
    for burner in burners:
        burner.start()
    lines = [
        "# The test suite under CPU load",
        "",
        f"`python -m bench.under_load --runs {arguments.runs}` on {datetime.now(UTC):%Y-%m-%d}: "
        f"{arguments.burners} burner processes (one per core) spinning at normal priority throughout, "
        f"on {platform.node() or 'this machine'} ({os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}). The suite runs as `make test` runs it (`pytest -n auto`).",
        "",
        "| run | result | duration |",
        "|---|---|---|",
    ]
    passed = 0
    try:
        for run in range(1, arguments.runs + 1):
            code, summary, seconds = _suite()
            first, _, detail = summary.partition("\n")
            lines.append(f"| {run} | {first} | {seconds:.0f} s |")
            print(lines[-1], flush=True)
            if code != 0:
                lines += ["", "The run failed:", "", "```", detail, "```"]
                break
            passed += 1
    finally:
        stop.set()
        for burner in burners:
            burner.join(10)
            if burner.is_alive():
                burner.kill()
    lines += ["", f"**{passed} of {arguments.runs} runs passed in a row.**"]
    publish(lines, arguments.write)
    sys.exit(0 if passed == arguments.runs else 1)


if __name__ == "__main__":
    main()
