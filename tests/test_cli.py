"""The ilo-kg validate command, run as a user runs it: exit codes, reports and safe parsing."""

import hashlib
import json
import re
import tarfile
from pathlib import Path

import httpx
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from server.rdf.project_graphs import load_folder
from server.settings import Settings
from tests.support.servers import EXAMPLES, FIXTURES, SubmissionServer, run_cli, withdraw_all

HOSTILE = FIXTURES / "hostile"
# The server's own submission records are checked by their shape only: as a file to submit, they are
# refused first by the submission rules (records are in a reserved namespace), as the server refuses them.
INVALID_VIOLATIONS = sorted(
    p for p in (FIXTURES / "shapes").glob("*/invalid-*.ttl")
    if json.loads(p.with_suffix(".expected.json").read_text(encoding="utf-8"))["severity"] == "Violation"
    and p.parent.name != "SubmissionShape"
)


def test_the_bundled_data_conforms(settings: Settings) -> None:
    result = run_cli("validate", str(settings.data_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    triples = len(load_folder(settings.data_dir))
    files = len(list(settings.data_dir.glob("*.ttl")))
    assert files == 8
    assert result.stdout == f"conforms: 0 violations, 0 warnings in {files} files ({triples} triples)\n"


def test_violation_fixtures_were_found() -> None:
    assert len(INVALID_VIOLATIONS) >= 60


@pytest.mark.parametrize("path", INVALID_VIOLATIONS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_invalid_fixture_exits_1_with_its_message(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    result = run_cli("validate", "--with-data", "--format", "json", str(path))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert [r["message"] for r in report["results"]] == [expected["message"]]
    assert report["conforms"] is False and report["violations"] == 1


def test_text_report_names_file_line_node_message_path_and_rule() -> None:
    path = FIXTURES / "shapes" / "MinistryShape" / "invalid-no-country.ttl"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("ex:ministry"))
    result = run_cli("validate", "--with-data", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:{line}: <https://example.org/ministry>",
        "  Violation: A ministry must name the country whose government it belongs to (dcterms:spatial).",
        "    at dcterms:spatial  [ilosh:MinistryShape, sh:MinCountConstraintComponent]",
        "does not conform: 1 violation, 0 warnings in 1 file (3 triples)",
    ]


def test_a_finding_about_a_blank_node_is_placed_on_its_owners_triple() -> None:
    path = FIXTURES / "shapes" / "ProjectComponentShape" / "invalid-starts-before-project.ttl"
    result = run_cli("validate", "--with-data", "--format", "json", str(path))
    [finding] = json.loads(result.stdout)["results"]
    # The period is a blank node written inside the component's description, on its dcterms:temporal line.
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "dcterms:temporal [" in text)
    assert (finding["focusNode"], finding["line"]) == ("<https://example.org/component>", line)


def test_a_reference_to_bundled_data_without_it_explains_itself() -> None:
    path = FIXTURES / "shapes" / "MinistryShape" / "valid.ttl"
    result = run_cli("validate", "--format", "json", str(path))
    assert result.returncode == 1
    messages = [r["message"] for r in json.loads(result.stdout)["results"]]
    hint = ("(country:KR is not described in the data validated; if it is part of the bundled data, "
            "validate together with it: --with-data.)")
    assert hint in " ".join(messages)


def test_turtle_report_is_a_shacl_validation_report() -> None:
    path = FIXTURES / "shapes" / "LawShape" / "invalid-two-countries.ttl"
    result = run_cli("validate", "--with-data", "--format", "turtle", str(path))
    assert result.returncode == 1
    report = Graph().parse(data=result.stdout, format="turtle")
    [node] = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms) == Literal(False)
    assert len(list(report.objects(node, SH.result))) == 1


@pytest.mark.parametrize("rdflib_format, suffix", [
    ("trig", ".trig"), ("nt", ".nt"), ("nquads", ".nq"), ("json-ld", ".jsonld"), ("xml", ".rdf"), ("turtle", ".ttl"),
])
def test_every_syntax_is_read(tmp_path: Path, rdflib_format: str, suffix: str) -> None:
    source = FIXTURES / "shapes" / "ProjectShape" / "valid.ttl"
    graph = Graph().parse(source, format="turtle")
    target = tmp_path / f"project{suffix}"
    if rdflib_format in ("trig", "nquads"):
        # Quad syntaxes: the triples sit in a named graph, which validation reads as part of the union.
        dataset = Dataset()
        dataset.graph(URIRef("https://example.org/graph")).__iadd__(graph)
        dataset.serialize(target, format=rdflib_format, encoding="utf-8")
    else:
        graph.serialize(target, format=rdflib_format, encoding="utf-8")
    result = run_cli("validate", "--with-data", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith(f"conforms: 0 violations, 0 warnings in 1 file ({len(graph)} triples)\n")


def test_syntax_option_overrides_the_extension(tmp_path: Path) -> None:
    target = tmp_path / "project.txt"
    target.write_bytes((FIXTURES / "shapes" / "ProjectShape" / "valid.ttl").read_bytes())
    assert run_cli("validate", "--with-data", str(target)).returncode == 2
    assert run_cli("validate", "--with-data", "--syntax", "turtle", str(target)).returncode == 0


@pytest.mark.parametrize("name, message", [
    ("malformed.ttl", ":3:54: Line jumps are not allowed in string literals, use \\n"),
    ("invalid-utf8.ttl", ":2:40: the input is not valid UTF-8 (byte 0xe9); save the file as UTF-8"),
    ("entity-bomb.rdf", ": RDF/XML entity declarations (<!ENTITY …>) are not accepted, because expanding them can "
                        "exhaust the machine; write each &name; out in full"),
    ("external-entity.rdf", ": RDF/XML entity declarations (<!ENTITY …>) are not accepted"),
    ("file-iri.ttl", ":3: file: IRI <file:///etc/passwd> is not accepted: name things with http(s), urn or similar IRIs"),
    ("relative-iri.ttl", ":3: relative IRI <../../etc/passwd>: declare a base (@base or @context/@base) or write absolute IRIs"),
])
def test_unreadable_or_hostile_input_exits_2(name: str, message: str) -> None:
    path = HOSTILE / name
    result = run_cli("validate", str(path), timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {path}{message}")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("context", [
    '"http://127.0.0.1:{port}/context.jsonld"',
    '{{"@import": "http://127.0.0.1:{port}/context.jsonld"}}',
])
def test_remote_jsonld_context_is_refused_and_never_fetched(tmp_path: Path, listener, context: str) -> None:
    port, received = listener
    path = tmp_path / "remote-context.jsonld"
    path.write_text('{"@context": ' + context.format(port=port) + ', "@id": "https://example.org/a", "name": "x"}')
    result = run_cli("validate", str(path), timeout=30)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {path}: the JSON-LD refers to a remote @context (or @import), which is never fetched; "
        "put the context inline as a JSON object (the project's own context, "
        "https://w3id.org/ilo-partnerships/context.jsonld or this server's /context.jsonld, is read without fetching)\n"
    )
    assert received == []


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonld"
    path.write_text('{"@id": "https://example.org/a", "https://example.org/p": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = run_cli("validate", str(path), timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {path}:1:")
    assert "Traceback" not in result.stderr


def test_every_unreadable_file_is_reported_at_once() -> None:
    first, second = HOSTILE / "file-iri.ttl", HOSTILE / "relative-iri.ttl"
    result = run_cli("validate", str(first), str(second))
    assert result.returncode == 2
    assert [line.split(": ", 2)[:2] for line in result.stderr.splitlines()] == [
        ["error", f"{first}:3"], ["error", f"{second}:3"]]


@pytest.mark.parametrize("args, message", [
    (["validate", "no/such/file.ttl"], "error: no/such/file.ttl: no such file or folder\n"),
    (["validate", "pyproject.toml"], "error: pyproject.toml: unknown RDF syntax for this extension; name it with --syntax\n"),
])
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert (result.returncode, result.stderr) == (2, message)


def test_a_folder_without_rdf_exits_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    result = run_cli("validate", str(tmp_path))
    assert (result.returncode, result.stderr) == (
        2, f"error: {tmp_path}: the folder holds no files this tool reads (.ttl, .trig, .nt, .nq, .jsonld, .rdf, IATI .xml, …)\n")


def test_an_unknown_syntax_name_is_a_usage_error() -> None:
    result = run_cli("validate", "--syntax", "n3", "data")
    assert result.returncode == 2
    assert "Invalid value for '--syntax'" in result.stderr


def test_oversized_input_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "big.ttl"
    path.write_text("<https://example.org/a> <https://example.org/p> " + '"' + "x" * 2000 + '" .\n')
    result = run_cli("validate", str(path), env={"ILOKG_MAX_INPUT_BYTES": "1000"})
    assert (result.returncode, result.stderr) == (
        2, f"error: {path}: {path.stat().st_size} bytes is more than the limit of 1000 (ILOKG_MAX_INPUT_BYTES)\n")


def test_iso_code_shapes_are_up_to_date() -> None:
    result = run_cli("codes", "--check")
    assert result.returncode == 0, result.stderr


# Downloaded by `make test` (the Makefile says why it is not installed).
PYIATI = Path(__file__).parent.parent / "build" / "pyIATI-0.4.1.tar.gz"
CODELISTS = "pyIATI-0.4.1/iati/resources/standard/2-03/codelists/"


def test_the_iati_codelists_are_what_pyiati_ships(tmp_path: Path) -> None:
    assert PYIATI.is_file(), "make test downloads pyIATI's source package into build/"
    with tarfile.open(PYIATI) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(CODELISTS) and m.isfile()]
        assert len(members) > 60
        archive.extractall(tmp_path, members=members, filter="data")
    result = run_cli("codes", "--iati-codelists", str(tmp_path / CODELISTS), "--check")
    assert (result.returncode, result.stdout.endswith("iati-codelists.ttl is up to date\n")) == (0, True), result.stderr


def test_token_add_list_revoke_keeps_only_hashes(tmp_path: Path) -> None:
    env = {"ILOKG_TOKENS_FILE": str(tmp_path / "tokens.json")}
    added = run_cli("token", "add", "koica-data", env=env)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert token.startswith("ilokg_") and len(token) > 40
    stored = (tmp_path / "tokens.json").read_text()
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored
    assert oct((tmp_path / "tokens.json").stat().st_mode & 0o777) == "0o600"
    again = run_cli("token", "add", "koica-data", env=env)
    assert (again.returncode, again.stderr.strip()) == (
        2, "error: a token named 'koica-data' exists already; revoke it first to issue a new one")
    assert run_cli("token", "list", env=env).stdout.split("\t")[:2] == ["koica-data", "submitter"]
    assert run_cli("token", "revoke", "koica-data", env=env).returncode == 0
    assert run_cli("token", "list", env=env).stdout == ""
    # A pattern's `$` also matches before a final line feed: "alice\n" was issued a token.
    for name in ("Bad Name", "alice\n", "alice\r", "a" * 64, "ali/ce", "alïce"):
        bad = run_cli("token", "add", name, env=env)
        assert (bad.returncode, bad.stderr) == (2, f"error: {name!r} is not a usable name: use lower-case letters, "
                                                   "digits and hyphens (up to 63), starting with a letter or digit\n")
    assert run_cli("token", "list", env=env).stdout == ""


def test_submit_stores_a_valid_file_and_reports_an_invalid_one(submission_server: SubmissionServer) -> None:
    withdraw_all(submission_server)
    new_project = EXAMPLES / "first-submission.ttl"
    env = {"ILOKG_TOKEN": submission_server.tokens["bob"]}
    stored = run_cli("submit", str(new_project), "--server", submission_server.url, env=env)
    assert stored.returncode == 0, stored.stderr
    (record,) = httpx.get(submission_server.url + "/submissions", params={"submitter": "bob"}).json()["submissions"]
    assert stored.stdout == (
        f"accepted: submission {record['id']} (48 triples, 0 warnings) at {submission_server.url}/submissions/{record['id']}\n"
    )
    assert record["fileName"] == "first-submission.ttl"
    invalid = FIXTURES / "shapes" / "ProjectShape" / "invalid-spatial-not-a-country.ttl"
    refused = run_cli("submit", str(invalid), "--server", submission_server.url, env=env)
    assert refused.returncode == 1
    assert refused.stdout.endswith("does not conform: 1 violation, 0 warnings in 1 file (13 triples)\n")
    assert refused.stderr == "not stored: The file does not conform to the shapes; nothing was stored.\n"
    wrong = run_cli("submit", str(new_project), "--server", submission_server.url, "--token", "ilokg_wrong")
    assert (wrong.returncode, wrong.stderr) == (
        2, "error: the server answered 401: The token is not valid (mistyped, or revoked); ask the operator for a new one.\n")


_CLEAR_TEXT = ("would carry your token unencrypted, for anyone on the way to read and submit as you: give the server's "
               "https:// address (or, on a network you trust, add --allow-http)")


@pytest.mark.parametrize("command", [
    ("submit", str(EXAMPLES / "first-submission.ttl")),
    ("import", "iati", str(FIXTURES / "iati" / "activities-2.03.xml")),
    ("import", "sheets", str(FIXTURES / "sheets" / "valid" / "projects.csv")),
])
@pytest.mark.parametrize(("server", "message"), [
    ("http://kg.example.org", f"error: http://kg.example.org {_CLEAR_TEXT}"),
    ("http://10.0.0.5:8080", f"error: http://10.0.0.5:8080 {_CLEAR_TEXT}"),
    ("HTTP://192.168.1.2", f"error: HTTP://192.168.1.2 {_CLEAR_TEXT}"),
    ("kg.example.org", "error: --server 'kg.example.org' is not a server's address: give it as https://host[:port] (or "
     "http://127.0.0.1:8000 on this machine)"),
    ("ftp://kg.example.org", "error: --server 'ftp://kg.example.org' is not a server's address: give it as "
     "https://host[:port] (or http://127.0.0.1:8000 on this machine)"),
])
def test_a_token_is_never_sent_unencrypted_to_another_machine(command: tuple[str, ...], server: str, message: str) -> None:
    assert Path(command[-1]).is_file()
    refused = run_cli(*command, "--server", server, "--token", "ilokg_secret")
    assert (refused.returncode, refused.stderr, refused.stdout) == (2, message + "\n", "")


def test_replace_takes_a_submission_id_only() -> None:
    refused = run_cli("submit", str(EXAMPLES / "first-submission.ttl"), "--server", "http://127.0.0.1:9", "--token", "x",
                      "--replace", "../../sparql")
    assert (refused.returncode, refused.stderr) == (
        2, "error: --replace '../../sparql' is not a submission's id (such as 2026-11-22-0a1b2c3d)\n")


def test_validate_gives_the_same_findings_as_the_server(submission_server: SubmissionServer) -> None:
    withdraw_all(submission_server)
    path = FIXTURES / "shapes" / "FundingShape" / "valid.ttl"
    broken = path.read_text().replace('    schema:funder organisation:koica ;\n', "")
    local = Path(submission_server.store_dir).parent / "broken-funding.ttl"
    local.write_text(broken)
    cli = run_cli("validate", "--with-data", "--format", "json", str(local))
    headers = {"Content-Type": "text/turtle", "Content-Disposition": 'attachment; filename="broken-funding.ttl"'}
    served = httpx.post(submission_server.url + "/validate", content=broken.encode(), headers=headers)

    def without_file(results: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "file"} for r in results]

    assert cli.returncode == 1
    assert without_file(json.loads(cli.stdout)["results"]) == without_file(served.json()["results"]) != []


def test_a_value_of_the_wrong_datatype_gives_one_finding_on_the_line_of_its_triple() -> None:
    path = FIXTURES / "findings" / "amount-as-text.ttl"
    result = run_cli("validate", "--with-data", "--format", "json", str(path))
    assert result.returncode == 1, result.stderr
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "schema:value" in text)
    node = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("ex:amount"))
    assert line > node
    assert [(f["path"], f["value"], f["constraint"], f["line"]) for f in json.loads(result.stdout)["results"]] == [
        ("schema:value", '"1,200,000"', "sh:DatatypeConstraintComponent", line)
    ]


def test_the_readme_walkthrough_of_a_first_submission_works_as_shown(submission_server: SubmissionServer) -> None:
    withdraw_all(submission_server)
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    walkthrough = readme.split("\n## Your first submission\n")[1].split("\n## ")[0]
    example = EXAMPLES / "first-submission.ttl"
    store = {"ILOKG_STORE_DIR": str(submission_server.store_dir)}
    assert ".venv/bin/ilo-kg validate --with-data examples/first-submission.ttl" in walkthrough
    checked = run_cli("validate", "--with-data", str(example), env=store)
    assert checked.returncode == 0 and f"It prints `{checked.stdout.strip()}`" in walkthrough
    submit_line = "ILOKG_TOKEN=ilokg_… .venv/bin/ilo-kg submit examples/first-submission.ttl --server http://127.0.0.1:8000"
    assert submit_line in walkthrough
    env = {"ILOKG_TOKEN": submission_server.tokens["alice"]}
    stored = run_cli("submit", str(example), "--server", submission_server.url, env=env)
    assert stored.returncode == 0, stored.stderr
    shown = re.search(r"It prints `(accepted: [^`]*)`", walkthrough)
    assert shown is not None
    pattern = re.escape(shown.group(1)).replace(re.escape("2026-12-02-…"), r"\d{4}-\d{2}-\d{2}-[0-9a-f]{8}")
    pattern = pattern.replace(re.escape("http://127.0.0.1:8000/submissions/…"),
                              re.escape(submission_server.url + "/submissions/") + r"\d{4}-\d{2}-\d{2}-[0-9a-f]{8}")
    assert re.fullmatch(pattern, stored.stdout.strip()), stored.stdout
    submission_id = stored.stdout.split()[2]
    again = run_cli("validate", "--replaces", submission_id, str(example), env=store)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"note: Checked as the replacement of submission {submission_id} (by alice)" in again.stdout
    replaced = run_cli("submit", str(example), "--server", submission_server.url, "--replace", submission_id, env=env)
    assert replaced.returncode == 0, replaced.stderr
