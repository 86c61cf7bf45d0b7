"""Hostile files sent to /validate and /submissions: each refused with a 4xx saying what to do,
nothing fetched (a listener on 127.0.0.1 stands where a remote context or entity would be),
nothing stored, and the server still answering."""

import io
import zipfile

import httpx
import pytest

from server.exchange.spreadsheets import MAX_UNPACKED_BYTES
from server.formats.registry import XLSX
from tests.support.problems import problem
from tests.support.servers import EXAMPLES, FIXTURES, SubmissionServer, state

HOSTILE = FIXTURES / "hostile"
DEEP = 1000
LISTENER = "http://127.0.0.1:{port}/"


def _cases() -> list[tuple[str, str, str, int, str]]:
    """(name, content type, body with {listener}, status, start of the message)."""
    bnodes = "@prefix ex: <https://example.org/> .\nex:a ex:p " + "[ ex:p " * DEEP + "ex:b" + " ]" * DEEP + " .\n"
    jsonld_deep = '{"@id": "https://example.org/a", "https://example.org/p": ' * DEEP + '"v"' + "}" * DEEP
    xml_deep = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="https://example.org/">'
        + '<rdf:Description rdf:about="https://example.org/a"><ex:p>' * DEEP
        + "x" + "</ex:p></rdf:Description>" * DEEP + "</rdf:RDF>"
    )
    remote = "the JSON-LD refers to a remote @context (or @import), which is never fetched"
    return [
        ("jsonld-remote-context", "application/ld+json",
         '{{"@context": "{listener}context.jsonld", "@id": "https://example.org/a", "name": "x"}}', 400, remote),
        ("jsonld-file-context", "application/ld+json",
         '{{"@context": "file:///etc/passwd", "@id": "https://example.org/a", "name": "x"}}', 400, remote),
        ("jsonld-import", "application/ld+json",
         '{{"@context": {{"@import": "{listener}c.jsonld"}}, "@id": "https://example.org/a"}}', 400, remote),
        ("rdfxml-entity-bomb", "application/rdf+xml", (HOSTILE / "entity-bomb.rdf").read_text(), 400,
         "RDF/XML entity declarations"),
        ("rdfxml-external-entity", "application/rdf+xml",
         '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "{listener}secret">]>'
         '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="https://example.org/a">'
         "&e;</rdf:Description></rdf:RDF>", 400, "RDF/XML entity declarations"),
        ("turtle-file-iri", "text/turtle", (HOSTILE / "file-iri.ttl").read_text(), 400, "file: IRI <file:///etc/passwd>"),
        ("turtle-relative-iri", "text/turtle", (HOSTILE / "relative-iri.ttl").read_text(), 400,
         "relative IRI <../../etc/passwd>"),
        ("turtle-base-file", "text/turtle", "@base <file:///etc/> .\n<passwd> <https://example.org/p> 1 .\n", 400, "file: IRI"),
        # IRIs a browser runs or shows as content, as subject, object or datatype, in every syntax and any case:
        # a page linking to one would run a script (the pages link only http(s) IRIs, and their policy runs none).
        ("turtle-javascript-object", "text/turtle", "<https://example.org/a> <https://example.org/p> <javascript:alert(1)> .",
         400, "javascript: IRI <javascript:alert(1)> is not accepted: a browser runs or shows such an IRI as content"),
        ("turtle-javascript-subject-mixed-case", "text/turtle", "<JaVaScRiPt:alert(1)> <https://example.org/p> 1 .", 400,
         "javascript: IRI <JaVaScRiPt:alert(1)> is not accepted"),
        ("turtle-vbscript-datatype", "text/turtle", '<https://example.org/a> <https://example.org/p> "1"^^<vbscript:msgbox> .',
         400, "vbscript: IRI <vbscript:msgbox> is not accepted"),
        ("jsonld-data-id", "application/ld+json",
         '{{"@id": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "https://example.org/p": 1}}', 400,
         "data: IRI <data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==> is not accepted"),
        ("rdfxml-javascript-resource", "application/rdf+xml",
         '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="https://example.org/">'
         '<rdf:Description rdf:about="https://example.org/a"><ex:p rdf:resource="javascript:alert(1)"/></rdf:Description>'
         "</rdf:RDF>", 400, "javascript: IRI <javascript:alert(1)> is not accepted"),
        ("turtle-malformed", "text/turtle", (HOSTILE / "malformed.ttl").read_text(), 400, ""),
        ("turtle-deep-blank-nodes", "text/turtle", bnodes, 200, ""),
        ("turtle-deep-lists", "text/turtle", bnodes.replace("[ ex:p ", "( ").replace(" ]", " )"), 200, ""),
        ("jsonld-deep", "application/ld+json", jsonld_deep.replace("{", "{{").replace("}", "}}"), 200, ""),
        ("rdfxml-deep", "application/rdf+xml", xml_deep, 200, ""),
        ("json-not-jsonld", "application/json", "{{}}", 415, "application/json is not an RDF syntax"),
        ("text-plain", "text/plain", "hello", 415, "text/plain is not an RDF syntax"),
        ("lying-type", "text/turtle", '{{"@id": "https://example.org/a"}}', 400, ""),
        ("latin1-charset", "text/turtle; charset=iso-8859-1", "<https://example.org/a> <https://example.org/p> 1 .", 415,
         "Only UTF-8 is read"),
        ("empty", "text/turtle", "  \n", 400, "The file is empty."),
        # IRIs with a bidirectional formatting character (RFC 3987, 4.1), each of them, in each place an IRI goes.
        *[(f"turtle-bidi-u{code:04x}", "text/turtle", f"<https://example.org/a\\u{code:04X}b> <https://example.org/p> 1 .",
           400, f"IRI <https://example.org/a\\u{code:04X}b> holds U+{code:04X}, a bidirectional formatting character")
          for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))],
        ("turtle-bidi-predicate", "text/turtle", "<https://example.org/a> <https://example.org/p\\u202e> 1 .", 400,
         "IRI <https://example.org/p\\u202E> holds U+202E"),
        ("turtle-bidi-object", "text/turtle", "<https://example.org/a> <https://example.org/p> <https://example.org/\u202eb> .",
         400, "IRI <https://example.org/\\u202Eb> holds U+202E"),
        ("turtle-bidi-datatype", "text/turtle",
         '<https://example.org/a> <https://example.org/p> "1"^^<https://example.org/\u202et> .', 400,
         "IRI <https://example.org/\\u202Et> holds U+202E"),
        ("jsonld-bidi-id", "application/ld+json", '{{"@id": "https://example.org/\u202ea", "https://example.org/p": 1}}', 400,
         "IRI <https://example.org/\\u202Ea> holds U+202E"),
        ("rdfxml-bidi-about", "application/rdf+xml",
         '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="https://example.org/">'
         '<rdf:Description rdf:about="https://example.org/\u2067a"><ex:p>1</ex:p></rdf:Description></rdf:RDF>', 400,
         "IRI <https://example.org/\\u2067a> holds U+2067"),
        # IATI activity files: no document type (so no entity of any kind), nothing included or fetched.
        ("iati-entity-bomb", "application/xml", (HOSTILE / "entity-bomb.rdf").read_text().replace("rdf:RDF", "iati-activities"),
         400, "the XML declares a document type"),
        ("iati-entity-bomb-behind-a-comment", "application/xml",
         (HOSTILE / "entity-bomb.rdf").read_text().replace("rdf:RDF", "iati-activities")
         .replace("<!DOCTYPE", "<!-- an example: <iati-activities version='2.03'/> -->\n<!DOCTYPE", 1),
         400, "the XML declares a document type"),
        ("iati-external-entity", "application/xml",
         '<?xml version="1.0"?><!DOCTYPE iati-activities [<!ENTITY e SYSTEM "{listener}secret">]>'
         '<iati-activities version="2.03"><iati-activity><iati-identifier>&e;</iati-identifier></iati-activity>'
         "</iati-activities>", 400, "the XML declares a document type"),
        ("iati-parameter-entity", "application/xml",
         '<?xml version="1.0"?><!DOCTYPE iati-activities [<!ENTITY % p SYSTEM "{listener}p.dtd"> %p;]>'
         '<iati-activities version="2.03"/>', 400, "the XML declares a document type"),
        ("iati-external-dtd", "text/xml",
         '<?xml version="1.0"?><!DOCTYPE iati-activities SYSTEM "{listener}iati.dtd"><iati-activities version="2.03"/>',
         400, "the XML declares a document type"),
        ("iati-undeclared-entity", "application/xml",
         '<iati-activities version="2.03"><iati-activity><iati-identifier>&e;</iati-identifier></iati-activity>'
         "</iati-activities>", 400, "the XML cannot be read: "),
        ("iati-xinclude-and-stylesheet", "application/xml",
         '<?xml-stylesheet type="text/xsl" href="{listener}s.xsl"?><iati-activities version="2.03" '
         'xmlns:xi="http://www.w3.org/2001/XInclude"><iati-activity><iati-identifier>XM-DAC-41302-X</iati-identifier>'
         '<xi:include href="{listener}secret" parse="text"/></iati-activity></iati-activities>', 200, ""),
        ("iati-deep", "application/xml",
         '<iati-activities version="2.03"><iati-activity><iati-identifier>XM-DAC-41302-Y</iati-identifier>'
         + "<x>" * DEEP + "</x>" * DEEP + "</iati-activity></iati-activities>", 400, "the XML cannot be read: "),
        ("iati-file-document-link", "application/xml",
         '<iati-activities version="2.03"><iati-activity><iati-identifier>XM-DAC-41302-Z</iati-identifier>'
         '<document-link url="file:///etc/passwd" format="text/plain"/></iati-activity></iati-activities>', 200, ""),
        # XML is read by its root element: not IATI, so RDF/XML, which this is not either.
        # Codes and addresses that no IRI can hold, in every attribute that names a code: each a finding, never a 500.
        ("iati-codes-no-iri-can-hold", "application/xml",
         '<iati-activities version="2.03"><iati-activity xml:lang="en" default-currency="USD">'
         "<iati-identifier>XM-DAC-41302-Q</iati-identifier>"
         '<reporting-org ref="XM-DAC-41302" type="4 0"><narrative>ILO</narrative></reporting-org>'
         "<title><narrative>Q</narrative></title>"
         '<participating-org ref="a b" role="1" type="&lt;x&gt;"><narrative>Q</narrative></participating-org>'
         '<recipient-country code="K H" percentage="50"/><recipient-region code="7 98"/>'
         '<sector code="{{x}}"/><sector vocabulary="9 9" code="q"/>'
         '<budget type="1 "><period-start iso-date="2025-01-01"/><value>1</value></budget>'
         '<transaction><transaction-type code="a&quot;b"/><transaction-date iso-date="2025-01-01"/><value>1</value></transaction>'
         '<document-link url="https://example.org/a b" format="x"><title><narrative>d</narrative></title>'
         '<category code="&gt;"/></document-link>'
         '<result type="1 1"><title><narrative>r</narrative></title><indicator measure="|"><title><narrative>i</narrative>'
         "</title></indicator></result></iati-activity></iati-activities>", 200, ""),
        ("iati-language-no-tag", "application/xml",
         '<iati-activities version="2.03"><iati-activity><iati-identifier>XM-DAC-41302-L</iati-identifier>'
         '<title><narrative xml:lang="en_GB">Q</narrative></title></iati-activity></iati-activities>', 400,
         "xml:lang='en_GB' is not a language tag"),
        # A pattern's `$` also matches before a final line feed: this one reached rdflib and was a 500.
        *[(f"iati-language-ending-in-{name}", "application/xml",
           '<iati-activities version="2.03"><iati-activity><iati-identifier>XM-DAC-41302-L</iati-identifier>'
           f'<title><narrative xml:lang="en{reference}">Q</narrative></title></iati-activity></iati-activities>', 400,
           f"xml:lang='en{shown}' is not a language tag") for name, reference, shown in (
              ("line-feed", "&#10;", "\\n"), ("carriage-return", "&#13;", "\\r"), ("tab", "&#9;", "\\t"))],
        ("iati-not-iati", "application/xml", "<html><body>hello</body></html>", 400, "XML namespaces are required in RDF/XML"),
        ("csv-no-sheet", "text/csv", "a,b\n1,2\n", 400, "the first row names no sheet of the template"),
        ("csv-formula", "text/csv", "id,name,description,start,end,status,status date,themes,iati identifier,source\n"
         "x,\"=HYPERLINK(\"\"{listener}\"\")\",,,,,,,,ilo-news-2021-05-26\n", 200, ""),
    ]


CASES = _cases()


def test_the_cases_were_found() -> None:
    assert len(CASES) >= 18


@pytest.mark.parametrize(("name", "content_type", "body", "status", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_hostile_file_is_refused_without_fetching_or_storing_anything(
    submission_server: SubmissionServer, listener: tuple[int, list[bytes]],
    name: str, content_type: str, body: str, status: int, message: str,
) -> None:
    port, received = listener
    data = body.format(listener=LISTENER.format(port=port)).encode("utf-8")
    before = state(submission_server)
    checked = httpx.post(submission_server.url + "/validate", content=data, headers={"Content-Type": content_type}, timeout=30)
    assert checked.status_code == status, checked.text
    if status != 200:
        detail = problem(checked)[1]
        assert detail.split(": ", 1)[-1].startswith(message) or detail.startswith(message)
    headers = {"Content-Type": content_type, **submission_server.auth("alice")}
    submitted = httpx.post(submission_server.url + "/submissions", content=data, headers=headers, timeout=30)
    if status == 200:
        # Deeply nested files are read and validated like any other: stored if they conform.
        assert submitted.status_code in (201, 422), submitted.text
        if submitted.status_code == 201:
            assert httpx.delete(submission_server.url + submitted.headers["location"], headers=headers).status_code == 204
    else:
        assert submitted.status_code == status, submitted.text
        assert state(submission_server) == before
    assert received == []
    assert httpx.get(submission_server.url + "/health").status_code == 200


def test_invalid_utf8_is_refused_with_its_line_and_column(submission_server: SubmissionServer) -> None:
    data = (HOSTILE / "invalid-utf8.ttl").read_bytes()
    response = httpx.post(submission_server.url + "/validate", content=data, headers={"Content-Type": "text/turtle"})
    assert problem(response)[0] == 400
    body = response.json()
    assert (body["line"], body["column"]) == (2, 40)
    assert body["detail"] == "submission:2:40: the input is not valid UTF-8 (byte 0xe9); save the file as UTF-8"


def test_a_body_over_the_limit_is_refused_before_and_while_it_arrives(submission_server: SubmissionServer) -> None:
    big = b"# " + b"x" * (5 * 1024 * 1024) + b"\n"
    declared = httpx.post(submission_server.url + "/validate", content=big, headers={"Content-Type": "text/turtle"})
    assert problem(declared) == (
        413, "The request body is larger than the limit of 5242880 bytes; split the file into smaller ones."
    )

    def chunks():  # no Content-Length: the limit holds while the body streams in
        for _ in range(6):
            yield b"#" * (1024 * 1024) + b"\n"

    streamed = httpx.post(submission_server.url + "/validate", content=chunks(), headers={"Content-Type": "text/turtle"})
    assert streamed.status_code == 413


def test_a_file_with_too_many_triples_is_refused(submission_server: SubmissionServer) -> None:
    lines = "".join(f"<https://example.org/s{n}> <https://example.org/p> \"{n}\" .\n" for n in range(10001))
    headers = {"Content-Type": "application/n-triples"}
    response = httpx.post(submission_server.url + "/validate", content=lines.encode(), headers=headers)
    assert problem(response) == (
        413, "submission: the input holds more than 10000 triples, the most accepted at once; split it into smaller files"
    )


def _workbook_with(member: str, content: bytes) -> bytes:
    """A ZIP archive shaped like a workbook, one of whose parts is content."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                                b'package/2006/content-types"/>')
        archive.writestr(member, content)
    return buffer.getvalue()


def _external_entity(url: str) -> bytes:
    text = f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e SYSTEM "{url}secret">]><workbook>&e;</workbook>'
    return _workbook_with("xl/workbook.xml", text.encode())


XLSX_CASES = {
    "not-a-zip": (lambda _: b"PK not really", "the file is not an XLSX workbook"),
    "zip-bomb": (lambda _: _workbook_with("xl/worksheets/sheet1.xml", b" " * (MAX_UNPACKED_BYTES + 1)),
                 "the workbook unpacks into"),
    "external-entity": (_external_entity, "the workbook cannot be read"),
    "entity-bomb": (lambda _: _workbook_with("xl/workbook.xml", (HOSTILE / "entity-bomb.rdf").read_bytes()),
                    "the workbook cannot be read"),
}


@pytest.mark.parametrize("name", XLSX_CASES)
def test_a_hostile_workbook_is_refused_without_fetching_or_storing_anything(
    submission_server: SubmissionServer, listener: tuple[int, list[bytes]], name: str,
) -> None:
    port, received = listener
    build, message = XLSX_CASES[name]
    data = build(LISTENER.format(port=port))
    before = state(submission_server)
    for path, headers in (("/validate", {}), ("/submissions", submission_server.auth("alice"))):
        response = httpx.post(submission_server.url + path, content=data, timeout=30,
                              headers={"Content-Type": XLSX.media_type, **headers})
        assert response.status_code == 400, response.text
        assert problem(response)[1].split(": ", 1)[-1].startswith(message)
    assert state(submission_server) == before
    assert received == []


_STRAY_PARAMETERS = [
    ("POST", "/validate?replace={id}", "replace: not a parameter of POST /validate (its parameters: replaces)"),
    ("POST", "/validate?replaces={id}&replaces={id}", "replaces: given 2 times; give it once"),
    ("POST", "/validate?replaces={id}&Replaces=x",
     "Replaces: not a parameter of POST /validate (its parameters: replaces)"),
    ("POST", "/submissions?replaces={id}", "replaces: not a parameter of POST /submissions (its parameters: none)"),
    ("PUT", "/submissions/{id}?force=1",
     "force: not a parameter of PUT /submissions/{submission_id} (its parameters: none)"),
    ("DELETE", "/submissions/{id}?force=1",
     "force: not a parameter of DELETE /submissions/{submission_id} (its parameters: none)"),
    ("GET", "/submissions?submiter=bob", "submiter: not a parameter of GET /submissions (its parameters: submitter)"),
    ("GET", "/submissions?submitter=alice&submitter=bob", "submitter: given 2 times; give it once"),
    ("GET", "/submissions/{id}/report?format=json&format=html", "format: given 2 times; give it once"),
    ("GET", "/submissions/{id}?a%E2%80%AEb=1",
     "a\\u202eb: not a parameter of GET /submissions/{submission_id} (its parameters: none)"),
    ("GET", "/submissions/{id}/original?" + "&".join(f"p{n}=1" for n in range(3)),
     "p0: not a parameter of GET /submissions/{submission_id}/original (its parameters: none) (and 2 more)"),
]


@pytest.mark.parametrize(("method", "target", "message"), _STRAY_PARAMETERS, ids=[f"{c[0]} {c[1]}" for c in _STRAY_PARAMETERS])
def test_a_parameter_a_submission_route_does_not_take_or_one_given_twice_is_refused(
    submission_server: SubmissionServer, method: str, target: str, message: str,
) -> None:
    # A mistyped name (`replace` for `replaces`) once validated the file as a new submission without a word, and
    # of two values the last was taken.
    headers = {"Content-Type": "text/turtle", **submission_server.auth("alice")}
    data = (EXAMPLES / "first-submission.ttl").read_bytes()
    created = httpx.post(submission_server.url + "/submissions", content=data, headers=headers, timeout=60)
    assert created.status_code in (200, 201), created.text
    submission_id = created.json()["id"]
    before = state(submission_server)
    body = data if method in ("POST", "PUT") else None
    refused = httpx.request(method, submission_server.url + target.format(id=submission_id), content=body,
                            headers={**headers, "If-Match": created.headers.get("etag", "*")}, timeout=60)
    assert problem(refused) == (422, message)
    assert state(submission_server) == before
    withdrawn = httpx.delete(submission_server.url + f"/submissions/{submission_id}", headers=headers, timeout=60)
    assert withdrawn.status_code == 204


_FILE_NAMES = [
    ("attachment; filename*=UTF-8''report%E2%80%AElmth.ttl", "reportlmth.ttl"),  # displays as "reportltt.html"
    ("attachment; filename*=UTF-8''%E2%81%A6a%E2%81%A9b.ttl", "ab.ttl"),
    ('attachment; filename="../../etc/passwd.ttl"', "passwd.ttl"),
    ('attachment; filename="C:\\\\Users\\\\x\\\\y.ttl"', "y.ttl"),
    ("attachment; filename*=UTF-8''a%0D%0AX-Injected%3A%201.ttl", "aX-Injected: 1.ttl"),
    ("attachment; filename*=UTF-8''%00%07%1B.ttl", ".ttl"),
]


@pytest.mark.parametrize(("disposition", "kept"), _FILE_NAMES, ids=[c[1] for c in _FILE_NAMES])
def test_a_file_name_is_kept_without_paths_controls_or_bidirectional_characters(
    submission_server: SubmissionServer, disposition: str, kept: str,
) -> None:
    headers = {"Content-Type": "text/turtle", "Content-Disposition": disposition, **submission_server.auth("alice")}
    created = httpx.post(submission_server.url + "/submissions", content=(EXAMPLES / "first-submission.ttl").read_bytes(),
                         headers=headers, timeout=60)
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    try:
        assert created.json()["fileName"] == kept
        original = httpx.get(submission_server.url + location + "/original")
        assert original.headers["content-disposition"] == f'attachment; filename="{kept}"'
    finally:
        assert httpx.delete(submission_server.url + location, headers=headers, timeout=60).status_code == 204
