"""The characters XML 1.0 cannot carry, written out from the XML specification (production [2] Char), independently
of the server's own pattern, for the tests of every place that must refuse them."""

NOT_XML = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"]


def codepoint_id(character: str) -> str:
    """A test id for a character: U+0001."""
    return f"U+{ord(character):04X}"
