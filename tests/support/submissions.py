"""Submission files the tests and benchmarks build: partnership programmes from the valid shape fixture, and a
large one of many triples linked by blank nodes."""

from tests.support.servers import FIXTURES


def programmes(intervals: list[str]) -> bytes:
    """A submission of one partnership programme per renewal interval (each an xsd:duration), ex:programme-00 on."""
    text = (FIXTURES / "shapes" / "PartnershipProgrammeShape" / "valid.ttl").read_text(encoding="utf-8")
    head, programme = text.split("ex:partnership a", 1)
    return (head + "".join(
        f"ex:programme-{n:02d} a" + programme.replace("Example Partnership Programme", f"Programme {n}")
        .replace('"P2Y"', f'"{interval}"') for n, interval in enumerate(intervals)
    )).encode()


def large_programme(notes: int, steps: int = 200) -> bytes:
    """One programme (ex:programme-00) with notes (a blank node each: 3 triples) and a list of steps (2 triples each,
    all linked by blank nodes, more than a part of an external store's write holds): 3 * notes + 2 * steps triples
    and a few more."""
    body = "".join(f' ;\n    ex:note [ ex:n {n} ; ex:text "Note {n}" ]' for n in range(notes))
    listed = " ".join(f'"step {n}"' for n in range(steps))
    return programmes(["P3Y"]).replace(b'"P3Y"^^xsd:duration',
                                       f'"P3Y"^^xsd:duration{body} ;\n    ex:steps ( {listed} )'.encode())
