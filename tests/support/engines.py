"""External SPARQL engines run by the tests: `oxigraph serve` and Virtuoso Open Source 7, each in a temporary
folder on loopback ports of its own, started and stopped as an operator would."""

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.processes import stop
from tests.support.servers import free_port

VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"


@dataclass
class Engine:
    """A running engine: its name, the settings that point the server at it, and its process."""

    name: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    folder: Path
    sql_port: int | None = None  # Virtuoso's SQL port (isql)

    def stop(self) -> None:
        stop(self.process, seconds=30)


def _wait(url: str, process: subprocess.Popen[bytes], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer within {seconds} s")


def oxigraph_command() -> str:
    """The `oxigraph` command of the PyPI package installed beside this Python (its loader and its server)."""
    return shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"


def start_oxigraph(folder: Path, timeout_seconds: int | None = 10) -> Engine:
    """`oxigraph serve` (the PyPI package's command) on an on-disk store, with its own query deadline (None: none)."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [oxigraph_command(), "serve", "--location", str(folder / "store"), "--bind", f"127.0.0.1:{port}",
         *(["--timeout-s", str(timeout_seconds)] if timeout_seconds is not None else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    _wait(base + "/query?query=ASK%7B%7D", process, "oxigraph serve")
    env = {"ILOKG_STORE_URL": base + "/query", "ILOKG_STORE_UPDATE_URL": base + "/update",
           "ILOKG_STORE_GRAPH_STORE_URL": base + "/store"}
    return Engine("oxigraph", env, process, folder)


_VIRTUOSO_INI = """[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = {sql_port}
ServerThreads = 10
CheckpointInterval = 60
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
DirsAllowed = ., {folder}
; One update may write this much (the default, 50 MB, refused rebuilding the union of a million triples).
TransactionAfterImageLimit = 2000000000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerThreads = 10
MaxClientConnections = 10
KeepAliveTimeout = 10

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = {timeout}
MaxQueryCostEstimationTime = 0
DefaultGraph =
"""

# Anonymous /sparql may read and nothing more (no update, no federated SERVICE or FROM of the web: 1 = read only).
_READ_ONLY = "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 1); DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('SPARQL', 1);"


def start_virtuoso(folder: Path, timeout_seconds: int = 10, buffers: int = 20_000) -> Engine:
    """Virtuoso Open Source 7 (Debian's virtuoso-opensource) on a database of its own, SQL and HTTP on loopback;
    `buffers` of 8 KiB each (Virtuoso's guide: 340,000 for 4 GB of memory)."""
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(
        _VIRTUOSO_INI.format(folder=folder, sql_port=sql_port, http_port=http_port, timeout=timeout_seconds,
                             buffers=buffers, dirty=buffers * 3 // 4)
    )
    process = subprocess.Popen([VIRTUOSO, "-f", "-c", str(folder / "virtuoso.ini")], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http_port}"
    _wait(base + "/sparql?query=ASK%7B%7D", process, "Virtuoso")
    engine = Engine("virtuoso", {}, process, folder, sql_port)
    virtuoso_sql(engine, _READ_ONLY)
    env = {"ILOKG_STORE_URL": base + "/sparql", "ILOKG_STORE_UPDATE_URL": base + "/sparql-auth",
           "ILOKG_STORE_GRAPH_STORE_URL": base + "/sparql-graph-crud-auth", "ILOKG_STORE_USER": "dba",
           "ILOKG_STORE_PASSWORD": "dba", "ILOKG_STORE_AUTH": "digest"}
    engine.env = env
    return engine


def virtuoso_sql(engine: Engine, statements: str, timeout: float = 60) -> str:
    """Run SQL statements in a running Virtuoso (isql-vt as dba); their output."""
    done = subprocess.run([ISQL, str(engine.sql_port), "dba", "dba", f"exec={statements}"], check=True,
                          capture_output=True, timeout=timeout, env={**os.environ})
    return done.stdout.decode("utf-8", "replace")


# The kinds of store the server runs on: its own embedded one, and two external SPARQL engines.
BACKENDS = ("embedded", "oxigraph", "virtuoso")


@contextlib.contextmanager
def backend(name: str, folder: Path) -> Iterator[dict[str, str]]:
    """The server settings for a store of this kind, its engine running (in folder) until the block ends."""
    if name == "embedded":
        yield {}
        return
    engine = (start_oxigraph if name == "oxigraph" else start_virtuoso)(folder)
    try:
        yield engine.env
    finally:
        engine.stop()
