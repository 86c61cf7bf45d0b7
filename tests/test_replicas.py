"""Stateless replicas: two servers sharing one external store (`oxigraph serve`), directly and behind a real HAProxy.

The data version lives in the store, so each replica follows the other's writes; submissions take the store's write
lease, so they are applied one at a time across replicas; the balancer's example configuration
(examples/deploy/haproxy.cfg) is run as shipped, with this test's ports.
"""

import hashlib
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from server.submissions.tokens import Role, TokenRegistry
from tests.support.balancer import start_haproxy
from tests.support.engines import Engine, start_oxigraph
from tests.support.servers import EXAMPLES, RunningServer, free_port

NEW_PROJECT = EXAMPLES / "first-submission.ttl"
TURTLE = {"Content-Type": "text/turtle"}


def variant(number: int) -> bytes:
    """The example submission with IRIs and labels of its own."""
    text = NEW_PROJECT.read_text(encoding="utf-8")
    return text.replace("green-jobs", f"green-jobs-r{number}").replace("in the Mekong", f"in the Mekong (r{number})").encode()


def wait_for(condition, what: str, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Wait for an event (a condition that becomes true), polling; fail with what was awaited."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {seconds} s: {what}")
        time.sleep(0.05)


@dataclass
class Deployment:
    engine: Engine
    replicas: list[RunningServer]
    token: str
    balancer: subprocess.Popen[bytes] | None = None
    front: str = ""
    stats: str = ""
    folder: Path = field(default_factory=Path)

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def replica_status(self, name: str) -> str:
        """The balancer's view of one replica: UP, DOWN, …"""
        lines = httpx.get(self.stats + "/stats;csv", timeout=5).text.splitlines()
        header = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == "replicas" and row.get("svname") == name:
                return row["status"]
        raise AssertionError(f"the balancer does not list {name}")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("replicas")
    engine = start_oxigraph(folder / "engine")
    token = TokenRegistry(folder / "tokens.json").issue("alice", Role.SUBMITTER)
    shared = {
        **engine.env, "ILOKG_TOKENS_FILE": str(folder / "tokens.json"),
        # One folder of submitted files for both (on several hosts: a shared file system).
        "ILOKG_SUBMISSIONS_DIR": str(folder / "submissions"),
        "ILOKG_SUBMISSION_RATE": "1000/minute", "ILOKG_VALIDATION_RATE": "1000/minute",
        "ILOKG_STORE_POLL_SECONDS": "0.2", "ILOKG_STORE_LEASE_SECONDS": "3",
        # The balancer connects from here: the replicas believe its X-Forwarded-For (the README's deployment).
        "ILOKG_TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    replicas = [RunningServer(folder / f"replica{n}" / "store", shared) for n in (1, 2)]
    for replica in replicas:
        replica.start()
    deployment = Deployment(engine, replicas, token, folder=folder)
    yield deployment
    if deployment.balancer is not None:
        deployment.balancer.terminate()
        deployment.balancer.wait(timeout=20)
    for replica in replicas:
        replica.stop()
    engine.stop()


def submissions(url: str) -> list[dict[str, object]]:
    return httpx.get(url + "/submissions", timeout=30).json()["submissions"]


def test_a_write_through_one_replica_is_followed_by_the_other(deployment: Deployment) -> None:
    first, second = deployment.replicas
    query = {"query": "SELECT ?p WHERE { <https://example.org/partner-data/green-jobs-r1-project> ?p ?o }"}
    before = httpx.get(second.url + "/sparql", params=query, headers={"Accept": "text/csv"})
    assert before.status_code == 200 and before.text == "p\r\n"
    created = httpx.post(first.url + "/submissions", content=variant(1), headers={**TURTLE, **deployment.auth()}, timeout=60)
    assert created.status_code == 201, created.text
    record = created.json()
    # The other replica follows the store's data version: its record list, its answers and their ETags change.
    wait_for(lambda: any(r["id"] == record["id"] for r in submissions(second.url)), "the second replica lists it")
    after = httpx.get(second.url + "/sparql", params=query, headers={"Accept": "text/csv"})
    assert after.text.count("\r\n") > 1 and after.headers["etag"] != before.headers["etag"]
    versions = {httpx.get(r.url + "/health").json()["dataVersion"] for r in deployment.replicas}
    assert len(versions) == 1
    fetched = httpx.get(second.url + f"/submissions/{record['id']}/original")
    assert fetched.status_code == 200 and fetched.content == variant(1)
    withdrawn = httpx.delete(second.url + f"/submissions/{record['id']}", headers={"Authorization": "x"})
    assert withdrawn.status_code == 401


def test_submissions_sent_to_both_replicas_at_once_land_exactly_once(deployment: Deployment) -> None:
    files = {n: variant(n) for n in range(10, 18)}
    outcomes: dict[int, list[int]] = {n: [] for n in files}

    def send(number: int, replica: RunningServer) -> None:
        response = httpx.post(replica.url + "/submissions", content=files[number],
                              headers={**TURTLE, **deployment.auth()}, timeout=120)
        outcomes[number].append(response.status_code)

    # Each file to both replicas at the same moment: one stores it, the other finds it stored.
    threads = [threading.Thread(target=send, args=(n, r)) for n in files for r in deployment.replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: sorted(codes) for n, codes in outcomes.items()} == {n: [200, 201] for n in files}
    listed = submissions(deployment.replicas[0].url)
    digests = [r["sha256"] for r in listed]
    assert len(digests) == len(set(digests))
    assert {hashlib.sha256(data).hexdigest() for data in files.values()} <= set(digests)


def _start_balancer(deployment: Deployment) -> None:
    if deployment.balancer is not None:
        return
    front, stats = free_port(), free_port()
    deployment.balancer = start_haproxy(deployment.folder, front, stats, [r.port for r in deployment.replicas])
    deployment.front, deployment.stats = f"http://127.0.0.1:{front}", f"http://127.0.0.1:{stats}"

    def both_up() -> bool:
        try:
            return all(deployment.replica_status(f"replica{n}") == "UP" for n in (1, 2))
        except (httpx.TransportError, IndexError):
            return False

    wait_for(both_up, "the balancer sees both replicas up")


def _logged_clients(deployment: Deployment, prefix: str) -> dict[str, str]:
    """The client address each replica's access log gives the requests whose id starts with prefix."""
    clients = {}
    for n in (1, 2):
        for line in (deployment.folder / f"replica{n}" / "server.log").read_text(errors="replace").splitlines():
            if line.startswith("{") and (entry := json.loads(line)).get("request_id", "").startswith(prefix):
                clients[entry["request_id"]] = entry["client"]
    return clients


def test_behind_the_balancer_a_replica_sees_each_client_and_not_what_it_claims(deployment: Deployment) -> None:
    _start_balancer(deployment)
    claims = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "Accept": "text/turtle"}
    sent = {}
    for source in ("127.0.0.2", "127.0.0.3"):  # two clients; two requests each, so that both replicas answer them
        with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as client:
            for n in range(2):
                request_id = f"client-address-{source}-{n}"
                answer = client.get(deployment.front + "/.well-known/void", headers={**claims, "X-Request-ID": request_id})
                assert answer.status_code == 200
                # The scheme the balancer says the client used, not the one the client claimed.
                assert f"void:sparqlEndpoint <{deployment.front}/sparql>" in answer.text
                sent[request_id] = source
    wait_for(lambda: _logged_clients(deployment, "client-address-") == sent, "the replicas log each request's client")


def test_a_replica_killed_under_load_loses_no_submission_and_the_survivor_serves_everything(
    deployment: Deployment,
) -> None:
    _start_balancer(deployment)
    marked_down = threading.Event()
    lock = threading.Lock()
    results: list[tuple[str, bool, int]] = []  # (kind, sent after the balancer marked the replica down, status)
    acknowledged: dict[str, bytes] = {}
    stop = threading.Event()
    counter = iter(range(100, 10_000))

    def client(kind: str) -> None:
        with httpx.Client(timeout=120) as http:
            while not stop.is_set():
                after = marked_down.is_set()
                status = 0  # no answer at all (the connection closed)
                try:
                    if kind == "read":
                        status = http.get(deployment.front + "/queries/projects", params={"format": "csv"}).status_code
                    else:
                        with lock:
                            number = next(counter)
                        data = variant(number)
                        response = http.post(deployment.front + "/submissions", content=data,
                                             headers={**TURTLE, **deployment.auth()})
                        status = response.status_code
                        if status in (200, 201):
                            with lock:
                                acknowledged[response.json()["id"]] = data
                except httpx.TransportError:
                    pass
                with lock:
                    results.append((kind, after, status))

    clients = [threading.Thread(target=client, args=(kind,)) for kind in ("read", "read", "read", "write", "write")]
    for thread in clients:
        thread.start()
    wait_for(lambda: sum(1 for k, _, _ in results if k == "write") >= 4, "some submissions through the balancer")
    deployment.replicas[0].process.kill()  # type: ignore[union-attr]
    wait_for(lambda: deployment.replica_status("replica1").startswith("DOWN"), "the balancer marks replica1 down")
    marked_down.set()
    wait_for(lambda: sum(1 for k, after, _ in results if after and k == "write") >= 4
             and sum(1 for k, after, _ in results if after and k == "read") >= 30,
             "reads and submissions after replica1 was marked down", seconds=120)
    stop.set()
    for thread in clients:
        thread.join()

    after = [(kind, status) for kind, later, status in results if later]
    assert after and all(status in (200, 201) for _, status in after), after
    # Every acknowledged submission is there, once, with the content that was sent.
    survivor = deployment.replicas[1].url
    listed = {r["id"]: r for r in submissions(survivor)}
    assert set(acknowledged) <= set(listed)
    for identifier, data in acknowledged.items():
        assert listed[identifier]["sha256"] == hashlib.sha256(data).hexdigest()
    digests = [r["sha256"] for r in listed.values()]
    assert len(digests) == len(set(digests))
    # The survivor answers the canned query with the submitted projects in it.
    rows = httpx.get(deployment.front + "/queries/projects", params={"format": "csv", "limit": "1000"}).text
    assert all(re.search(rf"green-jobs-r{n}-project", rows) for n in range(100, 102))
