"""Synthetic data in the project's own vocabulary, at any size, for the benchmarks.

Projects in real countries, funded by agencies with amounts, with themes and implementers:
the shapes of the bundled data, repeated. Deterministic for a given size.

    python -m bench.generate --triples 1000000 --out bench/work/1m/data/synthetic.ttl
"""

import argparse
import random
from pathlib import Path

import pycountry

ID = "https://w3id.org/ilo-partnerships/id/"
ILOP = "https://w3id.org/ilo-partnerships/ontology#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
SCHEMA = "https://schema.org/"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
THEMES = ["social-and-solidarity-economy", "cooperative-statistics", "occupational-safety-and-health",
          "social-protection", "public-employment-services", "skills-development", "economic-diversification"]
TRIPLES_PER_PROJECT = 17
AGENCIES = 500


def _iri(value: str) -> str:
    return f"<{value}>"


def generate(triples: int, out: Path) -> int:
    """Write about `triples` triples to `out` (N-Triples, which is also Turtle); return the count."""
    rng = random.Random(triples)
    countries = [c.alpha_2 for c in pycountry.countries]
    projects = max(1, (triples - AGENCIES * 4) // TRIPLES_PER_PROJECT)
    source = _iri(ID + "source/synthetic")
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as file:
        def emit(s: str, p: str, o: str) -> None:
            nonlocal written
            file.write(f"{s} {p} {o} .\n")
            written += 1

        for k in range(AGENCIES):
            agency = _iri(f"{ID}organisation/synthetic-agency-{k}")
            emit(agency, RDF_TYPE, _iri(ILOP + "GovernmentAgency"))
            emit(agency, LABEL, f'"Synthetic agency {k}"@en')
            emit(agency, _iri(DCTERMS + "spatial"), _iri(f"{ID}country/{rng.choice(countries)}"))
            emit(agency, _iri(PROV + "wasDerivedFrom"), source)
        for n in range(projects):
            project = _iri(f"{ID}project/synthetic-{n}")
            funding, amount = _iri(f"{ID}funding/synthetic-{n}"), _iri(f"{ID}amount/synthetic-{n}")
            association = _iri(f"{ID}association/synthetic-{n}")
            funder = _iri(f"{ID}organisation/synthetic-agency-{rng.randrange(AGENCIES)}")
            emit(project, RDF_TYPE, _iri(ILOP + "Project"))
            emit(project, LABEL, f'"Synthetic project {n}"@en')
            emit(project, _iri(DCTERMS + "spatial"), _iri(f"{ID}country/{rng.choice(countries)}"))
            emit(project, _iri(DCTERMS + "subject"), _iri(f"https://w3id.org/ilo-partnerships/codelist/theme/{rng.choice(THEMES)}"))
            emit(project, _iri(PROV + "wasDerivedFrom"), source)
            emit(project, _iri(PROV + "qualifiedAssociation"), association)
            emit(association, _iri(PROV + "agent"), funder)
            emit(association, _iri(PROV + "hadRole"), _iri("https://w3id.org/ilo-partnerships/codelist/organisation-role/funding"))
            emit(funding, RDF_TYPE, _iri(ILOP + "Funding"))
            emit(funding, LABEL, f'"Funding of synthetic project {n}"@en')
            emit(funding, _iri(SCHEMA + "funder"), funder)
            emit(funding, _iri(SCHEMA + "fundedItem"), project)
            emit(funding, _iri(SCHEMA + "amount"), amount)
            emit(funding, _iri(PROV + "wasDerivedFrom"), source)
            emit(amount, RDF_TYPE, _iri(SCHEMA + "MonetaryAmount"))
            emit(amount, _iri(SCHEMA + "value"), f'"{rng.randrange(10_000, 5_000_000)}.0"^^<http://www.w3.org/2001/XMLSchema#decimal>')
            emit(amount, _iri(SCHEMA + "currency"), '"USD"')
    return written


def projects_for(triples: int) -> int:
    """How many projects a data set of this size holds (the lookups draw from them)."""
    return max(1, (triples - AGENCIES * 4) // TRIPLES_PER_PROJECT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(f"wrote {generate(args.triples, args.out)} triples to {args.out}")


if __name__ == "__main__":
    main()
