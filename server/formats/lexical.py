"""XML Schema's lexical forms that answers and converters check text against before reading it as a number."""

import re

# xsd:decimal's lexical form (XML Schema 1.1 Part 2, 3.3.3): ASCII digits, no exponent, so its text is its size.
# Python's Decimal also reads exponents, NaN, separators and other scripts' digits, and writes the value out in
# full: "1e999999999" becomes a billion digits.
XSD_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
