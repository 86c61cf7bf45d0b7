"""Durations between the server and an external store: the canonical form is the embedded engine's, every form an
engine gives back reads as it, the written form keeps the value, and the rewrites touch nothing else."""

from decimal import Decimal

import pyoxigraph as ox
import pytest

from server.namespaces import XSD
from server.store.durations import as_written, bound_in_template, canonical, canonical_in_ntriples, value_of

DURATION, YEAR_MONTH, DAY_TIME = XSD + "duration", XSD + "yearMonthDuration", XSD + "dayTimeDuration"

LEXICAL = [
    ("P3Y", DURATION), ("P36M", DURATION), ("P1Y6M", DURATION), ("P12M", DURATION), ("-P3Y", DURATION),
    ("P0Y", DURATION), ("P0D", DURATION), ("PT0S", DURATION), ("-PT0S", DURATION), ("PT36H", DURATION),
    ("P1DT2H", DURATION), ("PT90M", DURATION), ("PT36S", DURATION), ("PT36.0S", DURATION), ("PT1.50S", DURATION),
    ("PT.5S", DURATION), ("PT5.S", DURATION), ("P400D", DURATION), ("-PT1H", DURATION), ("PT0.000001S", DURATION),
    ("P1Y2M3DT4H5M6.5S", DURATION), ("P1Y1D", DURATION), ("P0Y0M1DT0.0S", DURATION), ("PT123456.5S", DURATION),
    ("-P1Y1DT0.5S", DURATION), ("PT99999999999999999999S", DURATION), ("P9999Y", DURATION),
    ("P0Y", YEAR_MONTH), ("P14M", YEAR_MONTH), ("-P0Y", YEAR_MONTH), ("PT0S", DAY_TIME), ("P0D", DAY_TIME),
    ("PT36H", DAY_TIME), ("PT1.5S", DAY_TIME),
]
NOT_DURATIONS = ["P", "PT", "P1DT", "1Y", "P-1Y", "P1.5Y", "PT1H1D", "three years", "", "P1Y ", " P1Y"]


def _engine_form(text: str, datatype: str) -> str:
    """What the embedded engine holds for this literal (it keeps a duration as its value)."""
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"),
                      ox.Literal(text, datatype=ox.NamedNode(datatype)), ox.DefaultGraph()))
    return next(iter(store)).object.value


@pytest.mark.parametrize(("text", "datatype"), LEXICAL)
def test_the_canonical_form_is_the_embedded_engines(text: str, datatype: str) -> None:
    assert canonical(text, datatype) == _engine_form(text, datatype)


@pytest.mark.parametrize(("text", "datatype"), LEXICAL)
def test_the_written_form_has_the_same_value(text: str, datatype: str) -> None:
    written = as_written(text, datatype)
    assert value_of(written) == value_of(text)
    assert _engine_form(written, datatype) == _engine_form(text, datatype)


@pytest.mark.parametrize(
    ("text", "written"),
    [("P3Y", "P3Y"), ("P36M", "P3Y"), ("PT36S", "PT36.0S"), ("P1DT12H", "PT129600.0S"), ("-PT1H", "-PT3600.0S"),
     ("PT1.5S", "PT1.5S"), ("P1Y1D", "P1Y1D"), ("P0D", "PT0S")],
)
def test_days_and_time_alone_are_written_as_seconds_with_a_fraction(text: str, written: str) -> None:
    # Virtuoso reads "PT36S" as 36.36 s and "PT36.0S" right; a duration of months is a count it keeps.
    assert as_written(text, DURATION) == written


@pytest.mark.parametrize(
    ("given", "datatype", "expected"),
    [("36", DURATION, "P3Y"), ("-36", DURATION, "-P3Y"), ("18", DURATION, "P1Y6M"), ("1", DURATION, "P1M"),
     ("12", YEAR_MONTH, "P1Y"), ("0.0", DURATION, "PT0S"), ("0.0", YEAR_MONTH, "P0M"), ("129600.0", DURATION, "P1DT12H"),
     ("5400.0", DURATION, "PT1H30M"), ("-3600.0", DURATION, "-PT1H"), ("1.5", DURATION, "PT1.5S"),
     ("86400.0", DAY_TIME, "P1D"), ("3.456e+07", DURATION, "P400D"), ("1.06419e+07", DURATION, "P123DT4H5M")],
)
def test_virtuosos_counts_of_months_and_seconds_read_as_the_duration(given: str, datatype: str, expected: str) -> None:
    assert canonical(given, datatype) == expected


# Digits of other scripts make no duration (Python's \\d would take them, and the store would get "P3Y" for "P٣Y").
@pytest.mark.parametrize("text", NOT_DURATIONS + ["1e999", "1" * 101, "P" + "9" * 5000 + "Y", "PT1" + "0" * 200 + "S",
                                  "P٣Y", "PT３６S", "٣٦", "١٢٩٦٠٠.٠"])
def test_text_that_is_no_duration_or_too_long_is_left_as_it_is(text: str) -> None:
    assert canonical(text, DURATION) == text
    assert as_written(text, DURATION) == text


def test_the_arithmetic_is_exact_for_the_longest_text_taken() -> None:
    text = "PT" + "9" * 60 + "." + "1" * 30 + "S"
    assert len(text) <= 100 and value_of(text) == (0, Decimal("9" * 60 + "." + "1" * 30))
    assert canonical(text, DURATION).endswith("." + "1" * 30 + "S")


NTRIPLES = (
    '<https://example.org/a> <https://example.org/p> "P36M"^^<http://www.w3.org/2001/XMLSchema#duration> .\n'
    '_:b1 <https://example.org/p> "PT36H"^^<http://www.w3.org/2001/XMLSchema#dayTimeDuration> .\n'
    '<https://example.org/a> <https://example.org/label> "a \\"P3Y\\"^^<http://www.w3.org/2001/XMLSchema#duration> .'
    '"@en .\n'
    '<https://example.org/a> <https://example.org/q> "three"^^<http://www.w3.org/2001/XMLSchema#duration> .\n'
    '<https://example.org/a> <https://example.org/r> "P3Y" .\n'
    '<https://example.org/b> <https://example.org/p> "P3Y"^^<http://www.w3.org/2001/XMLSchema#duration> .\n'
)


def test_each_duration_of_a_template_is_bound_and_the_rest_kept() -> None:
    template, binds = bound_in_template(NTRIPLES)
    lines = template.splitlines()
    assert lines[0] == "<https://example.org/a> <https://example.org/p> ?duration0 ."
    assert lines[1] == "_:b1 <https://example.org/p> ?duration1 ."
    # The same value (P36M, P3Y) is one variable.
    assert lines[2:] == NTRIPLES.splitlines()[2:3] + ["<https://example.org/a> <https://example.org/q> ?duration2 ."] \
        + NTRIPLES.splitlines()[4:5] + ["<https://example.org/b> <https://example.org/p> ?duration0 ."]
    assert binds == (
        f'BIND(STRDT("P3Y", <{DURATION}>) AS ?duration0) BIND(STRDT("PT129600.0S", <{DAY_TIME}>) AS ?duration1) '
        f'BIND(STRDT("three", <{DURATION}>) AS ?duration2)'
    )
    update = f"INSERT {{ GRAPH <https://example.org/g> {{ {template} }} }} WHERE {{ {binds} }}"
    store = ox.Store()
    store.update(update)
    assert sorted(str(q.object) for q in store if q.predicate.value != "https://example.org/label") == sorted([
        f'"P3Y"^^<{DURATION}>', f'"P1DT12H"^^<{DAY_TIME}>', f'"three"^^<{DURATION}>', '"P3Y"', f'"P3Y"^^<{DURATION}>',
    ])


def test_without_durations_a_template_is_unchanged() -> None:
    text = NTRIPLES.splitlines()[2] + "\n" + NTRIPLES.splitlines()[4] + "\n"
    assert bound_in_template(text) == (text, "")


def test_answers_in_ntriples_read_with_each_duration_canonical() -> None:
    virtuosos = NTRIPLES.replace('"P36M"', '"36"').replace('"PT36H"', '"129600.0"').encode()
    expected = NTRIPLES.replace('"P36M"', '"P3Y"').replace('"PT36H"', '"P1DT12H"').encode()
    assert virtuosos != NTRIPLES.encode() != expected
    assert canonical_in_ntriples(virtuosos) == expected
    assert canonical_in_ntriples(NTRIPLES.encode()) == expected
    tabbed = b'<a>\t<p>\t"36"^^<http://www.w3.org/2001/XMLSchema#duration> .\n'
    assert canonical_in_ntriples(tabbed) == tabbed.replace(b'"36"', b'"P3Y"')
    not_utf8 = b'<a> <p> "\xff" .\n'
    assert canonical_in_ntriples(not_utf8 + tabbed) == not_utf8 + tabbed.replace(b'"36"', b'"P3Y"')
