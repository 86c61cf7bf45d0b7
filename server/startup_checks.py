"""Configurations the server refuses to start with, because they would be unsafe once it listens.

Checked by `ilo-kg serve` before it binds; each problem says what to change.
"""

import ipaddress
from urllib.parse import urlsplit

from server.settings import Settings
from server.submissions.records import foreign_entries
from server.submissions.tokens import TokenRegistry, TokensFileError
from server.workers import containment

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether an address (or host name) is this machine's loopback interface only."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _internal(host: str) -> bool:
    """Whether a host names this machine or a private network (by name or literal address; no lookup)."""
    if host.lower() in _LOOPBACK_NAMES or host.lower().endswith((".local", ".internal", ".localhost")):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


def uncontained_workers(settings: Settings, probed: containment.ProbeResult) -> list[str]:
    """The refusal to listen beyond loopback when the kernel could not keep a worker off the network."""
    if probed.contained or is_loopback(settings.host) or settings.allow_uncontained:
        return []
    why = "; ".join(f"{layer}: {reason}" for layer, reason in probed.missing.items()) or "a probe reached the network"
    return [
        f"the server would listen on {settings.host}, but this machine cannot keep its query workers off the network "
        f"({why}). Run it on Linux 6.7+ with libseccomp, or set ILOKG_ALLOW_UNCONTAINED=true to accept that the "
        "query text check alone stands between queries and your network."
    ]


def unsafe_configuration(settings: Settings) -> list[str]:
    """What is wrong with these settings for serving, one sentence each (empty: safe to start)."""
    problems = []
    submitted = settings.submission_files_dir
    if submitted.exists() and not submitted.is_dir():
        problems.append(f"the folder of submitted files {submitted} is a file: set ILOKG_SUBMISSIONS_DIR to a folder "
                        "of its own (it is made). Nothing was changed")
    elif foreign := foreign_entries(submitted):
        problems.append(
            f"the folder of submitted files {submitted} holds {', '.join(foreign[:3])}"
            f"{' and more' if len(foreign) > 3 else ''}, which no submission wrote: the server removes what is left "
            "over there, so set ILOKG_SUBMISSIONS_DIR to a folder of its own (it is made). Nothing was changed")
    try:
        issued: int | None = len(TokenRegistry(settings.tokens_file).entries())
    except TokensFileError as error:
        problems.append(str(error))
        issued = None
    for endpoint in settings.service_allowlist:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(
                f"ILOKG_SERVICE_ALLOWLIST holds {endpoint!r}, which is not an http(s) URL of a SPARQL endpoint."
            )
    if is_loopback(settings.host):
        return problems
    public = f"the server would listen on {settings.host} (reachable from other machines)"
    if settings.submissions_enabled and issued == 0:
        problems.append(
            f"{public} with submissions enabled but no token issued: issue one (ilo-kg token add NAME) "
            "or set ILOKG_SUBMISSIONS_ENABLED=false for a read-only server."
        )
    if settings.tokens_file.exists() and settings.tokens_file.stat().st_mode & 0o077:
        problems.append(f"{public}, and the tokens file {settings.tokens_file} is readable by other users: chmod 600 it.")
    for endpoint in settings.service_allowlist:
        host = urlsplit(endpoint).hostname or ""
        if _internal(host):
            problems.append(
                f"{public}, and ILOKG_SERVICE_ALLOWLIST lets queries call {endpoint}, on this machine or a private "
                "network: anyone could then reach it through SERVICE. Allow only public endpoints."
            )
    return problems
