"""What an XML 1.0 document can carry: every answer the server writes as XML obeys it.

RDF allows any character in a literal; XML 1.0 does not allow most C0 control characters
(U+0000–U+0008, U+000B, U+000C, U+000E–U+001F) nor U+FFFE and U+FFFF, not even as character
references, and a reader turns a raw carriage return into a line feed. The engine's XML writers
(SPARQL XML results, RDF/XML) copy literals as they are, and lxml (IATI) refuses such values
with an error of its own. So, in one place: the characters XML cannot carry are found and
named (the answer is refused with a message, never written ill-formed), and carriage returns
are written as `&#13;`, which a reader gives back as the carriage return the literal holds.
"""

import re

from server.formats.registry import GRAPH_FORMATS, SOLUTION_FORMATS, Format
from server.problems import ProblemError

# Public: a reader of input finds the same characters in a file before it is parsed (server.rdf.parsing).
NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# The same in UTF-8 (surrogates cannot occur in the engine's UTF-8); U+FFFE and U+FFFF are three bytes. A chunk is
# looked at first by faster means (bytes.translate, `in`): a regex over every chunk cost twice the engine's own
# writing of the answer (bench/RESULTS.md). The regex, built from the same two pieces, only names what they found.
_CONTROL_BYTES = bytes(c for c in range(0x20) if c not in b"\t\n\r")
_LAST_PLANE_ROW = b"\xef\xbf"  # the first two bytes of U+FFC0–U+FFFF
_NOT_XML_BYTES = re.compile(b"[" + re.escape(_CONTROL_BYTES) + b"]|" + _LAST_PLANE_ROW + b"[\xbe\xbf]")


class NotXmlCharacterError(ProblemError):
    """An answer that holds a character XML 1.0 cannot carry: 406, with the formats that can carry it.

    Raised in a query worker too, and sent back pickled: built again from its one argument, the message.
    """

    def __init__(self, detail: str):
        super().__init__(406, detail)

    @classmethod
    def of(cls, character: str, chosen: Format) -> "NotXmlCharacterError":
        """The refusal of an answer in `chosen` that holds `character` (U+XXXX)."""
        others = ", ".join(f.media_type for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS) if f.kind is chosen.kind and not f.xml)
        return cls(f"The answer holds {character} in a value, a character that XML 1.0 cannot carry, so it cannot be "
                   f"written as {chosen.label}; ask for one of: {others}.")


def codepoint(character: str) -> str:
    """A character as a person can read it whatever it is: U+0001."""
    return f"U+{ord(character):04X}"


def non_xml_character(text: str) -> str | None:
    """The first character of the text that XML 1.0 cannot carry (as U+XXXX), or None."""
    found = NOT_XML_TEXT.search(text)
    return codepoint(found.group()) if found else None


class XmlOutputGuard:
    """Checks an XML document as its writer hands it over in chunks, and escapes its carriage returns.

    Only literals can bring a raw carriage return or control character into the engine's XML (IRIs,
    language tags and the markup cannot), so escaping every raw carriage return is safe.
    """

    def __init__(self, chosen: Format) -> None:
        self._chosen = chosen
        self._tail = b""

    def __call__(self, data: bytes) -> bytes:
        """The chunk to write; NotXmlCharacterError if it holds a character XML cannot carry."""
        data = bytes(data)
        # U+FFFE and U+FFFF may straddle two chunks: the last two bytes of the previous one are looked at again.
        edge = self._tail + data[:2]
        if len(data.translate(None, _CONTROL_BYTES)) != len(data) or _LAST_PLANE_ROW in data or _LAST_PLANE_ROW in edge:
            found = _NOT_XML_BYTES.search(edge) or _NOT_XML_BYTES.search(data)
            if found:
                raise NotXmlCharacterError.of(codepoint(found.group().decode("utf-8")), self._chosen)
        self._tail = (self._tail + data[-2:])[-2:]
        return data.replace(b"\r", b"&#13;") if b"\r" in data else data


def xml_output(document: bytes, chosen: Format) -> bytes:
    """A whole XML document in `chosen`, checked and escaped the same way (see XmlOutputGuard)."""
    return XmlOutputGuard(chosen)(document)
