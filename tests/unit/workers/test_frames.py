"""The messages between the server and its workers: whole messages out of a buffer, however the bytes arrived."""

import pytest

from server.workers.frames import frame, unframe

MESSAGES = [(1, "echo", ("a",)), (2, None, None), (3, True, b"\x00" * 70_000), (4, False, ValueError("no"))]


def _stream() -> bytes:
    return b"".join(frame(m) for m in MESSAGES)


@pytest.mark.parametrize("piece", [1, 3, 8, 9, 100, 65_536, 1 << 20])
def test_messages_come_out_whole_and_in_order_whatever_the_pieces(piece: int) -> None:
    data, buffer, received = _stream(), bytearray(), []
    for start in range(0, len(data), piece):
        buffer += data[start:start + piece]
        received += unframe(buffer)
    assert [m[:2] for m in received] == [m[:2] for m in MESSAGES]
    assert received[2][2] == MESSAGES[2][2] and str(received[3][2]) == "no"
    assert buffer == bytearray()  # nothing left over


def test_a_partial_message_stays_in_the_buffer_until_the_rest_arrives() -> None:
    data = frame((7, "x", ()))
    buffer = bytearray(data[:-1])
    assert unframe(buffer) == [] and buffer == bytearray(data[:-1])
    buffer += data[-1:]
    assert unframe(buffer) == [(7, "x", ())] and buffer == bytearray()
