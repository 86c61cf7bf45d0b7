"""Reading IATI activity files as a stream: one activity at a time, nothing fetched, no entities, no DTD.

lxml's iterparse hands over each <iati-activity> when it ends; the element is cleared once mapped,
so memory follows the largest activity, not the file. The parser resolves no entities, loads no DTD
and touches no network; a file that declares a document type is refused outright, as RDF/XML with
entity declarations is (see server.rdf.parsing).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree

from server.rdf.parsing import RdfInputError

# Versions of the IATI standard whose activity files are read as such; 1.0x files are read with a warning.
SUPPORTED_VERSIONS = ("2.01", "2.02", "2.03")
_OLD_VERSION = re.compile(r"1\.0[1-5]")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_COMMENT = re.compile(rb"<!--.*?(?:-->|\Z)", re.S)
_ELEMENT_START = re.compile(rb"<[A-Za-z_:]")
# A prolog longer than this is not an IATI file's; the parser's own refusal stands for it.
_PROLOG_WATCHED = 1 << 20


@dataclass
class FileHeader:
    """What the root element says about every activity in the file."""

    version: str
    generated: str | None
    notices: list[str] = field(default_factory=list)


def _error(error: etree.XMLSyntaxError, source: str) -> RdfInputError:
    line, column = error.position if error.position else (error.lineno, None)
    message = str(error.msg or error).split(", line ")[0]
    return RdfInputError(f"the XML cannot be read: {message}", source=source, line=line, column=column)


class _PrologWatch:
    """The stream as the parser reads it, noting a <!DOCTYPE before the root element.

    The header check below sees the document type only once the root element starts; libxml2
    2.14 refuses an entity bomb inside the DTD before that, with a message about amplification.
    Watching the bytes names the cause either way, and the parser's refusal still contains the file.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._head: bytes | None = b""
        self.doctype_line: int | None = None

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        if chunk and self._head is not None:
            self._head += chunk
            prolog = _COMMENT.sub(lambda match: b"\n" * match.group().count(b"\n"), self._head)
            root = _ELEMENT_START.search(prolog)
            doctype = prolog.find(b"<!DOCTYPE", 0, root.start() if root else len(prolog))
            if doctype >= 0:
                self.doctype_line = prolog.count(b"\n", 0, doctype) + 1
            if doctype >= 0 or root or len(self._head) > _PROLOG_WATCHED:
                self._head = None
        return chunk


def _doctype_refused(source: str, line: int | None) -> RdfInputError:
    return RdfInputError(
        "the XML declares a document type (<!DOCTYPE …>), which IATI files never need and which can carry "
        "entity declarations that exhaust the machine; remove it", source=source, line=line,
    )


def read_activities(stream: BinaryIO, source: str) -> Iterator[tuple[FileHeader, etree._Element]]:
    """Each <iati-activity> of an IATI activity file, complete, with the file's header.

    Raises RdfInputError (with the line) for XML that is not well-formed, declares a document type,
    has another root element, or names a version of the standard this reader does not know.
    An activity is only valid until the next one is asked for: it is cleared to keep memory flat.
    """
    watch = _PrologWatch(stream)
    events = etree.iterparse(
        watch, events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )
    header: FileHeader | None = None
    depth = 0
    try:
        for event, element in events:
            if event == "start":
                depth += 1
                if header is None:
                    header = _header(element, source)
                continue
            depth -= 1
            if depth == 1 and element.tag == "iati-activity":
                yield header, element  # type: ignore[misc]
                element.clear()
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as error:
        if watch.doctype_line is not None:
            raise _doctype_refused(source, watch.doctype_line) from None
        raise _error(error, source) from None
    if header is None:
        raise RdfInputError("the file holds no XML element", source=source, line=1)


def _header(root: etree._Element, source: str) -> FileHeader:
    if root.getroottree().docinfo.doctype:
        raise _doctype_refused(source, root.sourceline)
    if root.tag != "iati-activities":
        raise RdfInputError(
            f"the root element is <{root.tag}>, not <iati-activities>: this is not an IATI activity file "
            "(organisation files are not read; RDF/XML is sent as application/rdf+xml)", source=source, line=root.sourceline,
        )
    version = (root.get("version") or "").strip()
    header = FileHeader(version, (root.get("generated-datetime") or "").strip() or None)
    if _OLD_VERSION.fullmatch(version):
        header.notices.append(
            f"The file is IATI version {version}, which the IATI retired in 2016; it was read with the 2.0x "
            "mapping, so elements and codes that changed since may be missed. Publish it as 2.03 if you can."
        )
    elif version not in SUPPORTED_VERSIONS:
        raise RdfInputError(
            f"iati-activities/@version is {version!r}: the versions read are {', '.join(SUPPORTED_VERSIONS)} "
            "(and 1.0x, with a warning)", source=source, line=root.sourceline,
        )
    return header
