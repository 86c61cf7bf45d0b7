"""Typed literals as the engine reads them: which values it can count, sum, compare and date.

rdflib (and so pyshacl's sh:datatype) reads an xsd:decimal with Python's Decimal, which takes "1e5", "NaN",
"1_000", digits of any script and numbers of any size; the engine (pyoxigraph, and the stores behind it) reads only
XML Schema's lexical forms, within its own ranges (a decimal of at most 18 fractional digits and about 1.7 × 10^20,
an integer of 64 bits), and holds anything else as an ill-typed literal: kept, but every sum, comparison or YEAR()
over it is an error. One such amount among a currency's records makes the currency's total disappear from every
answer. So what the shapes accept is checked again here, by the engine itself. NaN, which the engine reads, is
refused with them: it is no number to compute with (see _unreadable_filter).
"""

import re
from collections.abc import Sequence
from datetime import date

import pyoxigraph as ox

from server.namespaces import XSD

_NUMERIC = tuple(XSD + t for t in (
    "decimal", "integer", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "negativeInteger", "nonPositiveInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
))
# Datatypes the engine reads by casting: a lexical form it can cast from a string is one it reads.
_CAST = tuple(XSD + t for t in (
    "boolean", "date", "dateTime", "time", "gYear", "gYearMonth", "gMonth", "gDay", "gMonthDay", "duration",
    "dayTimeDuration", "yearMonthDuration",
))
CHECKED_DATATYPES = frozenset(_NUMERIC + _CAST)

# What each datatype's values look like to the engine, for the message that refuses one.
FORMS = {
    XSD + "decimal": "digits with an optional sign and point, no exponent, at most 20 digits before the point and 18 "
                     "after (1200000 or 0.5)",
    XSD + "double": "a number such as 1.5E3, 0.25 or INF (not NaN, which is no number)",
    XSD + "float": "a number such as 1.5E3, 0.25 or INF (not NaN, which is no number)",
    XSD + "boolean": "true, false, 1 or 0",
    XSD + "date": "YYYY-MM-DD, a day that exists (2024-02-29, not 2023-02-29)",
    XSD + "dateTime": "YYYY-MM-DDThh:mm:ss, with an optional time zone (2024-03-01T09:30:00Z)",
    XSD + "time": "hh:mm:ss (09:30:00)",
    XSD + "gYear": "a year of ASCII digits (2024)",
    XSD + "gYearMonth": "YYYY-MM (2024-03)",
    XSD + "duration": "P, then years, months, days and a time part (P1Y6M, PT36H)",
    XSD + "dayTimeDuration": "P, then days and a time part, without years or months (P3DT12H)",
    XSD + "yearMonthDuration": "P, then years and months only (P1Y6M)",
}
INTEGER_FORM = "digits with an optional sign, between -9223372036854775808 and 9223372036854775807"

_SUBJECT = "urn:x-ilo-kg:literal:"
_PREDICATE = ox.NamedNode("urn:x-ilo-kg:value")


def _unreadable_filter() -> str:
    numeric = ", ".join(f"<{d}>" for d in _NUMERIC)
    casts = " || ".join(f'(DATATYPE(?o) = <{d}> && DATATYPE(COALESCE(<{d}>(STR(?o)), "")) != <{d}>)' for d in _CAST)
    # NaN is read, but is no number to compute with: a sum over it is NaN, it equals nothing, not even itself, and
    # Virtuoso 7.2's store refuses every write for good once a NaN sits in its index beside another number
    # (measured: "Insert stopped because out of seg data ... RDF_QUAD_OP").
    return f"(DATATYPE(?o) IN ({numeric}) && (!isNumeric(?o) || ?o != ?o)) || {casts}"


_QUERY = f"SELECT ?s WHERE {{ ?s <{_PREDICATE.value}> ?o FILTER ({_unreadable_filter()}) }}"


# Forms the engine surely reads, told in Python so that the engine is asked only about the rest (asking it costs
# some 25 µs a value; a file of 100,000 amounts and dates took 4 s that way). Narrower than the engine's reading:
# anything else goes to the engine, never the other way round.
_SURELY = {
    XSD + "decimal": re.compile(r"[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})"),
    XSD + "integer": re.compile(r"[+-]?[0-9]{1,18}"),
    XSD + "gYear": re.compile(r"[0-9]{4}"),
    XSD + "boolean": re.compile(r"true|false|1|0"),
}
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def surely_readable(value: str, datatype: str) -> bool:
    """Whether the value is of a form the engine surely reads as the datatype (False: ask the engine)."""
    if datatype == XSD + "date":
        if not _DAY.fullmatch(value):
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    pattern = _SURELY.get(datatype)
    return pattern is not None and pattern.fullmatch(value) is not None


def unreadable(literals: Sequence[tuple[str, str]]) -> set[int]:
    """The indexes of the (lexical form, datatype IRI) pairs the engine cannot read as their datatype: held as
    text, they make every computation over them an error. Datatypes outside CHECKED_DATATYPES are not judged."""
    store = ox.Store()
    store.extend(
        ox.Quad(ox.NamedNode(f"{_SUBJECT}{index}"), _PREDICATE, ox.Literal(value, datatype=ox.NamedNode(datatype)))
        for index, (value, datatype) in enumerate(literals)
        if datatype in CHECKED_DATATYPES and not surely_readable(value, datatype)
    )
    return {int(row["s"].value.removeprefix(_SUBJECT)) for row in store.query(_QUERY)}  # type: ignore[union-attr]


def form_of(datatype: str) -> str:
    """How a value of the datatype is written so that the engine reads it."""
    return FORMS.get(datatype, INTEGER_FORM)
