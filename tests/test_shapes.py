"""Each node shape accepts its valid fixture and reports exactly the expected finding for each
invalid fixture. Fixtures live in tests/fixtures/shapes/<ShapeName>/ with the expected
finding of each invalid-*.ttl stored beside it as invalid-*.expected.json. They are validated
with the bundled data as context, so they may refer to its countries, partners and sources.
"""

import json
from pathlib import Path

import pytest
from rdflib import RDF, URIRef
from rdflib.namespace import SH

from server.namespaces import ILOSH
from server.rdf.project_graphs import read_turtle
from server.submissions.plan import DataValidator
from tests.support.servers import FIXTURES

SHAPE_FIXTURES = FIXTURES / "shapes"
VALID = sorted(SHAPE_FIXTURES.glob("*/valid.ttl"))
INVALID = sorted(SHAPE_FIXTURES.glob("*/invalid-*.ttl"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_fixtures_were_found() -> None:
    assert len(VALID) >= 40
    assert len(INVALID) >= 70


def test_every_node_shape_has_valid_and_invalid_fixtures(shapes) -> None:
    node_shapes = {s for s in shapes.subjects(SH.targetClass, None) if isinstance(s, URIRef)}
    assert node_shapes, "no node shapes with sh:targetClass found"
    names = {str(s).removeprefix(str(ILOSH)) for s in node_shapes}
    missing_valid = sorted(n for n in names if not (SHAPE_FIXTURES / n / "valid.ttl").exists())
    missing_invalid = sorted(n for n in names if not list((SHAPE_FIXTURES / n).glob("invalid-*.ttl")))
    assert missing_valid == [] and missing_invalid == []


def test_every_fixture_folder_names_a_shape(shapes) -> None:
    for folder in SHAPE_FIXTURES.iterdir():
        assert (ILOSH[folder.name], RDF.type, SH.NodeShape) in shapes, folder.name


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_valid_fixture_has_no_findings(path: Path, validator_with_data: DataValidator) -> None:
    report = validator_with_data.validate([read_turtle(path)], reserved=())
    assert [f.as_dict() for f in report.findings] == []
    assert report.conforms


@pytest.mark.parametrize("path", INVALID, ids=_id)
def test_invalid_fixture_breaks_exactly_one_rule(path: Path, validator_with_data: DataValidator) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    report = validator_with_data.validate([read_turtle(path)], reserved=())
    found = [{key: f.as_dict()[key] for key in expected} for f in report.findings]
    assert found == [expected]
    assert report.conforms is (expected["severity"] != "Violation")
