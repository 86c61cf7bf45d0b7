"""A graph's content in parts for an external store: every triple in exactly one part, no part over its size unless
blank nodes link more triples than that, and the triples sharing a blank node (through triple terms too) always in
one part, since each update makes its template's blank nodes anew."""

import random

import pyoxigraph as ox
import pytest

from server.store.parts import in_parts

EX = "https://example.org/"


def _triples(text: str) -> list[ox.Quad]:
    return list(ox.parse(text, format=ox.RdfFormat.N_TRIPLES))


def _labels(term: object) -> set[str]:
    if isinstance(term, ox.BlankNode):
        return {term.value}
    if isinstance(term, ox.Quad | ox.Triple):
        return _labels(term.subject) | _labels(term.object)
    return set()


def _document(seed: int) -> str:
    """Plain triples, blank node chains of many lengths (one longer than a part), lists and triple terms, shuffled."""
    rng = random.Random(seed)
    lines = [f'<{EX}s{n}> <{EX}p> "{n}" .' for n in range(700)]
    for chain in range(60):
        length = rng.choice([1, 2, 3, 7, 40])
        lines.append(f"<{EX}root{chain}> <{EX}has> _:c{chain}x0 .")
        lines += [f"_:c{chain}x{k} <{EX}next> _:c{chain}x{k + 1} ." for k in range(length)]
    lines += [f"_:long{k} <{EX}next> _:long{k + 1} ." for k in range(300)]
    lines += [f"<{EX}s{n}> <{EX}said> <<( _:c{n}x0 <{EX}p> _:t{n} )>> ." for n in range(0, 60, 7)]
    lines.append(f'_:t0 <{EX}label> "linked only through a triple term" .')
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("size", [1, 25, 250])
def test_every_triple_is_in_one_part_and_a_blank_node_never_spans_two(seed: int, size: int) -> None:
    document = _document(seed)
    parts = in_parts(document, size)
    given = _triples(document)
    assert len(given) > 1000
    in_all = [triple for part in parts for triple in _triples(part)]
    assert sorted(map(str, in_all)) == sorted(map(str, given))
    owner: dict[str, int] = {}
    for index, part in enumerate(parts):
        for triple in _triples(part):
            for label in _labels(triple):
                assert owner.setdefault(label, index) == index, f"_:{label} is in parts {owner[label]} and {index}"
    # A part is larger than the size only when it is one group of triples linked by blank nodes.
    oversized = [_triples(part) for part in parts if len(_triples(part)) > size]
    assert oversized if size < 301 else not oversized
    for part in oversized:
        assert _linked_groups(part) == 1


def _linked_groups(triples: list[ox.Quad]) -> int:
    """How many groups of triples linked by blank nodes (a triple without one is a group of its own)."""
    groups: list[set[str]] = []
    for labels in (_labels(t) for t in triples):
        if not labels:
            groups.append(set())
            continue
        touching = [g for g in groups if g & labels]
        groups = [g for g in groups if not g & labels] + [labels.union(*touching)]
    return len(groups)


def test_parts_are_filled_up_to_the_size() -> None:
    document = "".join(f'<{EX}s{n}> <{EX}p> "{n}" .\n' for n in range(1000))
    assert [len(_triples(part)) for part in in_parts(document, 250)] == [250, 250, 250, 250]
    assert in_parts("", 250) == []


def test_the_text_of_each_triple_is_kept() -> None:
    document = (f'<{EX}s> <{EX}p> "a \\"quoted\\" \\u00e9 line\\n"@en-GB .\n'
                f'<{EX}s> <{EX}p> "P3Y"^^<http://www.w3.org/2001/XMLSchema#duration> .\n'
                f"_:b1 <{EX}p> <{EX}o> .\n")
    (part,) = in_parts(document, 250)
    assert sorted(part.splitlines()) == sorted(
        [f'<{EX}s> <{EX}p> "a \\"quoted\\" é line\\n"@en-gb .',
         f'<{EX}s> <{EX}p> "P3Y"^^<http://www.w3.org/2001/XMLSchema#duration> .', f"_:b1 <{EX}p> <{EX}o> ."])
