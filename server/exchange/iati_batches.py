"""An IATI file cut into files of its own, each small enough to be one submission: the command line's import.

The file is read as a stream (server.exchange.iati_reading), each activity written back as it was, into batches of at
most max_bytes. A batch starts only at an activity that names no parent, so a parent and the children that
follow it stay together (the import makes the children components of the parent only within one file). The
cut is a function of the file alone, so importing the same file again gives the same batches, byte for byte,
and changes nothing.
"""

from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from server.exchange.iati_reading import read_activities

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _root(version: str, generated: str | None) -> tuple[bytes, bytes]:
    attributes = f' version="{version}"' + (f' generated-datetime="{generated}"' if generated else "")
    return f"<iati-activities{attributes}>\n".encode(), b"</iati-activities>\n"


def batches(stream: BinaryIO, source: str, max_bytes: int) -> Iterator[bytes]:
    """The file's activities as standalone IATI files of at most max_bytes each (an activity larger than that
    alone in its batch). Raises RdfInputError for a file that cannot be read as IATI."""
    current: list[bytes] = []
    size = 0
    opening = closing = b""
    for header, activity in read_activities(stream, source):
        opening, closing = _root(header.version, header.generated)
        written = etree.tostring(activity, encoding="utf-8").strip() + b"\n"
        child = any((r.get("type") or "").strip() == "1" for r in activity.findall("related-activity"))
        frame = len(_DECLARATION) + len(opening) + len(closing)
        if current and not child and frame + size + len(written) > max_bytes:
            yield _DECLARATION + opening + b"".join(current) + closing
            current, size = [], 0
        current.append(written)
        size += len(written)
    if current:
        yield _DECLARATION + opening + b"".join(current) + closing
