"""What a resource page shows, as plain data: terms with their links, facts, the whole view.

Kept apart from the service that fills it, so the vocabulary's documentation can use the same
model without importing the query machinery.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    """One RDF term as a page shows it: text, and where it links to (if anywhere)."""

    text: str
    iri: str | None = None
    local: bool = False
    note: str | None = None


@dataclass
class Fact:
    """One property value of an entity, with what it nests (a blank node) and where it comes from."""

    predicate: Term
    value: Term
    nested: list["Fact"] = field(default_factory=list)
    graphs: list[Term] = field(default_factory=list)
    sources: list[Term] = field(default_factory=list)


@dataclass
class EntityView:
    """Everything an entity's page shows."""

    iri: str
    label: str
    types: list[Term]
    facts: list[Fact]
    incoming: list[Fact]
    incoming_total: int
    external: list[Term]
