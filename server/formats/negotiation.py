"""HTTP content negotiation (RFC 9110, section 12.5.1): q-values, wildcards and specificity."""

from collections.abc import Sequence

from server.problems import ProblemError


def _parse_accept(header: str) -> list[tuple[str, float, int]]:
    """(media range, q, specificity) for each entry of an Accept header; malformed ones are skipped."""
    entries = []
    for part in header.split(",")[:64]:  # a bound on hostile headers; real clients send a handful
        pieces = [p.strip() for p in part.split(";")]
        media_range = pieces[0].lower()
        if media_range.count("/") != 1:
            continue
        q = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        kind, subtype = media_range.split("/")
        specificity = 0 if kind == "*" else 1 if subtype == "*" else 2
        entries.append((media_range, q, specificity))
    return entries


def _quality(media_type: str, entries: list[tuple[str, float, int]]) -> float:
    """The q the client gives a media type: that of the most specific range that matches it."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] | None = None
    for media_range, q, specificity in entries:
        if media_range in (media_type, f"{kind}/*", "*/*") and (best is None or specificity > best[0]):
            best = (specificity, q)
    return 0.0 if best is None else best[1]


def choose(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the client prefers most (ties: the server's order), or None."""
    if not accept or not accept.strip():
        return offered[0] if offered else None
    entries = _parse_accept(accept)
    if not entries:
        return offered[0] if offered else None
    best, best_q = None, 0.0
    for media_type in offered:
        q = _quality(media_type, entries)
        if q > best_q:
            best, best_q = media_type, q
    return best


def accepts_html(accept: str | None) -> bool:
    """Whether the client explicitly asks for HTML (a browser), not merely any type."""
    entries = _parse_accept(accept or "")
    return any(media_range == "text/html" and q > 0 for media_range, q, _ in entries)


class FormatError(ProblemError):
    """A request names a format that is not offered (400), or accepts none of those offered (406)."""
