"""Configuration: one settings object, read from environment variables prefixed ILOKG_."""

import ipaddress
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from server.namespaces import BASE

# The repository root: server/ sits directly below it.
_PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting of the project; each can be overridden by ILOKG_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="ILOKG_", frozen=True)

    ontology_dir: Path = Field(_PROJECT_DIR / "ontology", description="Folder of the OWL vocabulary (Turtle).")
    shapes_dir: Path = Field(_PROJECT_DIR / "shapes", description="Folder of the SHACL shapes (Turtle).")
    data_dir: Path = Field(_PROJECT_DIR / "data", description="Folder of the bundled, sourced data (Turtle).")
    queries_dir: Path = Field(_PROJECT_DIR / "queries", description="Folder of the canned queries (.rq files).")
    web_vendor_dir: Path = Field(
        _PROJECT_DIR / "server" / "web" / "node_modules",
        description="Where npm installed the web UI's packages (YASGUI, Swagger UI); `make setup` fills it.",
    )
    max_input_bytes: int = Field(
        64 * 1024 * 1024, gt=0, description="Largest RDF file the validator reads, in bytes."
    )
    max_context_triples: int = Field(
        200_000, gt=0, description="Most triples of stored context a validation takes around the nodes it checks."
    )

    host: str = Field("127.0.0.1", description="Address the server listens on.")
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="Server logs as JSON lines (json), plain text (text), or auto: text when standard error "
        "is a terminal (a person running `make run`), JSON lines otherwise (a service manager, a log collector).",
    )
    submissions_enabled: bool = Field(
        True, description="Whether /submissions accepts data (with tokens); a public read-only mirror turns it off."
    )
    port: int = Field(8000, ge=0, le=65535, description="Port the server listens on.")
    store_dir: Path = Field(_PROJECT_DIR / "var" / "store", description="Folder of the embedded on-disk store.")
    query_timeout_seconds: float = Field(
        10.0, gt=0, description="Hard deadline of a SPARQL query; a client may ask for less, never more."
    )
    # More workers than a small machine has cores: a query that runs to its deadline holds a
    # worker the whole time, and with one worker per core two such queries would stall
    # everyone (bench/LOAD.md, 2 cores: p99 1.3 s with 2 workers, 0.4 s with 4).
    query_workers: int = Field(4, ge=1, description="Worker processes that run SPARQL queries.")
    # 1 by default: pipelining serves 1.5x the lookups of one core (bench.ceiling), but in the load test's hostile phase (a
    # pathological query a second beside good traffic) its p99 was 1 s against 0.2-0.26 s without (bench/LOAD.md).
    worker_pipeline_depth: int = Field(
        1, ge=1, le=64,
        description="Queries each query worker may be given at once, run in order (1: one at a time). More serves "
        "more lookups per core, at the price of latency beside long queries: none waits more than about 20 ms "
        "behind one, but under hostile load that adds up.",
    )
    queries_per_client: int = Field(
        4, ge=1, description="Queries one client address may have running or waiting at once (429 above it)."
    )
    queries_per_token: int = Field(
        8, ge=1, description="Queries one token holder (Authorization: Bearer) may have running or waiting at once."
    )
    workers_reserved_for_tokens: int = Field(
        1, ge=0, description="Query workers that anonymous clients never take, so token holders are answered at once."
    )
    query_demote_after_seconds: float = Field(
        0.1,
        ge=0,
        description="A query (or other store job) running longer than this drops to the lowest CPU priority, so "
        "that short queries keep their speed beside long ones (Linux only; 0 turns it off).",
    )
    max_query_bytes: int = Field(100_000, gt=0, description="Longest SPARQL query accepted, in bytes.")
    max_result_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="Largest serialised query result served, in bytes."
    )
    cache_entries: int = Field(2048, ge=0, description="Query results kept in the in-memory cache (0 turns it off).")
    # 16 MB: the explorer's pictures of a few thousand projects read answers of 4-10 MB; kept, a second visit draws
    # them in under 3 s instead of running the queries again (bench/RESULTS.md, pictures). The total stays bounded.
    cache_entry_bytes: int = Field(16 * 1024 * 1024, gt=0, description="Largest result the cache keeps, in bytes.")
    cache_total_bytes: int = Field(
        128 * 1024 * 1024, gt=0,
        description="Most bytes of answers each cache keeps in all (the SPARQL answer cache, and canned answers as sent).",
    )
    explorer_warmup: bool = Field(
        True, description="Compute the explorer's unfiltered answers in the background whenever the data changes, so that "
        "its first visitor after a change finds them ready (at 10,000 projects they take seconds; bench/RESULTS.md).",
    )
    page_size: int = Field(1000, gt=0, description="Rows of a canned query's answer per page, unless the client asks for fewer.")
    max_page_size: int = Field(10_000, gt=0, description="Most rows of a canned query's answer a client may ask for in one page.")
    submissions_dir: Path | None = Field(
        None, description="Folder of submitted files and their reports; by default beside the store, named <store>-submissions."
    )
    tokens_file: Path = Field(
        _PROJECT_DIR / "var" / "tokens.json",
        description="File of submission tokens (hashed), written by `ilo-kg token add`; read again when it changes.",
    )
    max_submission_bytes: int = Field(
        5 * 1024 * 1024, gt=0, description="Largest body accepted by /validate and /submissions, in bytes."
    )
    header_timeout_seconds: float = Field(
        10.0, gt=0, description="Time a client has to send a request's headers, from its first byte (408 after it)."
    )
    max_header_bytes: int = Field(
        65536, gt=0, description="Longest request line and headers accepted, in bytes (431 above it)."
    )
    max_header_fields: int = Field(100, gt=0, description="Most header fields in one request (431 above it).")
    body_timeout_seconds: float = Field(
        20.0, gt=0, description="Time a client has to send a request body (408 after it), plus one second per "
        "body_min_rate bytes received."
    )
    body_min_rate: int = Field(
        500, gt=0, description="Bytes per second that earn a slow client one more second to send its body."
    )
    send_timeout_seconds: float = Field(
        60.0, gt=0, description="Time a client may take none of an answer while the server has more of it waiting "
        "(the connection's buffer full); the connection is cut after it."
    )
    max_submission_triples: int = Field(100_000, gt=0, description="Most triples in one submitted file.")
    parse_timeout_seconds: float = Field(10.0, gt=0, description="Deadline for reading one submitted file.")
    validation_timeout_seconds: float = Field(30.0, gt=0, description="Deadline for validating one submitted file.")
    validation_workers: int = Field(1, ge=1, description="Worker processes that read and validate submitted files.")
    validations_per_client: int = Field(
        2, ge=1, description="Validations one client address may have running or waiting at once (429 above it)."
    )
    validations_per_token: int = Field(
        16, ge=1, description="Validations and submissions one token holder may have running or waiting at once."
    )
    validation_queue: int = Field(16, ge=1, description="Validations that may wait for a worker before more are refused (503).")
    submission_rate: str = Field(
        "30/minute", description="Submissions (create, replace, withdraw) one token may make, as 'N/second|minute|hour'."
    )
    validation_rate: str = Field("120/minute", description="Validations one client address may ask for, as 'N/minute'.")
    data_base: str = Field(
        BASE,
        description="Namespace of the IRIs the data mints; each IRI below it is served at the same path on this "
        "server (set it when the server's public address is not the IRIs' own).",
    )
    dump_timeout_seconds: float = Field(300.0, gt=0, description="Deadline for writing the dumps of one version of the data.")
    service_allowlist: list[str] = Field(
        default_factory=list,
        description="SPARQL endpoints a query may call with SERVICE (JSON list); empty: SERVICE is refused.",
    )
    public_url: str | None = Field(
        None,
        description="The server's public address, such as https://kg.example.org: the scheme, host and port that the "
        "absolute links in answers name (the dataset and service descriptions, paging links, JSON-LD contexts), "
        "whatever Host header or forwarded scheme a request carries. Unset: the address each request was sent to.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the reverse proxies or load balancers in front of the server, as "
        "a JSON list, e.g. [\"127.0.0.1\"]. From these peers only, X-Forwarded-For names the client (whose address "
        "the fair shares and rates count) and X-Forwarded-Proto the scheme of the links in answers. Empty: those "
        "headers are ignored whoever sends them, and each client is the address that connected.",
    )
    federation_timeout_seconds: float = Field(
        5.0, gt=0, description="Deadline of one SERVICE call to an allowlisted endpoint (within the query's own)."
    )
    federation_max_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="Largest answer accepted from one SERVICE call, in bytes."
    )
    worker_memory_bytes: int = Field(
        3 * 1024 * 1024 * 1024, ge=0,
        description="Address space each worker process may use (RLIMIT_AS), in bytes; a query that needs more is "
        "stopped and answered 422 (0: no cap).",
    )
    store_url: str | None = Field(
        None,
        description="SPARQL 1.1 query endpoint of an external store (oxigraph serve, Virtuoso, …) to serve instead of "
        "the embedded one, e.g. http://127.0.0.1:7878/query. Plain http://; see the README's deployment section.",
    )
    store_update_url: str | None = Field(
        None, description="SPARQL 1.1 Update endpoint of the external store (e.g. http://127.0.0.1:7878/update)."
    )
    store_graph_store_url: str | None = Field(
        None,
        description="Graph Store Protocol endpoint of the external store, through which `ilo-kg load` and the server's "
        "start put the project's files, one named graph each (e.g. http://127.0.0.1:7878/store).",
    )
    store_user: str | None = Field(
        None, description="User name for the external store's update and graph store endpoints (queries are sent without)."
    )
    store_password: SecretStr | None = Field(None, description="Password for store_user.")
    store_auth: Literal["basic", "digest"] = Field(
        "basic", description="How store_user authenticates: HTTP basic, or digest (Virtuoso's /sparql-auth)."
    )
    store_connections: int = Field(
        16, ge=1, description="Queries sent to the external store at once by one server process (more wait their turn)."
    )
    store_write_timeout_seconds: float = Field(
        120.0, gt=0, description="Deadline for one write to the external store (a submission, or one file of a load)."
    )
    store_poll_seconds: float = Field(
        1.0, gt=0,
        description="How often a server on an external store checks the data version there, so that its caches, "
        "ETags and submission records follow writes made by other replicas.",
    )
    store_lease_seconds: float = Field(
        15.0, gt=0,
        description="How long the write lease a replica takes in the external store lasts without being renewed "
        "(renewed every third of it while the replica writes); a replica that dies holding it delays others this long.",
    )
    allow_uncontained: bool = Field(
        False,
        description="Serve on a non-loopback address even where the kernel cannot keep the workers off the network "
        "(no Landlock, seccomp or user namespaces); the text check of queries is then the only guard.",
    )


    @field_validator("*", mode="after")
    @classmethod
    def _absolute(cls, value: object) -> object:
        # Folders are resolved once, against the directory the process started in: a relative store path
        # compared with the resolved links of the store's generations would not match them (and the
        # workers, the CLI and the server must all mean the same folder).
        return value.absolute() if isinstance(value, Path) else value

    @field_validator("public_url", mode="after")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - read for its check: a port that is not a number raises
        except ValueError:
            parts = parts._replace(netloc="")
        if (parts.scheme not in ("http", "https") or not parts.hostname or not value.isascii() or "@" in parts.netloc
                or parts.path not in ("", "/") or parts.query or parts.fragment):
            raise ValueError(
                f"{value!r} is not the origin of a web address: write scheme, host and port only, such as "
                "https://kg.example.org or http://203.0.113.5:8080 (the server is served from its root; a host name "
                "in other scripts in its punycode form)"
            )
        return value.rstrip("/")

    @field_validator("trusted_proxies", mode="after")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        # Checked here because uvicorn takes an entry it cannot read as a name to compare literally, which would
        # trust nobody (or, with "*", everybody) without a word.
        # Written as uvicorn reads them: an address alone, a network by its first address (10.0.0.1/8 would not
        # parse there).
        networks = []
        for entry in value:
            try:
                network = ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (such as 10.0.0.0/8): list the addresses your proxies "
                    "connect from; host names and '*' are not taken, since anyone could then name their own address"
                ) from None
            networks.append(str(network.network_address) if "/" not in entry else str(network))
        return networks

    @model_validator(mode="after")
    def _one_store(self) -> "Settings":
        # The federation relay lives in the embedded store's workers; an external engine would call SERVICE itself.
        if self.store_url is not None and self.service_allowlist:
            raise ValueError("service_allowlist works with the embedded store only: an external store calls no endpoint "
                             "for this server (see the README's deployment section)")
        if self.store_url is not None and (self.store_update_url is None or self.store_graph_store_url is None):
            raise ValueError("store_update_url and store_graph_store_url are needed with store_url: the server puts the "
                             "project's files, the data version and submissions into the store")
        return self

    @property
    def worker_relay_port(self) -> int | None:
        """The one port workers may connect to (the federation relay's), or None: no network at all."""
        return self.port if self.service_allowlist else None

    @property
    def submission_files_dir(self) -> Path:
        """Where submitted files and reports are kept (submissions_dir, or beside the store)."""
        return self.submissions_dir or self.store_dir.with_name(self.store_dir.name + "-submissions")


def settings_problems(error: ValidationError | SettingsError) -> list[str]:
    """What is wrong with the settings the environment gives, one sentence per setting, named as it is set."""
    if isinstance(error, SettingsError):
        # pydantic-settings names the field but not the value: a list or object setting that is not JSON.
        field = re.search(r'field "(\w+)"', str(error))
        name = f"ILOKG_{field.group(1).upper()}" if field else "a setting"
        return [f"{name} is not valid JSON; write it as a JSON list or object, e.g. '[\"…\"]'."]
    problems = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["loc"]:
            field = str(problem["loc"][0])
            given = repr(problem["input"]) if isinstance(problem["input"], str) else json.dumps(problem["input"])
            shown = "" if Settings.model_fields[field].annotation in (SecretStr, SecretStr | None) else f"={given[:200]}"
            problems.append(f"ILOKG_{field.upper()}{shown}: {message}.")
        else:
            problems.append(f"The settings do not go together: {message}.")
    return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
