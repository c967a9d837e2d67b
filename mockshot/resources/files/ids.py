"""File ids as the service writes them in 2026: 20 letters in the layout of an xid.

The 2023-2024 ids were plain rs/xid: base32hex, the first 4 bytes the creation time (§10.1).
The two 2026 ids seen, `fac83g4rduhi11c1ey11` and `fac83ykrduhi11c1fy61` (one probe, seconds
apart), still have an xid's layout: they differ only where its time (letters 5-6) and
counter (16-18) sit and agree where its machine and process bytes do (7-15). Their alphabet
is not base32hex (they hold a `y`) and is otherwise unknown; z-base-32 holds every letter
seen, so the mock writes xids in z-base-32, with the fixed bytes, trailing bits and time
offset under which both captured ids come out exactly for their time and counter. Ids made
at a 2026 time therefore look like the real ones of that time (`fac8...rduhi11c1...`).
The counter is drawn from the call's generator, and the time is passed in from the clock.
"""

from __future__ import annotations

import random

__all__ = ["ALPHABET", "created_at_of", "decode", "encode", "file_id"]

ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769"  # z-base-32
BASE32HEX = "0123456789abcdefghijklmnopqrstuv"  # rs/xid's, the ids of 2023 and 2024
TIME_OFFSET = 1_006_363_677  # created_at less the time field, in the captured id
SERVER = bytes.fromhex("441cf95949")  # machine and process bytes of both 2026 ids
TAIL = 0b0010  # the 4 bits after the 96 in both 2026 ids (rs/xid leaves them 0)
LENGTH = 20


def file_id(rng: random.Random, created_at: int, server: bytes = SERVER) -> str:
    """A new id for a file created at `created_at` (Unix seconds, from the clock); the
    counter is random, so the store should draw again in the rare case it is taken."""
    stamp = ((created_at - TIME_OFFSET) & 0xFFFFFFFF).to_bytes(4, "big")
    return encode(stamp + server + rng.getrandbits(24).to_bytes(3, "big"), tail=TAIL)


def created_at_of(file_id: str) -> int:
    """The creation time an id carries (the inverse of `file_id`'s time field)."""
    return (int.from_bytes(decode(file_id)[:4], "big") + TIME_OFFSET) & 0xFFFFFFFF


def encode(raw: bytes, alphabet: str = ALPHABET, tail: int = 0) -> str:
    """12 bytes and 4 tail bits as 20 letters of five bits each, most significant first,
    as rs/xid encodes (its tail is 0)."""
    bits = int.from_bytes(raw, "big") << 4 | tail
    return "".join(alphabet[(bits >> (5 * (LENGTH - 1 - i))) & 31] for i in range(LENGTH))


def decode(text: str, alphabet: str = ALPHABET) -> bytes:
    """The 12 bytes of a 20-letter id; ValueError for a letter outside `alphabet`."""
    if len(text) != LENGTH:
        raise ValueError(f"an id has {LENGTH} letters, not {len(text)}")
    bits = 0
    for letter in text:
        bits = bits << 5 | alphabet.index(letter)
    return (bits >> 4).to_bytes(12, "big")
