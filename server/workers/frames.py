"""The messages between the server and its workers: pickles, each preceded by its length.

One format both ways, read from a buffer that may hold several messages or part of one: the
server writes all the jobs of one turn of its event loop at once, and a worker answers all the
jobs it found waiting at once, so a single read often brings many.
"""

import pickle
import struct
from typing import Any

_LENGTH = struct.Struct("!Q")


def frame(message: Any) -> bytes:
    """The message, pickled, with its length in front."""
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(payload)) + payload


def unframe(buffer: bytearray) -> list[Any]:
    """The whole messages at the start of the buffer, removed from it (a partial one is left for later)."""
    messages, offset, end = [], 0, len(buffer)
    view = memoryview(buffer)
    try:
        while end - offset >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(view, offset)
            if end - offset - _LENGTH.size < size:
                break
            start = offset + _LENGTH.size
            messages.append(pickle.loads(view[start:start + size]))
            offset = start + size
    finally:
        view.release()
    if offset:
        del buffer[:offset]
    return messages
