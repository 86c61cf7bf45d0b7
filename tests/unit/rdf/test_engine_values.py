"""Which typed values the engine reads (and NaN, which it reads but cannot compute with): the quick judgment in
Python must never call readable what the engine does not, and the whole judgment must be the engine's own."""

import itertools

import pyoxigraph as ox
import pytest

from server.namespaces import XSD
from server.rdf.engine_values import surely_readable, unreadable

# Every string of up to four characters over the characters numbers and dates are made of, and the edges of the
# engine's ranges (20 digits before a decimal point and 18 after, 64-bit integers, days that do not exist).
SHORT = ["".join(c) for n in range(5) for c in itertools.product("09+-.eT:", repeat=n)]
EDGES = [
    "99999999999999999999", "170141183460469231731", "170141183460469231732", "100000000000000000000",
    "1.000000000000000001", "1.0000000000000000001", "-99999999999999999999.999999999999999999", ".000000000000000001",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "999999999999999999", "0000-01-01",
    "2024-02-29", "2023-02-29", "2024-04-31", "9999-12-31", "2024-1-01", "2024-01-01Z", "true", "false", "TRUE", "1",
    "0", "2", "1_000", "\u0661\u0662", " 12", "NaN", "INF", "1e5",
]
DATATYPES = ["decimal", "integer", "long", "date", "gYear", "boolean", "double", "gYearMonth", "duration"]


def engine_reads(value: str, datatype: str) -> bool:
    """The engine's own answer, asked directly: a number it can compute with, or a value it can cast from text."""
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))))
    if datatype in ("decimal", "integer", "long", "double"):
        # NaN is read, but equals nothing: no number to compute with (see engine_values).
        query = "SELECT (isNumeric(?o) && ?o = ?o AS ?ok) WHERE { ?s ?p ?o }"
    else:
        cast = f"<{XSD}{datatype}>"
        query = f'SELECT (DATATYPE(COALESCE({cast}(STR(?o)), "")) = {cast} AS ?ok) WHERE {{ ?s ?p ?o }}'
    (row,) = list(store.query(query))
    return row["ok"].value == "true"


@pytest.mark.parametrize("datatype", DATATYPES)
def test_the_judgment_is_the_engines_own_and_the_quick_one_never_wrongly_says_readable(datatype: str) -> None:
    values = SHORT + EDGES
    assert len(values) > 4000
    said = unreadable([(value, XSD + datatype) for value in values])
    truth = {index for index, value in enumerate(values) if not engine_reads(value, datatype)}
    assert said == truth
    assert [v for v in values if surely_readable(v, XSD + datatype) and not engine_reads(v, datatype)] == []
    # The quick judgment does decide most well-written values of the types it knows.
    if datatype in ("decimal", "integer", "date", "gYear", "boolean"):
        assert any(surely_readable(v, XSD + datatype) for v in values)
