"""Memory of an IATI import as the file grows: the command line's streamed cut into parts, and the conversion of
each part as the server does it.

    python -m bench.iati_import [--sizes 50 200] [--write bench/RESULTS.md]

For each size (MB) a file of independent activities (the test fixture's parent activity, renumbered) is written,
then read in a fresh process in two ways: (1) `batches` alone, what `ilo-kg import iati` holds while it reads the
file and sends its parts; (2) `batches` and `read_input` on every part, the conversion each part then gets on the
server. Reported: the peak resident memory of each process (ru_maxrss) and the time, beside the file's size. Memory
that follows the file would grow fourfold from 50 to 200 MB; memory that follows the part stays flat.
"""

import argparse
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.report import publish
from bench.run import HERE, _machine

FIXTURE = HERE.parent / "tests" / "fixtures" / "iati" / "activities-2.03.xml"
PART_BYTES = 1_000_000


def write_file(path: Path, megabytes: int) -> int:
    """An IATI file of about megabytes MB of independent activities; the number of activities."""
    text = FIXTURE.read_text(encoding="utf-8")
    activity = re.search(r"<iati-activity .*?</iati-activity>", text, re.S).group()  # type: ignore[union-attr]
    activity = re.sub(r"\s*<related-activity [^>]*/>", "", activity)
    target, written, count = megabytes * 1_000_000, 0, 0
    with path.open("w", encoding="utf-8") as file:
        file.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        file.write('<iati-activities version="2.03" generated-datetime="2026-11-30T09:00:00Z">\n')
        while written < target:
            count += 1
            one = activity.replace("XM-DAC-41302-TEST-001", f"XM-DAC-41302-BENCH-{count:07d}")
            file.write(one + "\n")
            written += len(one) + 1
        file.write("</iati-activities>\n")
    return count


def _measure(path: str, convert: bool) -> None:
    """In the child process: read the file as the import does; print parts, triples, peak RSS (KiB) and seconds."""
    from server.exchange.iati_batches import batches
    from server.exchange.inputs import read_input
    from server.formats.registry import IATI

    started = time.perf_counter()
    parts = triples = 0
    with open(path, "rb") as file:
        for part in batches(file, path, PART_BYTES):
            parts += 1
            if convert:
                triples += len(read_input(part, IATI, "part.xml").graph)
    elapsed = time.perf_counter() - started
    print(parts, triples, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, f"{elapsed:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--write", type=Path)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        _measure(arguments.measure[0], arguments.measure[1] == "convert")
        return
    folder = HERE / "work" / "iati"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["", "## IATI import: memory as the file grows", "", f"Machine: {_machine()}.", "",
             f"`python -m bench.iati_import --sizes {' '.join(map(str, arguments.sizes))}`: files of independent activities "
             f"(the test fixture's parent activity, renumbered), cut into parts of {PART_BYTES} bytes as "
             "`ilo-kg import iati` does; each read in a fresh process.", "",
             "| file | activities | parts | cut only: peak RSS | time | cut and convert every part: peak RSS | triples | time |",
             "|---|---|---|---|---|---|---|---|"]
    for size in arguments.sizes:
        path = folder / f"portfolio-{size}mb.xml"
        count = write_file(path, size)
        results = []
        for mode in ("cut", "convert"):
            output = subprocess.run([sys.executable, "-m", "bench.iati_import", "--measure", str(path), mode],
                                    capture_output=True, text=True, check=True).stdout.split()
            results.append(output)
        (parts, _, cut_kib, cut_s), (_, triples, convert_kib, convert_s) = results
        lines.append(f"| {path.stat().st_size / 1e6:.0f} MB | {count} | {parts} | {int(cut_kib) // 1024} MiB | {cut_s} s | "
                     f"{int(convert_kib) // 1024} MiB | {triples} | {convert_s} s |")
        path.unlink()
    publish(lines, arguments.write, append=True)
    print(f"(peak RSS of the parent process, for reference: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB)")


if __name__ == "__main__":
    main()
