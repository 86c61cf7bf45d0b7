"""The hostile-input corpus: requests a careless or hostile client sends, with the answer each must get.

Every case names its entry point, the request (built from a context that knows the server,
a listener on 127.0.0.1 standing where an attacker's host would be, a canary file outside
the data folder, and a token), the status it must get, and words of the message a person
can act on. tests/security/test_corpus.py runs them all against a real server and checks,
for each: that status and message, no 5xx and no traceback or server path in the answer,
nothing received by the listener, the canary's content nowhere, and the store unchanged.
bench/hostile.py runs the same corpus to record how long each answer takes.
"""

import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HOSTILE = FIXTURES / "hostile"
GOOD_FILE = Path(__file__).resolve().parent.parent.parent / "examples" / "first-submission.ttl"
DEEP = 1000


@dataclass(frozen=True)
class Context:
    """What a case's request may refer to."""

    url: str
    listener: str  # http://127.0.0.1:{port}/ of a listener that must receive nothing
    canary: Path  # a file outside the data folder whose content must never appear
    token: str


@dataclass(frozen=True)
class Request:
    """An HTTP request: method, path (appended to the server's URL) and httpx keyword arguments."""

    method: str
    path: str
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One hostile input: where it goes, what it is, and the answer it must get."""

    name: str
    entry: str
    build: Callable[[Context], Request]
    status: int
    message: str


def _fill(text: str, ctx: Context) -> str:
    """A case's text with the listener's URL (also with its colons as UCHAR escapes) and the canary's."""
    return text.format(listener=ctx.listener, listener_escaped=ctx.listener.replace(":", "\\u003A"),
                       canary=ctx.canary.as_uri())


def _sparql(query: str, method: str = "get", **extra: str) -> Callable[[Context], Request]:
    def build(ctx: Context) -> Request:
        text = _fill(query, ctx)
        if method == "get":
            return Request("GET", "/sparql", {"params": {"query": text, **extra}})
        return Request("POST", "/sparql", {"data": {"query": text, **extra}})
    return build


def _raw(method: str, path: str, **kwargs: object) -> Callable[[Context], Request]:
    return lambda ctx: Request(method, path.format(listener=ctx.listener), dict(kwargs))


def _body(path: str, content_type: str | None, body: str | bytes, auth: bool = False,
          headers: dict[str, str] | None = None) -> Callable[[Context], Request]:
    def build(ctx: Context) -> Request:
        data = body if isinstance(body, bytes) else _fill(body, ctx).encode()
        sent = dict(headers or {})
        if content_type is not None:
            sent["Content-Type"] = content_type
        if auth:
            sent["Authorization"] = f"Bearer {ctx.token}"
        return Request("POST", path, {"content": data, "headers": sent})
    return build


_NOT_ALLOWED = "is not allowed: this endpoint calls no other endpoint unless its operator allows it"
_NO_GRAPH = "names no graph of this store"
_UPDATE = "This endpoint answers queries only: SPARQL Update"
_DEADLINE = "The query was stopped at its deadline"
_REMOTE = "the JSON-LD refers to a remote @context (or @import), which is never fetched"
_ENTITIES = "RDF/XML entity declarations"
_NO_DUMP = "There is no dump file"
_NOT_IN_GRAPH = "The graph says nothing about"
_TOKEN = "Submitting needs a token"

_DEEP_TURTLE = "@prefix ex: <https://example.org/> .\nex:a ex:p " + "[ ex:p " * DEEP + "ex:b" + " ]" * DEEP + " .\n"
_HUGE_LITERAL = '<https://example.org/a> <https://example.org/p> "' + "x" * (6 * 1024 * 1024) + '" .\n'
_ENTITY_BOMB = (HOSTILE / "entity-bomb.rdf").read_text()
_EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "{canary}">]>'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="https://example.org/a">'
    "&e;</rdf:Description></rdf:RDF>"
)
_IMPORTS = (
    "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<https://example.org/ontology> a owl:Ontology ; "
    "owl:imports <{listener}ontology.ttl> .\n"
)
_INVALID_UTF8 = (HOSTILE / "invalid-utf8.ttl").read_bytes()
_NUL = b"<https://example.org/a> <https://example.org/p> \"a\x00b\" .\n"
_NONCHARACTER = '<https://example.org/a> <https://example.org/p> "a\ufffeb" .\n'.encode()
# Escaped, the file is valid Turtle; the value it makes is what XML cannot carry.
_ESCAPED_CONTROL = ('<https://example.org/a> a <https://w3id.org/ilo-partnerships/ontology#Ministry> ; '
                    '<http://www.w3.org/2000/01/rdf-schema#label> "a\\u0001b"@en .\n')


def _file_cases(entry: str, path: str, auth: bool) -> list[Case]:
    """The hostile files, sent to /validate or /submissions."""
    bad_data = 422 if auth else 400
    return [
        Case(f"{entry}-jsonld-remote-context", entry, _body(
            path, "application/ld+json", '{{"@context": "{listener}c.jsonld", "@id": "https://example.org/a"}}', auth),
            400, _REMOTE),
        Case(f"{entry}-jsonld-file-context", entry, _body(
            path, "application/ld+json", '{{"@context": "{canary}", "@id": "https://example.org/a"}}', auth), 400, _REMOTE),
        Case(f"{entry}-jsonld-import", entry, _body(
            path, "application/ld+json", '{{"@context": {{"@import": "{listener}c.jsonld"}}, "@id": "https://example.org/a"}}',
            auth), 400, _REMOTE),
        Case(f"{entry}-rdfxml-entity-bomb", entry, _body(path, "application/rdf+xml", _ENTITY_BOMB, auth), 400, _ENTITIES),
        Case(f"{entry}-rdfxml-external-entity", entry, _body(path, "application/rdf+xml", _EXTERNAL_ENTITY, auth),
             400, _ENTITIES),
        Case(f"{entry}-turtle-file-iri", entry, _body(
            path, "text/turtle", "<{canary}> <https://example.org/p> 1 .\n", auth), 400, "file: IRI"),
        Case(f"{entry}-turtle-relative-iri", entry, _body(
            path, "text/turtle", "<../../../etc/passwd> <https://example.org/p> 1 .\n", auth), 400, "relative IRI"),
        Case(f"{entry}-turtle-base-file", entry, _body(
            path, "text/turtle", "@base <file:///etc/> .\n<passwd> <https://example.org/p> 1 .\n", auth), 400, "file: IRI"),
        Case(f"{entry}-invalid-utf8", entry, _body(path, "text/turtle", _INVALID_UTF8, auth), 400, "UTF-8"),
        Case(f"{entry}-nul-byte", entry, _body(path, "text/turtle", _NUL, auth), 400, "control character U+0000"),
        Case(f"{entry}-noncharacter", entry, _body(path, "text/turtle", _NONCHARACTER, auth), 400, "noncharacter U+FFFE"),
        Case(f"{entry}-escaped-control", entry, _body(path, "text/turtle", _ESCAPED_CONTROL, auth), 422 if auth else 200,
             "The value of rdfs:label holds U+0001, a character that XML cannot carry"),
        Case(f"{entry}-huge-literal", entry, _body(path, "text/turtle", _HUGE_LITERAL, auth), 413, "bytes"),
        Case(f"{entry}-wrong-type", entry, _body(path, "text/plain", "hello", auth), 415, "text/plain is not an RDF syntax"),
        Case(f"{entry}-missing-type", entry, _body(path, None, "<https://example.org/a> <https://example.org/p> 1 .", auth),
             415, "Content-Type"),
        Case(f"{entry}-lying-type", entry, _body(path, "application/ld+json", GOOD_FILE.read_text(), auth), 400, ""),
        Case(f"{entry}-deep-nesting", entry, _body(path, "text/turtle", _DEEP_TURTLE, auth),
             200 if not auth else 422, ""),
    ] + ([
        Case("submissions-owl-imports", entry, _body(path, "text/turtle", _IMPORTS, auth), bad_data,
             "a submission may not import other documents"),
    ] if auth else [])


def _every_protocol_form(text: str) -> dict[str, Callable[[Context], Request]]:
    """The three ways the protocol carries a query: GET, a form POST, a direct POST."""
    return {"get": _sparql(text), "form": _sparql(text, "post"), "direct": _body("/sparql", "application/sparql-query", text)}


# SERVICE calls written the way the grammar allows and a lexer can miss, each found once by a probe.
HIDDEN_SERVICES = {
    "comment-ended-by-cr": "SELECT * WHERE {{ # a comment\rSERVICE <{listener}sparql> {{ ?s ?p ?o }} }}",
    "comment-ended-by-crlf": "SELECT * WHERE {{ # a comment\r\nSERVICE <{listener}sparql> {{ ?s ?p ?o }} }}",
    "keyword-colon": "PREFIX : <{listener}> SELECT * WHERE {{ SERVICE:sparql {{ ?s ?p ?o }} }}",
    "silent-colon": "PREFIX : <{listener}> SELECT * WHERE {{ SERVICE SILENT:sparql {{ ?s ?p ?o }} }}",
    "lower-case-colon": "PREFIX : <{listener}> SELECT * WHERE {{ service:sparql {{ ?s ?p ?o }} }}",
    "prefix-colon": "PREFIX:<{listener}> SELECT * WHERE {{ SERVICE :sparql {{ ?s ?p ?o }} }}",
    "escaped-hash-name": "PREFIX ex: <https://example.org/> SELECT * WHERE {{ BIND(ex:x\\# AS ?x) "
                         "SERVICE <{listener}sparql> {{ ?s ?p ?o }} }}",
    "uchar-in-iri": "SELECT * WHERE {{ SERVICE <{listener_escaped}sparql> {{ ?s ?p ?o }} }}",
    "uchar-quote-in-string": 'SELECT * WHERE {{ BIND("a\\u0022" AS ?x) SERVICE <{listener}sparql> {{ ?s ?p ?o }} }}',
    "escaped-quote-in-long-string": "SELECT * WHERE {{ BIND(\'\'\'it\\\'s\'\'\' AS ?x) "
                                    "SERVICE <{listener}sparql> {{ ?s ?p ?o }} }}",
    "in-a-subquery": "SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{listener}sparql> {{ ?s ?p ?o }} }} }} }}",
    "in-optional-minus-union": "SELECT * WHERE {{ {{ }} UNION {{ OPTIONAL {{ MINUS {{ "
                               "SERVICE <{listener}sparql> {{ ?s ?p ?o }} }} }} }} }}",
}


def _hidden_service_cases() -> list[Case]:
    cases = []
    for name, text in HIDDEN_SERVICES.items():
        for form, build in _every_protocol_form(text).items():
            cases.append(Case(f"sparql-hidden-service-{name}-{form}", "sparql", build, 400, "is not allowed"))
    return cases


def _nesting_cases() -> list[Case]:
    """Nesting that crashes the engine's parser or makes it backtrack for minutes: refused before it sees it."""
    deep = {
        "parentheses": "SELECT * WHERE {{ FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }}",
        "braces": "SELECT * WHERE " + "{{" * 5000 + "}}" * 5000,
        "negations": "ASK {{ FILTER(" + "!" * 5000 + "true) }}",
        "blank-node-brackets": "ASK {{ ?s ?p " + "[ ?p " * 300 + "1" + " ]" * 300 + " }}",
        "collections": "ASK {{ ?s ?p " + "( " * 300 + "1" + " )" * 300 + " }}",
        "subqueries": "SELECT * WHERE " + "{{ SELECT * WHERE " * 2000 + "{{}}" + "}}" * 2000,
        "mixed": "ASK {{ FILTER(" + "!(" * 20 + "true" + ")" * 20 + ") }}",
    }
    return [Case(f"sparql-nesting-{name}-{form}", "sparql", build, 400, "levels deep")
            for name, text in deep.items() for form, build in _every_protocol_form(text).items()]


def _coded_body_cases() -> list[Case]:
    """A body sent with a content coding, to every route that reads one: refused, never read as if it were plain."""
    gzipped_query = gzip.compress(b"SELECT * WHERE { ?s ?p ?o }")
    routes = {
        "sparql": ("/sparql", "application/sparql-query", gzipped_query, False),
        "sparql-form": ("/sparql", "application/x-www-form-urlencoded", gzip.compress(b"query=ASK%7B%7D"), False),
        "validate": ("/validate", "text/turtle", gzip.compress(GOOD_FILE.read_bytes()), False),
        "submissions": ("/submissions", "text/turtle", gzip.compress(GOOD_FILE.read_bytes()), True),
    }
    # What each coding is said to be; the body is gzip in all of them (or plain, under a label it does not have).
    codings = {"gzip": "gzip", "x-gzip": "x-gzip", "deflate": "deflate", "br": "br", "zstd": "zstd",
               "chain": "identity, gzip", "unknown": "x-our-own"}
    cases = [
        Case(f"{route}-coded-{name}", route.split("-")[0], _body(path, media_type, body, auth, {"Content-Encoding": value}),
             415, f"The request body is encoded ({value.removeprefix('identity, ')}), which this server does not read")
        for route, (path, media_type, body, auth) in routes.items() for name, value in codings.items()
    ]
    plain = GOOD_FILE.read_bytes()
    return [*cases, Case("validate-plain-labelled-br", "validate",
                         _body("/validate", "text/turtle", plain, headers={"Content-Encoding": "br"}), 415,
                         "The request body is encoded (br)")]


CASES: list[Case] = [
    # ---- /sparql: outbound calls, files, updates, pathological queries, limits, encodings
    Case("sparql-service", "sparql",
         _sparql("SELECT * WHERE {{ SERVICE <{listener}sparql> {{ ?s ?p ?o }} }}"), 400, _NOT_ALLOWED),
    Case("sparql-service-silent", "sparql",
         _sparql("SELECT * WHERE {{ SERVICE SILENT <{listener}sparql> {{ ?s ?p ?o }} }}"), 400, _NOT_ALLOWED),
    Case("sparql-service-variable", "sparql",
         _sparql("SELECT * WHERE {{ BIND(<{listener}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}"), 400, "(a variable)"),
    Case("sparql-service-prefixed", "sparql",
         _sparql("PREFIX x: <{listener}> SELECT * WHERE {{ SERVICE x:sparql {{ ?s ?p ?o }} }}"), 400, _NOT_ALLOWED),
    Case("sparql-service-post", "sparql",
         _sparql("SELECT * WHERE {{ SERVICE <{listener}sparql> {{ ?s ?p ?o }} }}", "post"), 400, _NOT_ALLOWED),
    Case("sparql-from-http", "sparql", _sparql("SELECT * FROM <{listener}data.ttl> WHERE {{ ?s ?p ?o }}"), 400, _NO_GRAPH),
    Case("sparql-from-file", "sparql", _sparql("SELECT * FROM <{canary}> WHERE {{ ?s ?p ?o }}"), 400, _NO_GRAPH),
    Case("sparql-from-named-file", "sparql",
         _sparql("SELECT * FROM NAMED <{canary}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"), 400, _NO_GRAPH),
    Case("sparql-default-graph-uri-http", "sparql",
         lambda c: Request("GET", "/sparql", {"params": {"query": "SELECT * WHERE { ?s ?p ?o }",
                                                        "default-graph-uri": c.listener + "g"}}), 400, _NO_GRAPH),
    Case("sparql-named-graph-uri-file", "sparql",
         lambda c: Request("GET", "/sparql", {"params": {"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
                                                        "named-graph-uri": c.canary.as_uri()}}), 400, _NO_GRAPH),
    Case("sparql-insert-data", "sparql",
         _sparql("INSERT DATA {{ <https://example.org/a> <https://example.org/p> 1 }}"), 400, _UPDATE),
    Case("sparql-delete-where", "sparql", _sparql("DELETE WHERE {{ ?s ?p ?o }}", "post"), 400, _UPDATE),
    Case("sparql-load", "sparql", _sparql("LOAD <{listener}data.ttl>", "post"), 400, _UPDATE),
    Case("sparql-clear-all", "sparql", _sparql("CLEAR ALL", "post"), 400, _UPDATE),
    Case("sparql-drop-graph", "sparql",
         _sparql("DROP GRAPH <https://w3id.org/ilo-partnerships/graph/data/normlex>", "post"), 400, _UPDATE),
    Case("sparql-update-parameter", "sparql",
         lambda c: Request("POST", "/sparql", {"data": {"update": "CLEAR ALL"}}), 400, "SPARQL Update is not accepted"),
    Case("sparql-update-content-type", "sparql",
         _body("/sparql", "application/sparql-update", "CLEAR ALL"), 400, "SPARQL Update is not accepted"),
    Case("sparql-cartesian-product", "sparql",
         _sparql("SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }}", timeout="1"), 422, _DEADLINE),
    Case("sparql-any-path", "sparql",
         _sparql("SELECT (COUNT(*) AS ?n) WHERE {{ ?a (<urn:p>|!<urn:p>)* ?b . ?c ?d ?e }}", timeout="1"), 422, _DEADLINE),
    Case("sparql-huge-query", "sparql", _sparql("SELECT * WHERE {{ ?s ?p ?o }} #" + "x" * 200_000, "post"), 413,
         "this endpoint accepts at most"),
    Case("sparql-huge-regex", "sparql",
         _sparql('SELECT * WHERE {{ ?s ?p ?o FILTER REGEX(STR(?o), "' + "(a+)+" * 20_000 + '$") }}', "post"), 413,
         "this endpoint accepts at most"),
    Case("sparql-syntax-error", "sparql", _sparql("SELECT * WHERE {{ ?s ?p }}"), 400, "Syntax error in the query at line 1"),
    Case("sparql-empty", "sparql", _sparql(" "), 400, "The query is empty."),
    Case("sparql-invalid-utf8-body", "sparql", _body("/sparql", "application/sparql-query", b"SELECT * WHERE { ?s ?p \xff }"),
         400, "UTF-8"),
    Case("sparql-nul-byte", "sparql", _body("/sparql", "application/sparql-query", b"SELECT * WHERE { ?s ?p ?o }\x00"), 400, ""),
    Case("sparql-lying-content-type", "sparql",
         _body("/sparql", "application/sparql-query", "query=SELECT%20*%20WHERE%20%7B%7D"), 400, "Syntax error"),
    Case("sparql-missing-content-type", "sparql", _body("/sparql", None, b"SELECT * WHERE { ?s ?p ?o }"), 415,
         "The request has no Content-Type: send the query as application/sparql-query"),
    Case("sparql-huge-body", "sparql", _body("/sparql", "application/x-www-form-urlencoded", "query=" + "x" * 2_000_000),
         413, ""),
    Case("sparql-unknown-format", "sparql", _sparql("SELECT * WHERE {{ ?s ?p ?o }}", format="yaml"), 400, "Unknown format"),
    Case("sparql-unsatisfiable-accept", "sparql",
         lambda c: Request("GET", "/sparql", {"params": {"query": "ASK {}"}, "headers": {"Accept": "image/png"}}), 406,
         "None of the accepted media types"),
    Case("sparql-huge-accept", "sparql",
         lambda c: Request("GET", "/sparql", {"params": {"query": "ASK {}"},
                                             "headers": {"Accept": ",".join(["text/x-nothing"] * 2000)}}), 406,
         "None of the accepted media types"),
    Case("sparql-timeout-not-a-number", "sparql", _sparql("ASK {{}}", timeout="forever"), 400,
         "timeout must be a number of seconds"),
    # ---- canned queries: injection through parameters, traversal in names, paging
    # A search for a strange text is a search: the value is bound as one literal, found nowhere.
    Case("queries-string-injection", "queries", _raw(
        "GET", "/queries/search", params={"q": '"} SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } #'}), 200, '"rows": []'),
    Case("queries-iri-injection", "queries", _raw(
        "GET", "/queries/project-profile", params={"project": "https://example.org/a> } SERVICE <{listener}"}), 422, "project"),
    Case("queries-country-injection", "queries", _raw(
        "GET", "/queries/projects", params={"country": "KR' OR 1=1 --"}), 422, "country"),
    # Found by the fuzzer: a language tag of the right shape that BCP 47 refuses was a 500.
    Case("queries-bad-language-tag", "queries", _raw("GET", "/queries/entity-by-label", params={"name": "0@A"}), 422, "name"),
    Case("queries-unknown-parameter", "queries", _raw("GET", "/queries/projects", params={"evil": "1"}), 422,
         "is not a parameter of this query"),
    Case("queries-huge-offset", "queries", _raw("GET", "/queries/projects", params={"offset": "999999999999"}), 422, "offset"),
    Case("queries-traversal-name", "queries", _raw("GET", "/queries/..%2F..%2Fetc%2Fpasswd"), 404, "There is nothing at"),
    Case("queries-traversal-text", "queries", _raw("GET", "/queries/..%2Fserver%2Fsettings.rq"), 404, "There is nothing at"),
    Case("queries-unknown-name", "queries", _raw("GET", "/queries/passwd"), 404, "There is no query named"),
    Case("queries-unknown-format", "queries", _raw("GET", "/queries/projects", params={"format": "pdf"}), 400, "Unknown format"),
    # ---- the explorer: its filters are canned-query parameters, bound as terms, reflected escaped
    Case("explore-iri-injection", "explore", _raw(
        "GET", "/explore", params={"partner": "https://example.org/a> } SERVICE <{listener}"}), 422, "partner must be"),
    Case("explore-script-in-a-filter", "explore", _raw(
        "GET", "/explore", params={"from": "<script>alert(1)</script>"}), 422,
        "from must be a year written YYYY; got &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;."),
    Case("explore-project-injection", "explore", _raw(
        "GET", "/explore", params={"project": '"} SERVICE <{listener}> { ?s ?p ?o } #'}), 422, "project must be"),
    Case("explore-unknown-parameter", "explore", _raw("GET", "/explore", params={"query": "ASK {}"}), 422,
         "is not a parameter of this query"),
    Case("explore-repeated-filter", "explore", _raw("GET", "/explore?from=2019&from=2020"), 422, "Give from once."),
    Case("explore-vendor-traversal", "explore", _raw("GET", "/assets/vendor/world-atlas/..%2F..%2F..%2F..%2Fpyproject.toml"),
         404, "There is nothing at"),
    # ---- our IRIs, dumps and static files: traversal and nonsense
    Case("pages-entity-traversal", "pages", _raw("GET", "/id/..%2F..%2F..%2Fetc%2Fpasswd"), 404, _NOT_IN_GRAPH),
    Case("pages-entity-huge-path", "pages", _raw("GET", "/id/" + "a" * 6000), 404, _NOT_IN_GRAPH),
    Case("pages-entity-unknown-format", "pages", _raw("GET", "/id/country/KR", params={"format": "exe"}), 400,
         "Unknown format"),
    Case("pages-dump-traversal", "pages", _raw("GET", "/dumps/..%2F..%2Fstore-manifest.json"), 404, _NO_DUMP),
    Case("pages-graph-traversal", "pages", _raw("GET", "/graph/..%2F..%2F..%2Fetc%2Fpasswd"), 404, "The store has no graph"),
    Case("pages-static-traversal", "pages", _raw("GET", "/assets/..%2F..%2Fsettings.py"), 404, "There is nothing at"),
    Case("pages-relay-guess", "pages", _raw("GET", "/_federation/guess/0"), 404, "Not found."),
    # ---- submissions: authentication and header abuse
    Case("submissions-no-token", "submissions", _body("/submissions", "text/turtle", GOOD_FILE.read_text()), 401, _TOKEN),
    Case("submissions-malformed-authorization", "submissions", _body(
        "/submissions", "text/turtle", GOOD_FILE.read_text(), headers={"Authorization": "Bearer " + "x" * 10_000}), 401,
        "The Authorization header must be 'Bearer <token>'."),
    Case("submissions-basic-authorization", "submissions", _body(
        "/submissions", "text/turtle", GOOD_FILE.read_text(), headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"}), 401,
        "The Authorization header must be 'Bearer <token>'."),
    Case("submissions-wrong-token", "submissions", _body(
        "/submissions", "text/turtle", GOOD_FILE.read_text(), headers={"Authorization": "Bearer ilokg_guess"}), 401,
        "The token is not valid"),
    Case("submissions-replace-traversal", "submissions", lambda c: Request(
        "PUT", "/submissions/..%2F..%2Fetc", {"content": GOOD_FILE.read_bytes(),
                                              "headers": {"Content-Type": "text/turtle", "Authorization": f"Bearer {c.token}"}}),
        404, ""),
    *_file_cases("validate", "/validate", auth=False),
    *_file_cases("submissions", "/submissions", auth=True),
    *_hidden_service_cases(),
    *_nesting_cases(),
    *_coded_body_cases(),
]
