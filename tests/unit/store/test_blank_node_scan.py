"""Which files the embedded store may read with the engine's bulk loader twice (into their graph and into the union):
only those that surely write no blank node, since each reading names blank nodes afresh."""

from pathlib import Path

import pytest

from server.store.embedded import _without_blank_nodes

P = "<https://example.org/p>"
CASES = {
    "IRIs and literals only": (f'<https://example.org/a> {P} "x"@en, 3 .\n', True),
    "a labelled blank node": (f"_:b {P} <https://example.org/c> .\n", False),
    "an anonymous blank node": (f'<https://example.org/a> {P} [ {P} "x" ] .\n', False),
    "an empty blank node": (f"<https://example.org/a> {P} [] .\n", False),
    "a collection": (f"<https://example.org/a> {P} ( 1 2 ) .\n", False),
    # Not blank nodes, but not told apart without parsing: read the slower way.
    "a bracket in a string": (f'<https://example.org/a> {P} "x (y)" .\n', False),
    "a labelled blank node across the scan's 1 MiB pieces": ("#" * ((1 << 20) - 2) + f"\n_:b {P} 1 .\n", False),
    "an underscore then a colon far apart": ("#" * ((1 << 20) - 1) + f"_\n<https://example.org/a> {P} 1 .\n", True),
}


@pytest.mark.parametrize("case", CASES)
def test_a_file_is_bulk_loaded_twice_only_when_it_writes_no_blank_node(tmp_path: Path, case: str) -> None:
    text, plain = CASES[case]
    path = tmp_path / "file.ttl"
    path.write_text(text, encoding="utf-8")
    assert _without_blank_nodes(path) is plain
