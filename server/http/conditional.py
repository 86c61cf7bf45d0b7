"""Conditional requests (RFC 9110, section 13): validators of an answer, and whether the client's copy is current.

Every route that answers with a validator uses these: a strong ETag made from what the answer
depends on, Last-Modified from the data's version, and 304 when If-None-Match (or, without it,
If-Modified-Since) says the client has it.
"""

import hashlib
import re
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request


def etag(*parts: str | bytes) -> str:
    """A strong ETag for an answer that depends on exactly these parts (data version, IRI, format…)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return f'"{digest.hexdigest()[:32]}"'


def validators(
    request: Request, tag: str, last_modified: datetime | None, exists: bool = True
) -> tuple[dict[str, str], bool]:
    """Caching headers for an answer, and whether the client's copy is current (answer 304; see not_modified)."""
    headers = {"ETag": tag, "Vary": "Accept", "Cache-Control": "no-cache"}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    return headers, not_modified(request, tag, last_modified, exists)


def not_modified(request: Request, etag: str, last_modified: datetime | None, exists: bool = True) -> bool:
    """Whether If-None-Match (or, without it, If-Modified-Since) says the client's copy is current.

    `If-None-Match: *` and a date match whatever representation there is, so they count only once
    the resource is known to exist (exists): a resource that does not exist, or a query that does
    not run, gets its 404 or 400 (RFC 9110, 13.1.2-13.1.3). An exact ETag names what was sent.
    """
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        # If-None-Match compares weakly (RFC 9110, 8.8.3.2): W/"x" and "x" name the same content.
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return etag.removeprefix("W/") in tags or (exists and "*" in tags)
    since = http_date(request.headers.get("if-modified-since"))
    if exists and since is not None and last_modified is not None:
        return last_modified.replace(microsecond=0) <= since
    return False


def http_date(value: str | None) -> datetime | None:
    """An HTTP-date in any of its three forms (RFC 9110, 5.6.7: IMF-fixdate, and the obsolete RFC 850
    and asctime forms, which recipients must still read), in UTC; None if it is not one."""
    # Each form has at most one comma: more is a list of dates, which the field may not hold.
    if not value or value.count(",") > 1:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        match = _RFC850.match(value.strip())
        if match is None:
            return None
        day, month, year, clock = match.groups()
        # Two-digit years: the one that is not more than 50 years ahead (RFC 9110, 5.6.7).
        full = 2000 + int(year)
        if full > datetime.now(UTC).year + 50:
            full -= 100
        try:
            parsed = datetime.strptime(f"{day} {month} {full} {clock}", "%d %b %Y %H:%M:%S")
        except ValueError:
            return None
    # Every HTTP-date is in UTC; the asctime form says so by saying nothing.
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # an offset that moves the first or last day of year 1 or 9999 past it
        return None


_RFC850 = re.compile(r"^[A-Za-z]+, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}:\d{2}:\d{2}) GMT$", re.ASCII)


def if_match(request: Request) -> list[str] | None:
    """The entity tags of If-Match (RFC 9110, 13.1.1), or None without the header. Weak tags are left out: If-Match
    compares strongly, so a weak tag matches nothing."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    return [tag for tag in (t.strip() for t in header.split(",")[:64]) if tag and not tag.startswith("W/")]
