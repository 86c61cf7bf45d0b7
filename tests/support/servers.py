"""Real servers and the command line, run as a user runs them: `ilo-kg serve` and `ilo-kg …` in processes of their own."""

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from server.settings import Settings
from server.submissions.tokens import Role, TokenRegistry
from tests.support.processes import stop

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Example files for users (the README's walkthrough), which the tests use as they are.
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def copy_project(settings: Settings, folder: Path) -> dict[str, str]:
    """A private copy of the project's ontology/, shapes/ and data/ in folder; the environment that points at it."""
    env = {}
    for name in ("ontology", "shapes", "data"):
        shutil.copytree(getattr(settings, f"{name}_dir"), folder / name)
        env[f"ILOKG_{name.upper()}_DIR"] = str(folder / name)
    return env


def run_cli(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ilo-kg command line in a fresh process, as a user would, with extra environment."""
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True, text=True, timeout=timeout, check=False, env={**os.environ, **(env or {})},
    )


class RunningServer:
    """A real `ilo-kg serve` process on 127.0.0.1, with its own store folder."""

    def __init__(self, store_dir: Path, env: dict[str, str] | None = None):
        self.store_dir = store_dir
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.backend = "embedded"  # the kind of store behind it (see tests/conftest.py)

    def start(self) -> "RunningServer":
        environment = {**os.environ, "ILOKG_STORE_DIR": str(self.store_dir), **self.env}
        self.store_dir.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port)],
            # Its log beside its store, for whoever reads a failure.
            env=environment, stdout=subprocess.DEVNULL, stderr=(self.store_dir.parent / "server.log").open("ab"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not become healthy within 60 s")

    def stop(self) -> None:
        stop(self.process)


@contextlib.contextmanager
def project_served_with(settings: Settings, folder: Path, data: dict[str, str]) -> Iterator[RunningServer]:
    """A server over a copy of the project whose data/ holds more files (name: Turtle), loaded as `ilo-kg load` loads
    an operator's own files: as they are, unvalidated. Its env points at the copy."""
    env = copy_project(settings, folder)
    for name, text in data.items():
        (folder / "data" / name).write_text(text, encoding="utf-8")
    loaded = run_cli("load", env={**env, "ILOKG_STORE_DIR": str(folder / "store")})
    assert loaded.returncode == 0, loaded.stderr
    server = RunningServer(folder / "store", env).start()
    try:
        yield server
    finally:
        server.stop()


def _port_block() -> range:
    """The ports this test process gives its servers: a block of its own (one per pytest-xdist worker) below the
    range the kernel takes ports of outgoing connections from. A port from bind(0) is of that range, so a client
    connection of any process could take it between its choice and the server's bind (which then fails)."""
    try:
        outgoing_from = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        outgoing_from = 32768
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    size = min(2000, (outgoing_from - 10000) // max(workers, 1))
    return range(10000 + worker * size, 10000 + (worker + 1) * size) if size >= 100 else range(0)


_ports = itertools.count()


def free_port() -> int:
    """A loopback port no one listens on, for a server a test starts (see _port_block)."""
    block = _port_block()
    for _ in range(len(block)):
        port = block[next(_ports) % len(block)]
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:  # no block below that range on this machine: any port
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SubmissionServer(RunningServer):
    """A server that accepts submissions, with tokens issued to two submitters and an operator."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None):
        registry = TokenRegistry(folder / "tokens.json")
        self.tokens = {
            "alice": registry.issue("alice", Role.SUBMITTER),
            "bob": registry.issue("bob", Role.SUBMITTER),
            "operator": registry.issue("operator", Role.OPERATOR),
        }
        super().__init__(folder / "store", {"ILOKG_TOKENS_FILE": str(folder / "tokens.json"), **(env or {})})

    def auth(self, who: str) -> dict[str, str]:
        """The Authorization header of one of the token holders."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def stored(server: RunningServer) -> tuple[str, int, int]:
    """What a write would change in the store: the data version, triple and graph counts (not the worker load in
    /health, which other tests' requests on the same server move)."""
    health = httpx.get(server.url + "/health").json()
    return health["dataVersion"], health["triples"], health["graphs"]


def state(server: SubmissionServer) -> tuple[str, int, list[str]]:
    """What must not change when a request is refused: the data version, triple count and submissions."""
    version, triples, _ = stored(server)
    listed = [s["id"] for s in httpx.get(server.url + "/submissions").json()["submissions"]]
    return version, triples, listed


def withdraw_all(server: SubmissionServer) -> None:
    """Withdraw every submission, those that others depend on after those others (each round frees some)."""
    while records := httpx.get(server.url + "/submissions").json()["submissions"]:
        statuses = [httpx.delete(server.url + r["links"]["self"], headers=server.auth("operator"), timeout=60).status_code
                    for r in records]
        assert set(statuses) <= {204, 409} and 204 in statuses, statuses
