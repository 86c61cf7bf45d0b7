"""Configurations `ilo-kg serve` refuses, and the logs it writes."""

import json
import os
import pty
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from server.http.app import create_app
from server.settings import Settings
from server.submissions.tokens import Role, TokenRegistry
from tests.support.problems import problem
from tests.support.servers import RunningServer, free_port, run_cli


def test_a_public_bind_without_tokens_and_an_internal_allowlist_are_refused(tmp_path: Path) -> None:
    result = run_cli("serve", env={
        "ILOKG_HOST": "0.0.0.0", "ILOKG_TOKENS_FILE": str(tmp_path / "none.json"),
        "ILOKG_STORE_DIR": str(tmp_path / "store"),
        "ILOKG_SERVICE_ALLOWLIST": '["http://127.0.0.1:8080/sparql", "ftp://example.org/"]',
    })
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "refusing to start: ILOKG_SERVICE_ALLOWLIST holds 'ftp://example.org/', which is not an http(s) URL of a "
        "SPARQL endpoint.",
        "refusing to start: the server would listen on 0.0.0.0 (reachable from other machines) with submissions "
        "enabled but no token issued: issue one (ilo-kg token add NAME) or set ILOKG_SUBMISSIONS_ENABLED=false for a "
        "read-only server.",
        "refusing to start: the server would listen on 0.0.0.0 (reachable from other machines), and "
        "ILOKG_SERVICE_ALLOWLIST lets queries call http://127.0.0.1:8080/sparql, on this machine or a private network: "
        "anyone could then reach it through SERVICE. Allow only public endpoints.",
    ]
    assert not (tmp_path / "store").exists()  # refused before anything was opened


def test_a_tokens_file_others_can_read_is_refused_on_a_public_bind(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    TokenRegistry(tokens).issue("alice", Role.SUBMITTER)
    tokens.chmod(0o644)
    result = run_cli("serve", env={"ILOKG_HOST": "0.0.0.0", "ILOKG_TOKENS_FILE": str(tokens),
                                   "ILOKG_STORE_DIR": str(tmp_path / "store")})
    assert result.returncode == 2
    assert result.stderr == (f"refusing to start: the server would listen on 0.0.0.0 (reachable from other machines), and "
                             f"the tokens file {tokens} is readable by other users: chmod 600 it.\n")


def test_a_folder_of_submitted_files_holding_anything_else_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    # The server removes what no submission left in that folder at start: ILOKG_SUBMISSIONS_DIR set to a folder of
    # someone's deleted its subfolders (photos/ went, todo.txt stayed).
    mine = tmp_path / "mine"
    (mine / "photos").mkdir(parents=True)
    (mine / "photos" / "a.jpg").write_bytes(b"a picture")
    (mine / "todo.txt").write_text("someone's notes\n", encoding="utf-8")
    (mine / "2026-01-01-0a1b2c3d").mkdir()  # a submission's folder is no reason to refuse
    (mine / "lost+found").mkdir()  # nor a file system's own entries
    (mine / ".nfs000000000001").write_bytes(b"")
    (mine / "2026-01-01-0A1B2C3D").mkdir()  # but an id in capitals is none of ours
    (tmp_path / "a-file").write_text("someone's file\n", encoding="utf-8")
    before = sorted((p.relative_to(tmp_path).as_posix(), p.read_bytes() if p.is_file() else b"") for p in tmp_path.rglob("*"))
    for folder, said in (
        (mine, "holds 2026-01-01-0A1B2C3D, photos, todo.txt, which no submission wrote: the server removes what is "
               "left over there, so set ILOKG_SUBMISSIONS_DIR to a folder of its own (it is made)"),
        (tmp_path / "a-file", "is a file: set ILOKG_SUBMISSIONS_DIR to a folder of its own (it is made)"),
    ):
        result = run_cli("serve", "--port", "1", env={"ILOKG_SUBMISSIONS_DIR": str(folder),
                                                      "ILOKG_STORE_DIR": str(tmp_path / "var" / "store")})
        assert (result.returncode, result.stdout, result.stderr) == (
            2, "", f"refusing to start: the folder of submitted files {folder} {said}. Nothing was changed\n")
    assert sorted((p.relative_to(tmp_path).as_posix(), p.read_bytes() if p.is_file() else b"")
                  for p in tmp_path.rglob("*") if not p.is_relative_to(tmp_path / "var")) == before


# Tokens files that `ilo-kg token` did not write: (content, why it cannot be read)
_BROKEN_TOKENS = [
    (b"hello\n", "Expecting value: line 1 column 1 (char 0)"),
    (b"\xff\xfe{}", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    (b"[1]", "not the shape `ilo-kg token` writes: 'list' object has no attribute 'get'"),
    (b'{"tokens": [1]}', "not the shape `ilo-kg token` writes: server.submissions.tokens.TokenEntry() argument after ** "
                         "must be a mapping, not int"),
    (b'{"tokens": [{"name": "a"}]}', "not the shape `ilo-kg token` writes: TokenEntry.__init__() missing 3 required "
                                     "positional arguments: 'role', 'sha256', and 'created'"),
    (b'{"tokens": [{"name": "a", "role": "king", "sha256": "x", "created": "y"}]}',
     "not the shape `ilo-kg token` writes: 'king' is not a valid Role"),
    (b'{"tokens": [{"name": 1, "role": "submitter", "sha256": "x", "created": "y"}]}',
     "not the shape `ilo-kg token` writes: a value that is not a string"),
]


def _unreadable_tokens(path: Path, why: str) -> str:
    return (f"the tokens file {path} cannot be read ({why}); it is written by `ilo-kg token add`: restore it, or name "
            "another with ILOKG_TOKENS_FILE. Nothing was changed")


@pytest.mark.parametrize(("content", "why"), _BROKEN_TOKENS, ids=[str(n) for n in range(len(_BROKEN_TOKENS))])
def test_a_tokens_file_that_cannot_be_read_is_named_by_every_command_and_left_as_it_was(
    tmp_path: Path, content: bytes, why: str,
) -> None:
    # Each was a traceback (token commands, serve) or a 500 on every submission.
    tokens = tmp_path / "tokens.json"
    tokens.write_bytes(content)
    env = {"ILOKG_TOKENS_FILE": str(tokens), "ILOKG_STORE_DIR": str(tmp_path / "store")}
    for args, prefix in ((("token", "list"), "error: "), (("token", "add", "alice"), "error: "),
                         (("token", "revoke", "alice"), "error: "), (("serve", "--port", "1"), "refusing to start: ")):
        result = run_cli(*args, env=env)
        assert (result.returncode, result.stdout, result.stderr) == (2, "", f"{prefix}{_unreadable_tokens(tokens, why)}\n")
    assert tokens.read_bytes() == content


def test_a_tokens_file_broken_under_a_running_server_gives_503_until_it_is_put_right(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    token = TokenRegistry(tokens).issue("alice", Role.SUBMITTER)
    good = tokens.read_bytes()
    server = RunningServer(tmp_path / "store", {"ILOKG_TOKENS_FILE": str(tokens)}).start()
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
        assert httpx.post(server.url + "/submissions", content=b"", headers=headers).status_code == 400  # checked
        tokens.write_bytes(b"{ half a file")
        refused = httpx.post(server.url + "/submissions", content=b"", headers=headers)
        assert problem(refused) == (503, "Tokens cannot be checked now: this server's tokens file cannot be read. The "
                                         "operator has been told (in the log); try again later.")
        assert refused.headers["retry-after"] == "60"
        tokens.write_bytes(good)
        assert httpx.post(server.url + "/submissions", content=b"", headers=headers).status_code == 400
    finally:
        server.stop()


_NOT_AN_ADDRESS = ("is not an IP address or network (such as 10.0.0.0/8): list the addresses your proxies connect from; "
                   "host names and '*' are not taken, since anyone could then name their own address.")


@pytest.mark.parametrize(("command", "setting", "value", "message"), [
    ("serve", "ILOKG_PORT", "abc", "ILOKG_PORT='abc': Input should be a valid integer, unable to parse string as an integer."),
    ("load", "ILOKG_QUERY_WORKERS", "0", "ILOKG_QUERY_WORKERS='0': Input should be greater than or equal to 1."),
    ("serve", "ILOKG_TRUSTED_PROXIES", '["*"]', f"ILOKG_TRUSTED_PROXIES=[\"*\"]: '*' {_NOT_AN_ADDRESS}"),
    ("serve", "ILOKG_TRUSTED_PROXIES", '["10.0.0.0/8", "balancer.internal"]',
     f"ILOKG_TRUSTED_PROXIES=[\"10.0.0.0/8\", \"balancer.internal\"]: 'balancer.internal' {_NOT_AN_ADDRESS}"),
    ("serve", "ILOKG_TRUSTED_PROXIES", '["10.0.0.0/33"]',
     f"ILOKG_TRUSTED_PROXIES=[\"10.0.0.0/33\"]: '10.0.0.0/33' {_NOT_AN_ADDRESS}"),
    *[("serve", "ILOKG_PUBLIC_URL", url, f"ILOKG_PUBLIC_URL='{url}': '{url}' is not the origin of a web address: write "
       "scheme, host and port only, such as https://kg.example.org or http://203.0.113.5:8080 (the server is served "
       "from its root; a host name in other scripts in its punycode form).")
      for url in ("kg.example.org", "ftp://kg.example.org", "https://kg.example.org/kg/", "https://kg.example.org?x",
                  "https://user@kg.example.org", "https://kg.example.org:port", "https://kg.exämple.org")],
    ("token", "ILOKG_TRUSTED_PROXIES", "127.0.0.1",
     "ILOKG_TRUSTED_PROXIES is not valid JSON; write it as a JSON list or object, e.g. '[\"…\"]'."),
])
def test_a_setting_that_cannot_be_read_is_named_with_what_is_wrong(
    tmp_path: Path, command: str, setting: str, value: str, message: str,
) -> None:
    args = ("token", "list") if command == "token" else (command,)
    result = run_cli(*args, env={setting: value, "ILOKG_STORE_DIR": str(tmp_path / "store")})
    assert (result.returncode, result.stderr, result.stdout) == (2, f"ilo-kg: {message}\n", "")
    assert not (tmp_path / "store").exists()  # refused before anything was opened


def test_the_log_is_json_lines_with_the_request_id(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port)], stdout=log, stderr=log,
        env={**os.environ, "ILOKG_STORE_DIR": str(tmp_path / "store"), "ILOKG_SUBMISSIONS_ENABLED": "false"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        # Its own answer: a server that could not bind the port exits, and whatever holds the port answers instead.
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        assert process.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
        response = httpx.get(url + "/sparql", params={"query": "ASK {}"}, headers={"X-Request-ID": "trace-me-42"})
        assert response.headers["x-request-id"] == "trace-me-42"
        refused = httpx.post(url + "/submissions", content=b"", headers={"Content-Type": "text/turtle"})
        assert problem(refused) == (
            403, "This server does not accept submissions (it is a read-only copy of the graph).")
    finally:
        # A graceful stop finishes the requests in flight, and with them their access records.
        process.terminate()
        process.wait()
        log.close()
    records = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    access = [r for r in records if r.get("request_id") == "trace-me-42"]
    assert len(access) == 1
    assert {k: access[0][k] for k in ("logger", "method", "path", "status", "client")} == {
        "logger": "ilokg.access", "method": "GET", "path": "/sparql", "status": 200, "client": "127.0.0.1"}


def test_an_unexpected_error_is_a_plain_500_with_the_request_id(tmp_path: Path) -> None:
    # The one way to reach the catch-all handler is an error of ours: a route that fails is
    # added to the real application, served by a real uvicorn.
    settings = Settings(store_dir=tmp_path / "store", tokens_file=tmp_path / "tokens.json", log_format="text")
    app = create_app(settings)

    async def failing() -> None:
        raise RuntimeError(f"an internal detail at {tmp_path}")

    app.add_api_route("/failing-on-purpose", failing)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        response = httpx.get(f"http://127.0.0.1:{port}/failing-on-purpose", headers={"X-Request-ID": "req-500-test"})
        assert response.status_code == 500
        assert problem(response)[1] == (
            "The server could not answer this request (an error of ours, not of the request). Request id: "
            "req-500-test; the operator can find it in the log."
        )
        assert response.headers["x-request-id"] == "req-500-test"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        # The server goes on answering.
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=30)


_LOG_ONE_LINE = ("import logging; from server.logs import configure; configure('auto'); "
                 "logging.getLogger('ilokg.test').info('hello')")


@pytest.mark.parametrize("terminal", [True, False])
def test_logs_are_text_on_a_terminal_and_json_lines_otherwise(terminal: bool) -> None:
    if terminal:
        controller, attached = pty.openpty()
        subprocess.run([sys.executable, "-c", _LOG_ONE_LINE], stderr=attached, timeout=60, check=True)
        os.close(attached)
        output = b""
        while not output.endswith(b"\n"):
            output += os.read(controller, 4096)
        os.close(controller)
        line = output.decode().strip()
        assert line.endswith(" INFO ilokg.test: hello") and not line.startswith("{")
    else:
        process = subprocess.run([sys.executable, "-c", _LOG_ONE_LINE], capture_output=True, timeout=60, check=True)
        record = json.loads(process.stderr)
        assert {k: record[k] for k in ("level", "logger", "message")} == {
            "level": "INFO", "logger": "ilokg.test", "message": "hello"}
