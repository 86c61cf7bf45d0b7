"""How long each case of the hostile-input corpus (tests/security/corpus.py) takes to be answered.

The test suite checks what each answer says and that nothing changed or leaked; this times
them, against the goal of an answer within 2 s, on a real server with the bundled data.

    python -m bench.hostile --write bench/HOSTILE.md
"""

import argparse
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.report import publish
from server.submissions.tokens import Role, TokenRegistry
from tests.security.corpus import CASES, Case, Context

GOAL_SECONDS = 2.0


@contextlib.contextmanager
def hostile_server(port: int, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[bytes], Context]]:
    """A server with the bundled data and a token, and the context the corpus's cases are built from."""
    folder = Path(tempfile.mkdtemp(prefix="ilokg-hostile-"))
    token = TokenRegistry(folder / "tokens.json").issue("bench", Role.SUBMITTER)
    canary = folder / "canary.ttl"
    canary.write_text(f'<https://example.org/s> <https://example.org/p> "CANARY-{secrets.token_hex(8)}" .\n')
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    environment = {
        **os.environ, "ILOKG_STORE_DIR": str(folder / "store"), "ILOKG_TOKENS_FILE": str(folder / "tokens.json"),
        "ILOKG_SUBMISSION_RATE": "100000/minute", "ILOKG_VALIDATION_RATE": "100000/minute", "ILOKG_LOG_FORMAT": "text",
        **(env or {}),
    }
    process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(port)], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield process, Context(url, f"http://127.0.0.1:{listener.getsockname()[1]}/", canary, token)
    finally:
        process.terminate()
        process.wait()
        listener.close()


def send(context: Context, case: Case) -> int:
    """Send one case of the corpus; the status it got."""
    request = case.build(context)
    return httpx.request(request.method, context.url + request.path, timeout=60, **request.kwargs).status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8794)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    rows = []
    with hostile_server(args.port) as (_, context):
        for case in CASES:
            started = time.perf_counter()
            status = send(context, case)
            rows.append((case, time.perf_counter() - started, status))
    over = [(c.name, t) for c, t, _ in rows if t > GOAL_SECONDS]
    wrong = [(c.name, s) for c, _, s in rows if s != c.status]
    times = sorted(t for _, t, _ in rows)
    lines = [
        "# Hostile inputs: time to answer",
        "",
        f"`python -m bench.hostile` on {os.cpu_count()} cores: each of the {len(rows)} HTTP cases of "
        "tests/security/corpus.py sent once, one after another, to a server with the bundled data.",
        "",
        "| cases | median s | slowest s | slowest case | over 2 s | unexpected status |",
        "|---:|---:|---:|---|---:|---:|",
        f"| {len(rows)} | {times[len(times) // 2]:.3f} | {times[-1]:.2f} | "
        f"{max(rows, key=lambda r: r[1])[0].name} | {len(over)} | {len(wrong)} |",
        "",
        *(f"- over the goal: {name} ({t:.2f} s)" for name, t in over),
        *(f"- unexpected status: {name} ({status})" for name, status in wrong),
    ]
    publish(lines, args.write)


if __name__ == "__main__":
    main()
