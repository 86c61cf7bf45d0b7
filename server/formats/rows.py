"""The `rows` format: SPARQL solutions as plain JSON rows, for scripts and spreadsheets.

One object per solution, keyed by variable, null where a variable is unbound; IRIs and texts as
strings, blank nodes as `_:label`, numbers as JSON numbers, booleans as JSON booleans. Written in
the query worker from the engine's solutions (see store.query_worker), so the server sends the
bytes as they come.
"""

import json
import math
from decimal import Decimal

import pyoxigraph as ox

from server.formats.lexical import XSD_DECIMAL
from server.namespaces import XSD

_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger")}
_DECIMALS = {XSD + t for t in ("decimal", "double", "float")}


def plain_value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> object:
    """A term as a plain JSON value."""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if not isinstance(term, ox.Literal):
        return term.value if isinstance(term, ox.NamedNode) else str(term)
    value, datatype = term.value, term.datatype.value
    try:
        if datatype in _INTEGERS:
            return int(value)  # Python refuses more than 4,300 digits: the text is kept
        if datatype == XSD + "decimal":
            # Only xsd:decimal's own lexical form (an exponent could make an integer of any size), and no more
            # digits than Python writes an integer with.
            if len(value) > 4000 or not XSD_DECIMAL.fullmatch(value):
                return value
            number = Decimal(value)
            if number == number.to_integral_value():
                return int(number)
        if datatype in _DECIMALS:
            approximate = float(Decimal(value))
            # INF, NaN and numbers past a double's range have no JSON number: they keep their text.
            return approximate if math.isfinite(approximate) else value
    except (ValueError, ArithmeticError):
        return value  # an ill-typed literal keeps its text
    if datatype == XSD + "boolean":
        return value in ("true", "1")
    return value


def rows_document(solutions: ox.QuerySolutions) -> bytes:
    """The solutions as `{"columns": [...], "rows": [...]}`."""
    columns = [variable.value for variable in solutions.variables]
    rows = [
        {name: None if (term := solution[name]) is None else plain_value(term) for name in columns}
        for solution in solutions
    ]
    return json.dumps({"columns": columns, "rows": rows}, ensure_ascii=False).encode()
