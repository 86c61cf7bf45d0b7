"""Durations (xsd:duration and its two derived types) between the server and an external store.

Every engine here holds a duration as its value, not as the text it was given: the embedded store and
`oxigraph serve` give it back in the canonical form of XML Schema 1.1 Part 2 (3.3.6.2: "P36M" comes back as
"P3Y"). Virtuoso 7.2 gives back a count of months ("36") or of seconds ("129600.0") instead, refuses such a literal
written as a constant in an update, and misreads whole seconds ("PT36S" is held as 36.36 s). So the remote store
writes durations in a form each engine tested reads as the same value (`as_written`), and reads any of an engine's
forms back as the canonical one (`canonical`), which is the embedded store's.
"""

import mmap
import re
from collections.abc import Iterator
from decimal import Decimal, localcontext
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from server.namespaces import XSD

DURATION_TYPES = frozenset(XSD + name for name in ("duration", "yearMonthDuration", "dayTimeDuration"))

_LEXICAL = re.compile(
    r"(-?)P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?|\.\d+)S)?)?",
    re.ASCII,
)
# Virtuoso's own forms: a count of months (an integer), or of seconds (a decimal or double, "1.06419e+07").
_MONTHS = re.compile(r"-?\d+", re.ASCII)
_SECONDS = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d{1,2})", re.ASCII)
# Longer text is left as it is: no real duration is longer, and the arithmetic below stays bounded (exact within
# _PRECISION digits: a number of _LONGEST characters, or of two exponent digits, has fewer).
_LONGEST = 100
_PRECISION = 300


def value_of(text: str) -> tuple[int, Decimal] | None:
    """The value of a duration's lexical form, as (months, seconds), both of its sign; None if it is not one."""
    match = _LEXICAL.fullmatch(text)
    if match is None:
        return None
    sign, years, months, days, hours, minutes, seconds = match.groups()
    total_months = int(years or 0) * 12 + int(months or 0)
    with localcontext(prec=_PRECISION):  # exact: the default context keeps 28 digits
        total_seconds = ((int(days or 0) * 24 + int(hours or 0)) * 60 + int(minutes or 0)) * 60 + Decimal(seconds or 0)
        return (-total_months, -total_seconds) if sign else (total_months, total_seconds)


def _decimal(number: Decimal) -> str:
    """A decimal's canonical form: no exponent, no trailing zeros after the point, no point for a whole number."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def canonical_form(months: int, seconds: Decimal, datatype: str = XSD + "duration") -> str:
    """The canonical lexical form of a duration's value (XML Schema 1.1 Part 2, duCanonicalMap and its two kin)."""
    negative = months < 0 or seconds < 0
    months, seconds = abs(months), seconds.copy_abs()
    years, months = divmod(months, 12)
    year_month = (f"{years}Y" if years else "") + (f"{months}M" if months else "")
    with localcontext(prec=_PRECISION):
        minutes, whole = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    days, hours = divmod(hours, 24)
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{_decimal(whole)}S" if whole else "")
    day_time = (f"{days}D" if days else "") + (f"T{time}" if time else "")
    if not year_month and not day_time:
        return "P0M" if datatype == XSD + "yearMonthDuration" else "PT0S"
    return ("-" if negative else "") + "P" + year_month + day_time


def canonical(text: str, datatype: str) -> str:
    """A duration as an engine gave it back (its lexical form, or Virtuoso's count of months or of seconds), in the
    canonical form; text that is none of these comes back as it is."""
    if len(text) > _LONGEST:
        return text
    value = value_of(text)
    if value is None and _MONTHS.fullmatch(text):
        value = (int(text), Decimal(0))
    elif value is None and _SECONDS.fullmatch(text):
        value = (0, Decimal(text))
    return text if value is None else canonical_form(*value, datatype)


def as_written(text: str, datatype: str) -> str:
    """The form in which a duration is written to an external store: the canonical one, except that a duration of
    days and time only is given in seconds with a fraction ("P1DT12H" as "PT129600.0S"), as Virtuoso misreads whole
    seconds and reads this form right. Text that is no duration is written as it is."""
    value = value_of(text) if len(text) <= _LONGEST else None
    if value is None:
        return text
    months, seconds = value
    if months or not seconds:
        return canonical_form(months, seconds, datatype)
    digits = _decimal(seconds.copy_abs())
    return ("-" if seconds < 0 else "") + "PT" + (digits if "." in digits else digits + ".0") + "S"


# A duration literal that ends an N-Triples line (its object): its text, its datatype. Its text holds no quote or
# backslash: any literal that does is no duration, and N-Triples escapes every quote inside a literal, so no match
# starts inside another one.
_IN_NTRIPLES = (
    r'"([^"\\\n]*)"\^\^<(' + "|".join(re.escape(t) for t in sorted(DURATION_TYPES)) + r")>(?=[ \t]*\.[ \t]*$)"
)
_IN_NTRIPLES_TEXT = re.compile(_IN_NTRIPLES, re.M)
_IN_NTRIPLES_BYTES = re.compile(_IN_NTRIPLES.encode(), re.M)


def canonical_in_ntriples(body: bytes) -> bytes:
    """N-Triples with each duration in the canonical form (see canonical)."""
    if b"uration>" not in body:
        return body

    def canonical_literal(match: re.Match[bytes]) -> bytes:
        text, datatype = (group.decode("utf-8", "surrogateescape") for group in match.groups())
        return f'"{canonical(text, datatype)}"^^<{datatype}>'.encode("utf-8", "surrogateescape")

    return _IN_NTRIPLES_BYTES.sub(canonical_literal, body)


def bound_in_template(ntriples: str) -> tuple[str, str]:
    """N-Triples as an update's template in which each duration is a variable, and the BINDs that give each its
    value (from the form `as_written`): Virtuoso refuses a duration written as a constant in an update (SR553),
    and takes the same value made by STRDT. Other engines read both alike."""
    # One variable per distinct value written: Virtuoso's compiler gives up on an update of a few thousand variables.
    variables: dict[tuple[str, str], str] = {}

    def variable(match: re.Match[str]) -> str:
        return variables.setdefault((as_written(match.group(1), match.group(2)), match.group(2)),
                                    f"?duration{len(variables)}")

    template = _IN_NTRIPLES_TEXT.sub(variable, ntriples)
    return template, " ".join(f'BIND(STRDT("{text}", <{datatype}>) AS {name})'
                              for (text, datatype), name in variables.items())


def mentions_durations(path: Path) -> bool:
    """Whether a file may hold a duration: its text names one of the duration types (by IRI or prefixed name)."""
    if path.stat().st_size == 0:
        return False
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as text:
        return text.find(b"uration") >= 0


def turtle_as_written(path: Path, output: BinaryIO) -> None:
    """A Turtle file as N-Triples, each duration in the form written to an external store (as_written): the Graph
    Store Protocol's PUT hands the text to the engine's own parser, and Virtuoso's reads "PT36S" as 36.36 s."""

    def written(quads: Iterator[ox.Quad]) -> Iterator[ox.Quad]:
        for quad in quads:
            value = quad.object
            if isinstance(value, ox.Literal) and value.datatype.value in DURATION_TYPES:
                text = as_written(value.value, value.datatype.value)
                quad = ox.Quad(quad.subject, quad.predicate, ox.Literal(text, datatype=value.datatype))
            yield quad

    with path.open("rb") as file:
        ox.serialize(written(ox.parse(file, format=ox.RdfFormat.TURTLE)), output, format=ox.RdfFormat.N_TRIPLES)
