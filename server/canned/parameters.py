"""Canned-query parameters: a value from a URL, checked against its declared type, made an RDF term.

A value becomes a pyoxigraph term, and the term is written into the query by pyoxigraph's
own serialiser (N-Triples syntax, which SPARQL reads), inside a VALUES block: whatever a
value contains, it can only ever be one term. Nothing a user sends is pasted as text.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import pycountry
import pyoxigraph as ox

from server.canned.catalogue import CannedQuery, Parameter
from server.namespaces import DISPLAY_PREFIXES, ID, XSD

# ASCII digits only: Python's \d takes any script's digits ("٢٠٢٠"), which would be bound as ill-typed literals.
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_DECIMAL = re.compile(r"[+-]?([0-9]{1,18}(\.[0-9]{0,12})?|\.[0-9]{1,12})")
_YEAR = re.compile(r"[0-9]{4}")
# BCP 47 language tags, as the RDF and SPARQL grammars accept them.
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_MAX_TEXT = 1000

EXPECTED = {
    "iri": "the IRI (or prefixed name, such as {example}) of a {class_} in the graph",
    "string": "a text of at most 1000 characters",
    "text": "a text of at most 1000 characters, with a language tag (text@lang, for example {example}) "
            "or without one (any language)",
    "date": "a date written YYYY-MM-DD",
    "year": "a year written YYYY",
    "integer": "a whole number",
    "decimal": "a decimal number, such as 1000000 or 2.5",
    "country": "an ISO 3166-1 country code (alpha-2, alpha-3 or numeric), such as KR, KOR or 410",
    "enum": "one of: {values}",
}


class ParameterError(Exception):
    """A parameter value that is refused: which parameter, and what was expected."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def expected(parameter: Parameter) -> str:
    """What a parameter takes, in words."""
    return EXPECTED[parameter.type].format(
        example=parameter.example, class_=parameter.class_, values=", ".join(parameter.values or ()),
    )


def expand(name: str) -> str | None:
    """A prefixed name (with one of the project's display prefixes) as a full IRI, or None."""
    prefix, colon, local = name.partition(":")
    if colon and prefix in DISPLAY_PREFIXES and not local.startswith("//"):
        return DISPLAY_PREFIXES[prefix] + local
    return None


def to_term(parameter: Parameter, raw: str) -> ox.NamedNode | ox.Literal:
    """The RDF term a raw value stands for; raises ParameterError if it is not of the declared type."""
    value = raw.strip()
    term = _convert(parameter, value) if value else None
    if term is None:
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        raise ParameterError(parameter.name, f"{parameter.name} must be {expected(parameter)}; got {shown!r}.")
    return term


def _convert(parameter: Parameter, value: str) -> ox.NamedNode | ox.Literal | None:
    kind = parameter.type
    if kind == "iri":
        iri = expand(value) or value
        try:
            return ox.NamedNode(iri) if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", iri) else None
        except ValueError:
            return None
    if kind == "string":
        return ox.Literal(value) if len(value) <= _MAX_TEXT and "\x00" not in value else None
    if kind == "text":
        # With a tag (text@lang), that language; without one, a plain string, which a query reads as
        # "in any language". Text whose part after the last @ is no tag ("a@b c") is plain text.
        text, at, language = value.rpartition("@")
        tag = None
        if at and text and _LANGUAGE.fullmatch(language):
            value, tag = text, language.lower()
        if len(value) > _MAX_TEXT or "\x00" in value:
            return None
        try:
            return ox.Literal(value, language=tag) if tag else ox.Literal(value)
        except ValueError:  # a tag of the right shape that BCP 47 still refuses, such as "a"
            return None
    if kind == "date":
        try:
            return ox.Literal(date.fromisoformat(value).isoformat(), datatype=ox.NamedNode(XSD + "date")) \
                if len(value) == 10 else None
        except ValueError:
            return None
    if kind == "year":
        return ox.Literal(value, datatype=ox.NamedNode(XSD + "integer")) if _YEAR.fullmatch(value) else None
    if kind == "integer":
        return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer")) if _INTEGER.fullmatch(value) else None
    if kind == "decimal":
        if not _DECIMAL.fullmatch(value):
            return None
        try:
            return ox.Literal(str(Decimal(value)), datatype=ox.NamedNode(XSD + "decimal"))
        except InvalidOperation:
            return None
    if kind == "country":
        country = _country(value)
        return ox.NamedNode(f"{ID}country/{country.alpha_2}") if country is not None else None
    if kind == "enum":
        return ox.Literal(value) if value in (parameter.values or ()) else None
    raise AssertionError(kind)


def _country(code: str) -> object | None:
    if code.isascii() and code.isdigit():
        return pycountry.countries.get(numeric=code.zfill(3))
    if len(code) == 2:
        return pycountry.countries.get(alpha_2=code.upper())
    if len(code) == 3:
        return pycountry.countries.get(alpha_3=code.upper())
    return None


def bind(query: CannedQuery, terms: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """The query's text with the given terms bound to their variables by VALUES blocks.

    The blocks open the WHERE clause, so every pattern and FILTER of the query sees the
    bound variables; a parameter with no value is left unbound. One block per variable
    (the same solution as one row of several): Virtuoso 7.2 filters wrongly on a row of two.
    """
    if not terms:
        return query.text
    block = "".join(f"\n  VALUES ?{name} {{ {terms[name]} }}" for name in sorted(terms)) + "\n"
    return query.text[: query.where_start] + block + query.text[query.where_start :]
