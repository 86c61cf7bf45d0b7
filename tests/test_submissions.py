"""Submissions through a real server: validated, stored whole with provenance, queryable at once;
refused with the expected finding and nothing stored; tokens; replace and withdraw; the same file
twice; a burst of concurrent submissions; SIGKILL right after a 201."""

import hashlib
import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Literal
from rdflib.namespace import SH

from server.settings import Settings
from tests.support.engines import BACKENDS, backend
from tests.support.problems import problem
from tests.support.servers import EXAMPLES, FIXTURES, RunningServer, SubmissionServer, copy_project, run_cli, state, stored
from tests.support.submissions import large_programme, programmes

NEW_PROJECT = EXAMPLES / "first-submission.ttl"
PROJECT_IRI = "https://example.org/partner-data/green-jobs-project"
TURTLE = {"Content-Type": "text/turtle"}
MISSING_LABEL = 'Needs exactly one English name: rdfs:label "…"@en.'
# Invalid shape fixtures whose finding is a violation: each must be refused. (Those of
# SubmissionShape describe submission records, which no submission may; they are tested apart.)
REFUSED = sorted(
    path
    for path in (FIXTURES / "shapes").glob("*/invalid-*.ttl")
    if json.loads(path.with_suffix(".expected.json").read_text())["severity"] == "Violation"
    and path.parent.name != "SubmissionShape"
)


def variant(number: int) -> bytes:
    """The one-project submission with IRIs and labels of its own."""
    text = NEW_PROJECT.read_text(encoding="utf-8")
    return text.replace("green-jobs", f"green-jobs-{number}").replace("in the Mekong", f"in the Mekong ({number})").encode()


def post(server: SubmissionServer, path: str, data: bytes, headers: dict[str, str], **kwargs: object) -> httpx.Response:
    return httpx.post(server.url + path, content=data, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]


def submit(server: SubmissionServer, data: bytes, who: str = "alice", name: str | None = None) -> httpx.Response:
    headers = {**TURTLE, **server.auth(who)}
    if name:
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return post(server, "/submissions", data, headers)


def ask(server: SubmissionServer, query: str) -> bool:
    response = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def test_the_invalid_fixtures_were_found() -> None:
    assert len(REFUSED) >= 60


def test_a_valid_submission_is_stored_with_its_provenance_and_queryable_at_once(clean: SubmissionServer) -> None:
    data = NEW_PROJECT.read_bytes()
    before = state(clean)
    # Asked before the submission, so that the answer as sent is kept: it must not be served after.
    rows = httpx.get(clean.url + "/queries/projects", params={"country": "KH", "format": "rows"}).json()["rows"]
    assert "Green jobs for young people in the Mekong" not in [row["label"] for row in rows]
    response = submit(clean, data, name="new-project.ttl")
    assert response.status_code == 201, response.text
    record = response.json()
    assert response.headers["location"] == f"/submissions/{record['id']}"
    assert {k: record[k] for k in ("submitter", "sha256", "mediaType", "fileName", "triples", "warnings", "modified")} == {
        "submitter": "alice",
        "sha256": hashlib.sha256(data).hexdigest(),
        "mediaType": "text/turtle",
        "fileName": "new-project.ttl",
        "triples": 48,
        "warnings": 0,
        "modified": None,
    }
    assert httpx.get(clean.url + response.headers["location"]).json() == record
    # The store grew by the 48 triples and the 11 of the record, and its version changed.
    after = state(clean)
    assert after[1] == before[1] + 59 and after[0] != before[0] and after[2] == [record["id"]]
    assert ask(
        clean,
        f'ASK {{ <{PROJECT_IRI}> <http://www.w3.org/2000/01/rdf-schema#label> "Green jobs for young people in the Mekong"@en }}',
    )
    assert ask(
        clean,
        f"""PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX ilop: <https://w3id.org/ilo-partnerships/ontology#>
        ASK {{ GRAPH <{record["graph"]}> {{ <{record["iri"]}> a ilop:Submission ;
            prov:wasAttributedTo <https://w3id.org/ilo-partnerships/id/submitter/alice> ;
            ilop:contentSha256 "{record["sha256"]}" ; dcterms:format "text/turtle" ; ilop:fileName "new-project.ttl" ;
            ilop:tripleCount 48 ; ilop:warningCount 0 .
            <{PROJECT_IRI}> a ilop:Project }} }}""",
    )
    # The canned question about one partner's projects now lists it (MOEL funds it).
    rows = httpx.get(clean.url + "/queries/projects", params={"country": "KH", "format": "rows"}).json()["rows"]
    assert "Green jobs for young people in the Mekong" in [row["label"] for row in rows]
    original = httpx.get(clean.url + record["links"]["original"])
    assert original.content == data and original.headers["content-type"].startswith("text/turtle")
    report = httpx.get(clean.url + record["links"]["report"]).json()
    assert (report["conforms"], report["results"], report["triples"]) == (True, [], 48)


def test_the_content_comes_back_in_any_rdf_format_with_its_record(clean: SubmissionServer) -> None:
    record = submit(clean, NEW_PROJECT.read_bytes(), name="new-project.ttl").json()
    submitted = Graph().parse(NEW_PROJECT, format="turtle")
    for media_type, rdflib_format in (
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ):
        response = httpx.get(clean.url + record["links"]["content"], headers={"Accept": media_type})
        assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
        content = Graph().parse(data=response.content, format=rdflib_format)
        assert len(content) == 59
        # Compared by value: the store writes 1200000.0 as its canonical "1200000".
        assert _by_value(submitted) <= _by_value(content)


def _by_value(graph: Graph) -> set[tuple[object, ...]]:
    return {(s, p, o.toPython() if isinstance(o, Literal) else o) for s, p, o in graph}


def test_the_same_file_twice_is_recognised(clean: SubmissionServer) -> None:
    first = submit(clean, NEW_PROJECT.read_bytes())
    again = submit(clean, NEW_PROJECT.read_bytes())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.headers["location"] == first.headers["location"]
    other = submit(clean, NEW_PROJECT.read_bytes(), who="bob")
    assert other.status_code == 409
    assert problem(other)[1] == (f"The same file was submitted already, as submission {first.json()['id']} by alice.")
    assert state(clean)[2] == [first.json()["id"]]


@pytest.mark.parametrize("path", REFUSED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_invalid_file_is_refused_with_its_finding_and_nothing_is_stored(
    submission_server: SubmissionServer, path: Path
) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    before = state(submission_server)
    response = submit(submission_server, path.read_bytes(), name=path.name)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] == "The file does not conform to the shapes; nothing was stored."
    assert [{k: r[k] for k in expected} for r in body["results"]] == [expected]
    assert body["results"][0]["file"] == path.name and body["results"][0]["line"] >= 1
    assert state(submission_server) == before
    # /validate reports the same, and stores nothing either.
    checked = post(submission_server, "/validate", path.read_bytes(), TURTLE).json()
    assert [{k: r[k] for k in expected} for r in checked["results"]] == [expected]


def test_a_reference_to_nothing_is_reported_as_dangling(clean: SubmissionServer) -> None:
    text = NEW_PROJECT.read_text().replace("programme:ilo-korea-partnership-programme", "programme:no-such-programme")
    body = post(clean, "/validate", text.encode(), TURTLE).json()
    assert body["conforms"] is False
    assert [(r["path"], r["message"], r["line"]) for r in body["results"]] == [
        (
            "ilop:partOfProgramme",
            "ilop:partOfProgramme must point to an ilop:Programme. (programme:no-such-programme is described neither in "
            "the input nor in the graph it is validated against; a reference to something new needs its description.)",
            next(i for i, line in enumerate(text.splitlines(), 1) if "ilop:partOfProgramme" in line),
        )
    ]


def test_a_submission_may_not_describe_the_graphs_own_records_or_vocabulary(clean: SubmissionServer) -> None:
    text = (FIXTURES / "shapes" / "SubmissionShape" / "valid.ttl").read_text()
    text += '\n<https://w3id.org/ilo-partnerships/ontology#Project> <http://www.w3.org/2000/01/rdf-schema#label> "x"@en .\n'
    response = submit(clean, text.encode())
    assert response.status_code == 422
    reserved = [(r["focusNode"], r["line"]) for r in response.json()["results"] if r["shape"] == "(submission rules)"]
    assert reserved == [("submission:2026-11-22-0a1b2c3d", 10), ("submitter:koica-data", 20), ("ilop:Project", 22)]
    assert state(clean)[2] == []


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {},
            "Submitting needs a token: send the header 'Authorization: Bearer <token>'. "
            "Tokens are issued by the operator of this server.",
        ),
        (
            {"Authorization": "Bearer ilokg_not-a-token"},
            "The token is not valid (mistyped, or revoked); ask the operator for a new one.",
        ),
        ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, "The Authorization header must be 'Bearer <token>'."),
        ({"Authorization": "Bearer " + "x" * 5000}, "The Authorization header must be 'Bearer <token>'."),
    ],
    ids=["no-token", "wrong-token", "basic-auth", "huge-token"],
)
def test_submitting_without_a_valid_token_is_refused(clean: SubmissionServer, headers: dict[str, str], message: str) -> None:
    before = state(clean)
    response = post(clean, "/submissions", NEW_PROJECT.read_bytes(), {**TURTLE, **headers})
    assert problem(response) == (401, message)
    assert response.headers["www-authenticate"] == 'Bearer realm="ilo-partnerships-kg"'
    assert state(clean) == before


def test_a_submitter_replaces_their_own_submission_atomically(clean: SubmissionServer) -> None:
    record = submit(clean, NEW_PROJECT.read_bytes()).json()
    newer = NEW_PROJECT.read_text().replace("in the Mekong", "in the Greater Mekong").encode()
    refused = httpx.put(clean.url + record["links"]["self"], content=newer, headers={**TURTLE, **clean.auth("bob")})
    assert problem(refused) == (403, f"Submission {record['id']} is alice's; only they may replace it.")
    response = httpx.put(
        clean.url + record["links"]["self"], content=newer, headers={**TURTLE, **clean.auth("alice")}, timeout=60
    )
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert (replaced["id"], replaced["created"], replaced["sha256"]) == (
        record["id"],
        record["created"],
        hashlib.sha256(newer).hexdigest(),
    )
    assert replaced["modified"] is not None
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    assert ask(clean, f'ASK {{ <{PROJECT_IRI}> {label} "Green jobs for young people in the Greater Mekong"@en }}')
    assert not ask(clean, f'ASK {{ <{PROJECT_IRI}> {label} "Green jobs for young people in the Mekong"@en }}')
    # An invalid replacement leaves the submission as it was.
    broken = newer.replace(b'rdfs:label "Green jobs: Cambodia"@en ;', b"")
    assert (
        httpx.put(clean.url + record["links"]["self"], content=broken, headers={**TURTLE, **clean.auth("alice")}).status_code
        == 422
    )
    assert httpx.get(clean.url + record["links"]["self"]).json() == replaced


def test_a_file_put_back_as_it_was_is_a_new_version_of_the_data_and_of_its_record(clean: SubmissionServer) -> None:
    # The data version was a hash of the graphs' files: a submission replaced, then put back within the second, gave
    # the first version's number to data whose record differs (it says when it was changed), so answers cached for
    # the first version (and its ETags) were served for the third.
    url = clean.url + submit(clean, NEW_PROJECT.read_bytes()).json()["links"]["self"]
    changed = f"ASK {{ <{url.replace(clean.url + '/submissions/', 'https://w3id.org/ilo-partnerships/id/submission/')}> " \
              "<http://purl.org/dc/terms/modified> ?when }"
    first = (stored(clean)[0], httpx.get(url).headers["etag"], ask(clean, changed))
    alice = {**TURTLE, **clean.auth("alice")}
    newer = NEW_PROJECT.read_text().replace("in the Mekong", "in the Greater Mekong").encode()
    assert httpx.put(url, content=newer, headers=alice, timeout=60).status_code == 200
    assert httpx.put(url, content=NEW_PROJECT.read_bytes(), headers=alice, timeout=60).status_code == 200
    third = (stored(clean)[0], httpx.get(url).headers["etag"], ask(clean, changed))
    assert first[2] is False and third[2] is True
    assert first[0] != third[0] and first[1] != third[1]


def test_if_match_keeps_a_change_from_overwriting_one_made_meanwhile(clean: SubmissionServer) -> None:
    url = clean.url + submit(clean, NEW_PROJECT.read_bytes()).json()["links"]["self"]
    read = httpx.get(url)
    tag = read.headers["etag"]
    assert httpx.get(url, headers={"If-None-Match": tag}).status_code == 304
    first = NEW_PROJECT.read_text().replace("in the Mekong", "in the Greater Mekong").encode()
    second = NEW_PROJECT.read_text().replace("in the Mekong", "in the Lower Mekong").encode()
    alice = {**TURTLE, **clean.auth("alice")}
    changed = httpx.put(url, content=first, headers={**alice, "If-Match": tag}, timeout=60)
    assert changed.status_code == 200 and changed.headers["etag"] != tag == read.headers["etag"]
    assert httpx.get(url).headers["etag"] == changed.headers["etag"]
    # A second writer who read the first version: refused, and nothing changes.
    before = state(clean)
    for stale in (tag, f"{tag}, \"other\"", f"W/{changed.headers['etag']}"):  # a weak tag never matches
        refused = httpx.put(url, content=second, headers={**alice, "If-Match": stale}, timeout=60)
        assert problem(refused)[0] == 412
        assert problem(refused)[1].startswith(f"Submission {url.rsplit('/', 1)[1]} has changed since you read it")
    assert problem(httpx.delete(url, headers={**clean.auth("alice"), "If-Match": tag}))[0] == 412
    assert state(clean) == before and httpx.get(url).json()["sha256"] == hashlib.sha256(first).hexdigest()
    # The current tag, or any (*), lets the change through.
    assert httpx.put(url, content=second, headers={**alice, "If-Match": "*"}, timeout=60).status_code == 200
    current = httpx.get(url).headers["etag"]
    assert httpx.delete(url, headers={**clean.auth("alice"), "If-Match": current}).status_code == 204


@pytest.mark.parametrize("damage", [b"{ half a record", b"[]", b'{"by": 1}'])
def test_a_damaged_record_of_a_withdrawal_still_says_withdrawn_after_a_restart(tmp_path: Path, damage: bytes) -> None:
    # The server reads these records at start: one damaged on disk (or edited) stopped it with a traceback.
    server = SubmissionServer(tmp_path).start()
    try:
        record = submit(server, variant(1)).json()
        assert httpx.delete(server.url + record["links"]["self"], headers=server.auth("alice")).status_code == 204
        server.stop()
        (tmp_path / "store-submissions" / record["id"] / "withdrawn.json").write_bytes(damage)
        server.start()
        assert problem(httpx.get(server.url + record["links"]["self"])) == (
            410, f"Submission {record['id']} was withdrawn by someone (its record of the withdrawal is damaged) at an "
            "unknown time.")
    finally:
        server.stop()


def test_a_submissions_stored_file_damaged_on_disk_gives_503_on_its_route_and_nothing_else_fails(tmp_path: Path) -> None:
    # Each was a 500: the routes read the stored file, its JSON or its UTF-8 without a check.
    server = SubmissionServer(tmp_path).start()
    try:
        record = submit(server, variant(1)).json()
        stored = tmp_path / "store-submissions" / record["id"]
        url = server.url + record["links"]["self"]
        assert httpx.get(url + "/report").status_code == httpx.get(url + "/original").status_code == 200
        report = f"The stored validation report of submission {record['id']} cannot be read now; the operator has been " \
                 "told (in the log)."
        for kind, damage, route, said in (
            ("report.json", b"{ half", "/report", report),
            ("report.json", b"[1]", "/report", report),
            ("report.ttl", b"\xff\xfe", "/report?format=turtle", report),
            ("data", None, "/original", f"The stored file of submission {record['id']} cannot be read now; the operator "
                                        "has been told (in the log)."),
        ):
            path = stored / f"{record['sha256']}.{kind}"
            kept = path.read_bytes()
            path.unlink() if damage is None else path.write_bytes(damage)
            assert problem(httpx.get(url + route)) == (503, said)
            assert httpx.get(url).status_code == 200 and httpx.get(server.url + "/health").status_code == 200
            path.write_bytes(kept)
            assert httpx.get(url + route).status_code == 200
    finally:
        server.stop()


def test_withdrawal_by_the_submitter_or_an_operator_only(clean: SubmissionServer) -> None:
    first = submit(clean, variant(1)).json()
    second = submit(clean, variant(2)).json()
    refused = httpx.delete(clean.url + first["links"]["self"], headers=clean.auth("bob"))
    assert problem(refused) == (403, f"Submission {first['id']} is alice's; only they or an operator may withdraw it.")
    assert httpx.delete(clean.url + first["links"]["self"], headers=clean.auth("alice")).status_code == 204
    assert httpx.delete(clean.url + second["links"]["self"], headers=clean.auth("operator")).status_code == 204
    gone = httpx.get(clean.url + first["links"]["self"])
    assert problem(gone)[0] == 410 and problem(gone)[1].startswith(f"Submission {first['id']} was withdrawn by alice at ")
    assert not ask(clean, "ASK { <https://example.org/partner-data/green-jobs-1-project> ?p ?o }")
    assert not ask(clean, f"ASK {{ GRAPH <{second['graph']}> {{ ?s ?p ?o }} }}")
    assert httpx.get(clean.url + "/submissions/2026-01-01-00000000").status_code == 404


def test_a_submission_others_depend_on_cannot_be_withdrawn_until_they_are(clean: SubmissionServer) -> None:
    alice = submit(clean, variant(1)).json()
    refers = variant(2).decode() + (
        "\nex:green-jobs-2-project rdfs:seeAlso ex:green-jobs-1-project, ex:green-jobs-1-cambodia .\n"
    )
    bob = submit(clean, refers.encode(), who="bob")
    assert bob.status_code == 201, bob.text
    before = state(clean)
    for who in ("alice", "operator"):
        refused = httpx.delete(clean.url + alice["links"]["self"], headers=clean.auth(who), timeout=60)
        assert refused.status_code == 409
        assert problem(refused)[1] == (
            f"Submission {alice['id']} cannot be withdrawn: other accepted submissions refer to what only it describes, "
            f"and would be left pointing at nothing: {bob.json()['id']} by bob "
            "(<https://example.org/partner-data/green-jobs-1-cambodia>, <https://example.org/partner-data/green-jobs-1-project>)."
            " Those must be withdrawn or changed first."
        )
    assert state(clean) == before
    assert httpx.delete(clean.url + bob.json()["links"]["self"], headers=clean.auth("bob"), timeout=60).status_code == 204
    assert httpx.delete(clean.url + alice["links"]["self"], headers=clean.auth("alice"), timeout=60).status_code == 204


def test_a_burst_of_concurrent_submissions_lands_exactly_once_each(clean: SubmissionServer) -> None:
    files = [variant(n) for n in range(10)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda data: submit(clean, data), files + files))
    assert sorted(r.status_code for r in responses) == [200] * 10 + [201] * 10
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 10 and sorted(state(clean)[2]) == sorted(ids)
    counts = httpx.post(
        clean.url + "/sparql",
        headers={"Accept": "application/sparql-results+json"},
        data={
            "query": """PREFIX ilop: <https://w3id.org/ilo-partnerships/ontology#>
        SELECT ?project (COUNT(DISTINCT ?g) AS ?graphs) WHERE { GRAPH ?g { ?project a ilop:Project }
        FILTER(STRSTARTS(STR(?project), "https://example.org/partner-data/")) } GROUP BY ?project"""
        },
    ).json()
    assert sorted(int(b["graphs"]["value"]) for b in counts["results"]["bindings"]) == [1] * 10


def test_validate_answers_a_shacl_report_in_turtle_and_a_page_in_html(clean: SubmissionServer) -> None:
    broken = NEW_PROJECT.read_text().replace('    rdfs:label "Green jobs: Cambodia"@en ;\n', "").encode()
    turtle = post(clean, "/validate", broken, {**TURTLE, "Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    report = Graph().parse(data=turtle.text, format="turtle")
    (node,) = report.subjects(predicate=SH.conforms)
    assert report.value(node, SH.conforms).toPython() is False
    assert len(list(report.objects(node, SH.result))) == 1
    html = post(clean, "/validate", broken, {**TURTLE, "Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert 'id="L41" value="41" class="marked violation"' in html.text


def test_a_file_is_accepted_as_a_multipart_upload_and_as_pasted_text(clean: SubmissionServer) -> None:
    data = NEW_PROJECT.read_bytes()
    uploaded = httpx.post(
        clean.url + "/validate", files={"file": ("new-project.ttl", data, "application/octet-stream")}
    )
    pasted = httpx.post(clean.url + "/validate", data={"text": data.decode(), "format": "turtle"})
    assert uploaded.json() == {
        "conforms": True,
        "violations": 0,
        "warnings": 0,
        "files": ["new-project.ttl"],
        "triples": 48,
        "results": [],
        "notices": [],
    }
    assert pasted.json()["triples"] == 48 and pasted.json()["conforms"] is True


def test_a_submission_answered_201_survives_sigkill(tmp_path: Path) -> None:
    server = SubmissionServer(tmp_path).start()
    try:
        response = submit(server, NEW_PROJECT.read_bytes(), name="new-project.ttl")
        assert response.status_code == 201
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        server.start()
        record = httpx.get(server.url + response.headers["location"])
        assert record.json() == response.json()
        assert ask(server, f"ASK {{ GRAPH <{record.json()['graph']}> {{ <{PROJECT_IRI}> a ?type }} }}")
        content = httpx.get(server.url + record.json()["links"]["content"], headers={"Accept": "application/n-triples"})
        assert len(Graph().parse(data=content.text, format="nt")) == 59
    finally:
        server.stop()


def test_writes_beyond_a_tokens_rate_are_refused_with_retry_after(tmp_path: Path) -> None:
    server = SubmissionServer(tmp_path, {"ILOKG_SUBMISSION_RATE": "2/minute"}).start()
    try:
        assert [submit(server, variant(n)).status_code for n in range(2)] == [201, 201]
        refused = submit(server, variant(3))
        assert problem(refused) == (
            429, f"Too many submissions: 2 per 1 minute are allowed; try again in {refused.headers['retry-after']} s."
        )
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert submit(server, variant(3), who="bob").status_code == 201
    finally:
        server.stop()


def _without_file_names(report: dict[str, object]) -> dict[str, object]:
    """A report without the name the file was read under (a path for the CLI, the upload's name for the server)."""
    results = [{k: v for k, v in r.items() if k != "file"} for r in report["results"]]  # type: ignore[attr-defined]
    return {**{k: v for k, v in report.items() if k != "files"}, "results": results}


def test_checking_a_stored_file_or_a_new_version_of_it_reports_what_submitting_it_would_meet(
    clean: SubmissionServer, tmp_path: Path,
) -> None:
    stored = submit(clean, NEW_PROJECT.read_bytes()).json()
    sid = stored["id"]
    edited = (NEW_PROJECT.read_text(encoding="utf-8")
              .replace('    rdfs:label "Green jobs for young people in the Mekong"@en ;\n', "")
              .replace("1200000.0", "1500000.0")).encode()
    (tmp_path / "edited.ttl").write_bytes(edited)
    cases = {
        "same": (NEW_PROJECT, "/validate", []),
        "edited": (tmp_path / "edited.ttl", "/validate", []),
        "replacement": (tmp_path / "edited.ttl", f"/validate?replaces={sid}", ["--replaces", sid]),
    }
    reports = {}
    for name, (path, url, options) in cases.items():
        answer = post(clean, url, path.read_bytes(), TURTLE)
        assert answer.status_code == 200, answer.text
        reports[name] = answer.json()
        cli = run_cli("validate", "--with-data", *options, "--format", "json", str(path),
                      env={"ILOKG_STORE_DIR": str(clean.store_dir), **clean.env})
        if clean.backend == "embedded":
            assert cli.returncode == (0 if reports[name]["conforms"] else 1), cli.stderr
            assert _without_file_names(json.loads(cli.stdout)) == _without_file_names(reports[name]), name
        else:
            # The command line validates in the embedded store's data only, and says so.
            assert (cli.returncode, cli.stderr.strip()) == (2, (
                "error: --with-data reads the embedded store; this installation's data is in an external store "
                "(ILOKG_STORE_URL): send the file to the server's POST /validate, which validates it there."))

    same = reports["same"]
    assert (same["conforms"], same["results"]) == (True, [])
    assert same["notices"] == [
        f"This file is stored already, as submission {sid} by alice (accepted {stored['created']}); submitting it "
        "again changes nothing. The report is of the file in the graph without that copy."
    ]
    # As a new submission, the edited file would describe again what the stored one describes: every such
    # node is named once, and neither a doubled value nor a value the stored copy supplies is counted.
    as_new = reports["edited"]
    described = sorted(r["focusNode"] for r in as_new["results"] if r["shape"] == "(submission rules)")
    assert described == sorted(f"<https://example.org/partner-data/green-jobs-{n}>" for n in (
        "amount", "brief", "cambodia", "funder", "funding", "implementer", "period", "project", "viet-nam"))
    assert all(r["message"].startswith(f"{r['focusNode']} is described already by submission {sid}: ")
               for r in as_new["results"] if r["shape"] == "(submission rules)")
    others = [(r["focusNode"], r["path"], r["message"]) for r in as_new["results"] if r["shape"] != "(submission rules)"]
    assert others == [(f"<{PROJECT_IRI}>", "rdfs:label", MISSING_LABEL)]
    # As the replacement of the stored one, it is checked without it: the missing label, nothing else.
    replacement = reports["replacement"]
    assert [(r["focusNode"], r["path"], r["message"]) for r in replacement["results"]] == [
        (f"<{PROJECT_IRI}>", "rdfs:label", MISSING_LABEL)
    ]
    assert replacement["notices"] == [
        f"Checked as the replacement of submission {sid} (by alice): its stored content is left out of the context."
    ]
    unknown = post(clean, "/validate?replaces=2026-01-01-00000000", edited, TURTLE)
    assert problem(unknown) == (404, "There is no submission '2026-01-01-00000000'; GET /submissions lists them.")
    if clean.backend == "embedded":
        cli = run_cli("validate", "--replaces", "2026-01-01-00000000", str(tmp_path / "edited.ttl"),
                      env={"ILOKG_STORE_DIR": str(clean.store_dir)})
        assert cli.returncode == 2
        assert cli.stderr == (f"error: there is no accepted submission '2026-01-01-00000000' in this installation's "
                              f"store (accepted: {sid})\n")


def test_the_servers_own_json_ld_comes_back_in_with_its_context_read_from_memory(
    clean: SubmissionServer, listener: tuple[int, list[bytes]],
) -> None:
    fetched = httpx.get(clean.url + "/id/programme/ilo-korea-partnership-programme",
                        headers={"Accept": "application/ld+json"})
    assert fetched.status_code == 200
    document = fetched.json()
    assert document["@context"] == f"{clean.url}/context.jsonld"
    triples = len(Graph().parse(data=json.dumps({**document, "@context": httpx.get(clean.url + "/context.jsonld").json()}),
                                format="json-ld"))
    jsonld = {"Content-Type": "application/ld+json"}
    answer = post(clean, "/validate", fetched.content, jsonld)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["conforms"], answer.json()["triples"], answer.json()["results"]) == (True, triples, [])
    # Named by the project's IRI for it, as a document written by hand would.
    canonical = json.dumps({**document, "@context": "https://w3id.org/ilo-partnerships/context.jsonld"}).encode()
    assert post(clean, "/validate", canonical, jsonld).json()["triples"] == triples
    # Any other remote context is still refused, and never fetched.
    port, connections = listener
    foreign = json.dumps({**document, "@context": f"http://127.0.0.1:{port}/context.jsonld"}).encode()
    refused = post(clean, "/validate", foreign, jsonld)
    assert refused.status_code == 400
    assert problem(refused)[1].startswith("submission: the JSON-LD refers to a remote @context (or @import), which is "
                                               "never fetched; put the context inline as a JSON object")
    assert connections == []


def _intervals(server: RunningServer, accept: str) -> list[str]:
    query = ("SELECT ?programme ?interval WHERE { ?programme <https://w3id.org/ilo-partnerships/ontology#renewalInterval> "
             "?interval FILTER(STRSTARTS(STR(?programme), 'https://example.org/')) } ORDER BY ?programme")
    response = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    if accept == "text/csv":
        return [line.split(",")[1] for line in response.text.splitlines()[1:]]
    return [f"{row['interval']['value']}^^{row['interval']['datatype']}" for row in response.json()["results"]["bindings"]]


# Each as submitted, and as every store gives it back: its canonical form (XML Schema 1.1 Part 2, 3.3.6.2).
DURATIONS = [("P3Y", "P3Y"), ("P36M", "P3Y"), ("P1Y6M", "P1Y6M"), ("-P1M", "-P1M"), ("P0Y", "PT0S"), ("PT36H", "P1DT12H"),
             ("PT36S", "PT36S"), ("PT90M", "PT1H30M"), ("P1DT2H", "P1DT2H"), ("PT1.5S", "PT1.5S"), ("P400D", "P400D")]


def test_durations_are_stored_and_come_back_as_the_same_values(clean: SubmissionServer) -> None:
    response = submit(clean, programmes([given for given, _ in DURATIONS]))
    assert response.status_code == 201, response.text
    expected = [canonical for _, canonical in DURATIONS]
    assert _intervals(clean, "text/csv") == expected
    xsd_duration = "http://www.w3.org/2001/XMLSchema#duration"
    assert _intervals(clean, "application/sparql-results+json") == [f"{d}^^{xsd_duration}" for d in expected]
    constructed = httpx.post(clean.url + "/sparql", headers={"Accept": "application/n-triples"}, data={
        "query": "CONSTRUCT WHERE { <https://example.org/programme-05> "
                 "<https://w3id.org/ilo-partnerships/ontology#renewalInterval> ?interval }"})
    assert constructed.text.split() == ["<https://example.org/programme-05>",
                                        "<https://w3id.org/ilo-partnerships/ontology#renewalInterval>",
                                        f'"P1DT12H"^^<{xsd_duration}>', "."]
    # Replaced by another version of itself, and withdrawn: the store keeps none of the old values.
    record = response.json()
    replaced = httpx.put(clean.url + record["links"]["self"], content=programmes(["P2Y"]),
                         headers={**TURTLE, **clean.auth("alice")}, timeout=60)
    assert replaced.status_code == 200, replaced.text
    assert _intervals(clean, "text/csv") == ["P2Y"]
    assert httpx.delete(clean.url + record["links"]["self"], headers=clean.auth("alice")).status_code == 204
    assert _intervals(clean, "text/csv") == []


@pytest.mark.parametrize("store", BACKENDS)
def test_durations_in_a_file_the_server_loads_come_back_as_the_same_values(
    store: str, tmp_path: Path, settings: Settings,
) -> None:
    # The files of data/ go to an external store by the Graph Store Protocol, read by the engine's own parser.
    env = copy_project(settings, tmp_path)
    (tmp_path / "data" / "intervals.ttl").write_bytes(programmes([given for given, _ in DURATIONS]))
    with backend(store, tmp_path / "engine") as engine:
        server = RunningServer(tmp_path / "store", {**env, **engine}).start()
        try:
            assert _intervals(server, "text/csv") == [canonical for _, canonical in DURATIONS]
        finally:
            server.stop()


def test_a_duration_of_months_and_days_or_of_many_digits_of_seconds_keeps_its_value(clean: SubmissionServer) -> None:
    response = submit(clean, programmes(["P1Y1D", "P12DT1S"]))
    assert response.status_code == 201, response.text
    assert _intervals(clean, "text/csv") == ["P1Y1D", "P12DT1S"]


# Typed values that rdflib (and so the shapes' sh:datatype) or no shape at all lets through, but that the engine
# cannot read as their datatype: stored, each would be kept as text, and every sum, comparison or date over it would
# be an error (one such amount and a currency's total drops out of every answer). By family: decimals that Python
# reads (exponents, NaN, separators, other scripts' digits, past the engine's range), integers past 64 bits or with a
# point, doubles with a comma, booleans, dates that do not exist, other scripts' years, durations of nothing; and NaN
# as a double or float, which the engine reads but which is no number (a sum over it is NaN), and which left
# Virtuoso's store refusing every later write once it sat beside another number.
UNREADABLE = [
    ("1e5", "decimal"), ("1e99999999", "decimal"), ("NaN", "decimal"), ("INF", "decimal"), ("1_000", "decimal"),
    ("\u0661\u0662", "decimal"), (" 12", "decimal"), ("1000000000000000000000", "decimal"),
    ("0.0000000000000000001", "decimal"), ("12345678901234567890", "integer"), ("12.0", "integer"), ("1e3", "long"),
    ("1,5", "double"), ("NaN", "double"), ("NaN", "float"), ("yes", "boolean"),
    ("2023-02-29", "date"), ("2024-1-01", "date"), ("\u0662\u0660\u0662\u0664", "gYear"), ("2024-13", "gYearMonth"),
    ("2024-01-01T24:30:00", "dateTime"), ("PT", "duration"), ("P1D", "yearMonthDuration"),
]
# Their neighbours that the engine reads: no finding.
READABLE = [
    ("12.5", "decimal"), ("99999999999999999999", "decimal"), ("9223372036854775807", "integer"), ("INF", "double"),
    ("INF", "float"), ("true", "boolean"), ("2024-02-29", "date"), ("2024", "gYear"), ("P1D", "dayTimeDuration"),
]
FORMS = {
    "decimal": "digits with an optional sign and point, no exponent, at most 20 digits before the point and 18 after "
               "(1200000 or 0.5)",
    "integer": "digits with an optional sign, between -9223372036854775808 and 9223372036854775807",
    "double": "a number such as 1.5E3, 0.25 or INF (not NaN, which is no number)",
    "float": "a number such as 1.5E3, 0.25 or INF (not NaN, which is no number)",
    "boolean": "true, false, 1 or 0",
    "date": "YYYY-MM-DD, a day that exists (2024-02-29, not 2023-02-29)",
    "gYear": "a year of ASCII digits (2024)",
    "gYearMonth": "YYYY-MM (2024-03)",
    "dateTime": "YYYY-MM-DDThh:mm:ss, with an optional time zone (2024-03-01T09:30:00Z)",
    "duration": "P, then years, months, days and a time part (P1Y6M, PT36H)",
    "yearMonthDuration": "P, then years and months only (P1Y6M)",
}


def _with_values(values: list[tuple[str, str]]) -> bytes:
    said = "".join(f' ;\n    ex:v{n:02d} "{value}"^^xsd:{datatype}' for n, (value, datatype) in enumerate(values))
    return programmes(["P3Y"]).replace(b'"P3Y"^^xsd:duration', f'"P3Y"^^xsd:duration{said}'.encode())


def test_a_value_the_engine_cannot_read_as_its_datatype_is_refused_at_its_line_and_nothing_is_stored(
        clean: SubmissionServer) -> None:
    data = _with_values(UNREADABLE + READABLE)
    checked = post(clean, "/validate", data, TURTLE)
    assert checked.status_code == 200, checked.text
    found = [(r["path"], r["value"], r["line"], r["message"]) for r in checked.json()["results"]
             if r["constraint"] == "ilosh:ReadableValueConstraintComponent"]
    first = data.decode().splitlines().index("    ex:v00 \"1e5\"^^xsd:decimal ;") + 1
    assert found == [
        (f"<https://example.org/v{n:02d}>", json.dumps(value, ensure_ascii=False) + f"^^xsd:{datatype}", first + n,
         f"{json.dumps(value, ensure_ascii=False)} is not a value of xsd:{datatype} that the graph can compute with: "
         f"write it as {FORMS['integer' if datatype == 'long' else datatype]}. Stored as it is, it would be kept as "
         "text, and every sum, comparison or date taken over it would fail (a currency's total would drop out of the "
         "answers).")
        for n, (value, datatype) in enumerate(UNREADABLE)
    ]
    kept = submit(clean, programmes(["P2Y"]))
    assert kept.status_code == 201, kept.text
    before = state(clean)
    refused = submit(clean, data.replace(b"programme-00", b"programme-99").replace(b"Programme 0", b"Programme 99"))
    replaced = httpx.put(clean.url + kept.json()["links"]["self"], content=data, headers={**TURTLE, **clean.auth("alice")})
    assert (refused.status_code, replaced.status_code) == (422, 422)
    assert refused.json()["violations"] == replaced.json()["violations"] == len(UNREADABLE)
    assert state(clean) == before
    assert _intervals(clean, "text/csv") == ["P2Y"]
    # Each alone is accepted once written as the engine reads it.
    assert submit(clean, _with_values(READABLE).replace(b"programme-00", b"programme-98")).status_code == 201


def test_a_nan_beside_other_numbers_is_refused_and_the_store_goes_on_taking_writes(clean: SubmissionServer) -> None:
    # Accepted, such a file left Virtuoso refusing every later write ("Insert stopped because out of seg data").
    for attempt, number in enumerate(["1.5", "2.5"]):
        values = _with_values([("NaN", "double"), (number, "double")])
        refused = submit(clean, values.replace(b"programme-00", f"programme-{attempt}0".encode()))
        assert (refused.status_code, refused.json()["violations"]) == (422, 1), refused.text
        plain = programmes([f"P{attempt + 2}Y"]).replace(b"programme-00", f"programme-{attempt}1".encode())
        assert submit(clean, plain).status_code == 201


# Values the engine reads that Virtuoso 7.2 cannot take, and what it says of them (it answers 500, not 400).
VIRTUOSO_REFUSES = {
    ("09:30:00", "time"): "Virtuoso 22007 Error DT011: Cannot convert T09:30:00 to time : Incorrect hour field length",
    ("-0001-12-31", "date"): "Virtuoso 22007 Error DT006: Cannot convert 0000-12-31T to datetime : Incorrect year value",
}


@pytest.mark.parametrize("value", VIRTUOSO_REFUSES, ids=["time-without-zone", "year-before-1"])
def test_a_value_a_store_cannot_take_is_refused_as_data_not_as_the_store_being_unavailable(
        clean: SubmissionServer, value: tuple[str, str]) -> None:
    before = state(clean)
    response = submit(clean, _with_values([value]))
    if clean.backend != "virtuoso":
        assert response.status_code == 201, response.text
        return
    assert problem(response) == (422, (
        f"The data store behind this server refused this data, so nothing was stored. It said: {VIRTUOSO_REFUSES[value]}. "
        "Sending it again will not help: change the value it names, then send it again."))
    assert state(clean) == before
    assert _staging_graphs(clean) == []
    assert submit(clean, programmes(["P2Y"])).status_code == 201


def test_a_double_comes_back_with_all_its_digits(clean: SubmissionServer) -> None:
    share = programmes(["P3Y"]).replace(b'"P3Y"^^xsd:duration', b'"P3Y"^^xsd:duration ; ex:share "0.1234567891"^^xsd:double')
    assert submit(clean, share).status_code == 201
    response = httpx.post(clean.url + "/sparql", headers={"Accept": "text/csv"},
                          data={"query": "SELECT ?share WHERE { ?programme <https://example.org/share> ?share }"})
    assert response.text.splitlines() == ["share", "0.1234567891"]


STAGING = "https://w3id.org/ilo-partnerships/id/graph/store-staging"
NOTES = 2000


def _count(server: SubmissionServer, pattern: str) -> int:
    query = (f"PREFIX ex: <https://example.org/> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
             f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")
    response = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "text/csv"}, timeout=60)
    assert response.status_code == 200, response.text
    return int(response.text.splitlines()[1])


def _staging_graphs(server: SubmissionServer) -> list[str]:
    """The staging graphs an external store holds (asked of the engine itself: the server serves none)."""
    if server.backend == "embedded":
        return []
    query = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), '{STAGING}')) }}"
    response = httpx.post(server.env["ILOKG_STORE_URL"], data={"query": query},
                          headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    return [row["g"]["value"] for row in response.json()["results"]["bindings"]]


def test_a_submission_of_thousands_of_triples_is_stored_whole_with_its_blank_nodes(clean: SubmissionServer) -> None:
    # Virtuoso refused an update of a few thousand triples: written in parts, then moved into place at once.
    response = submit(clean, large_programme(NOTES))
    assert response.status_code == 201, response.text
    assert response.json()["triples"] > 3 * NOTES + 400 > 5000
    # Each note's blank node is one node: in its graph, in the default graph, and between the two.
    assert _count(clean, "ex:programme-00 ex:note ?note . ?note ex:n ?n ; ex:text ?text") == NOTES
    assert _count(clean, "GRAPH ?g { ex:programme-00 ex:note ?note } ?note ex:n ?n") == NOTES
    assert _count(clean, "ex:programme-00 ex:steps/rdf:rest*/rdf:first ?step") == 200
    assert _count(clean, "ex:programme-00 ex:steps/rdf:rest*/rdf:first ?step . FILTER(?step = 'step 199')") == 1
    assert _staging_graphs(clean) == []
    # Replaced by a small version, then by the large one again, and withdrawn: nothing of the old is left.
    before = _count(clean, "?s ?p ?o")
    link = clean.url + response.json()["links"]["self"]
    replaced = httpx.put(link, content=programmes(["P2Y"]), headers={**TURTLE, **clean.auth("alice")}, timeout=60)
    assert replaced.status_code == 200, replaced.text
    assert (_count(clean, "?s ex:note ?note"), _count(clean, "?note ex:n ?n"), _count(clean, "?s ex:steps ?steps")) == (0, 0, 0)
    again = httpx.put(link, content=large_programme(NOTES), headers={**TURTLE, **clean.auth("alice")}, timeout=60)
    assert again.status_code == 200, again.text
    assert _count(clean, "?s ?p ?o") == before + 1  # its record now says when it was changed
    assert httpx.delete(link, headers=clean.auth("alice"), timeout=60).status_code == 204
    steps = "?list rdf:first ?step FILTER(STRSTARTS(STR(?step), 'step '))"
    assert (_count(clean, "?note ex:n ?n"), _count(clean, steps)) == (0, 0)
    assert _staging_graphs(clean) == []


def test_more_triples_linked_by_blank_nodes_than_the_store_takes_at_once_are_refused_saying_so(
        clean: SubmissionServer) -> None:
    # Triples sharing blank nodes go into one update (each update makes its blank nodes anew): an RDF list of 800
    # items is 1,600 such triples, more than Virtuoso compiles in one update (about 1,000).
    response = submit(clean, large_programme(0, steps=800))
    if clean.backend != "virtuoso":
        assert response.status_code == 201, response.text
        assert _count(clean, "ex:programme-00 ex:steps/rdf:rest*/rdf:first ?step") == 800
        return
    assert problem(response) == (422, (
        "The data store behind this server refused this data, so nothing was stored. It said: Virtuoso 37000 Error "
        "SP031: SPARQL: Internal error: The length of generated SQL text has exceeded 10000 lines of code. The file "
        "holds 1601 triples linked by blank nodes (such as a long RDF list), which are written in one update, and this "
        "store cannot take that many at once: give some of those nodes IRIs, or make the structure smaller, then send "
        "it again."))
    assert _staging_graphs(clean) == []
