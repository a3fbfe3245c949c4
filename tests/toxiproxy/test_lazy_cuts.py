"""The slicer cuts lazily, piece by piece, exactly as cutting a chunk all at once would."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from stormproof.chaos.toxiproxy._toxics._base import Chunk
from stormproof.chaos.toxiproxy._toxics.slicer import _Cut


def _all_at_once(size: int, average: int, variation: int, rng: random.Random) -> list[int]:
    # The eager recursive halving the slicer used before it cut lazily (Toxiproxy's order).
    pieces, stack = [], [(0, size)]
    while stack:
        start, end = stack.pop()
        if (end - start) - average <= variation:
            pieces.append(end - start)
            continue
        mid = start + (end - start) // 2
        if variation > 0:
            mid += rng.randrange(2 * variation) - variation
        mid = min(max(mid, start + 1), end - 1)
        stack.append((mid, end))
        stack.append((start, mid))
    return pieces


@given(
    size=st.integers(1, 5000),
    average=st.integers(1, 300),
    variation_share=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_lazy_pieces_match_cutting_all_at_once(size, average, variation_share, seed):
    variation = int(average * variation_share)
    expected = _all_at_once(size, average, variation, random.Random(seed))
    data = bytes(range(256)) * (size // 256 + 1)
    cut, rng, pieces = _Cut(Chunk(data[:size], 0.0)), random.Random(seed), []
    while True:
        piece = cut.next_piece(average, variation, rng)
        pieces.append(piece.data)
        if not cut.stack:
            break
    assert [len(p) for p in pieces] == expected
    assert b"".join(pieces) == data[:size]


def test_the_rest_of_a_chunk_being_cut_is_what_was_not_sent():
    cut = _Cut(Chunk(b"abcdefghij", 1.0))
    first = cut.next_piece(2, 0, random.Random(1))
    assert first.data + cut.rest().data == b"abcdefghij"
