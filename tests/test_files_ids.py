"""File ids: the real 2026 ids come out of the same layout, seeded and clocked from outside."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockshot.resources.files.ids import (
    ALPHABET,
    BASE32HEX,
    created_at_of,
    decode,
    encode,
    file_id,
)


class Counter:
    """A generator whose 24-bit draw is fixed: the counter a captured id holds."""

    def __init__(self, value: int) -> None:
        self.value = value

    def getrandbits(self, bits: int) -> int:
        assert bits == 24
        return self.value


@pytest.mark.parametrize(("created_at", "counter", "real"), [
    (1779720376, 0x924025, "fac83g4rduhi11c1ey11"),  # the Files log's id and created_at
    (1779720350, 0x92283D, "fac83ykrduhi11c1fy61"),  # its neighbour, 26 s earlier
])
def test_the_captured_2026_ids_come_out_of_the_layout(created_at, counter, real):
    assert file_id(Counter(counter), created_at) == real


def test_the_2023_xid_decodes_to_its_creation_time():
    """The encoder is rs/xid's: the confirmed old id reads back as its time (§10.1)."""
    raw = decode("clg681objj8g9m7n4je0", BASE32HEX)
    assert int.from_bytes(raw[:4], "big") == 1700815879
    assert encode(raw, BASE32HEX) == "clg681objj8g9m7n4je0"


def test_an_id_is_20_letters_of_the_alphabet_and_carries_its_time():
    made = file_id(random.Random(7), 1_790_000_000)
    assert len(made) == 20 and set(made) <= set(ALPHABET)
    assert created_at_of(made) == 1_790_000_000


def test_the_same_seed_and_time_give_the_same_id():
    assert file_id(random.Random(3), 1_790_000_000) == file_id(random.Random(3), 1_790_000_000)
    assert file_id(random.Random(3), 1_790_000_000) != file_id(random.Random(4), 1_790_000_000)


@given(st.binary(min_size=12, max_size=12))
def test_encoding_round_trips(raw):
    assert decode(encode(raw)) == raw


@pytest.mark.parametrize("bad", ["short", "fac83g4rduhi11c1ey1l", "fac83g4rduhi11c1ey110"])
def test_a_malformed_id_does_not_decode(bad):
    with pytest.raises(ValueError):
        decode(bad)
