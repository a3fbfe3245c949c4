"""Putting the labels of a lane on as few levels as needed, so that no two labels overlap and no
label's leader line (from the lane's bar to its label) crosses another label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Placed:
    """A label's text from `start` to `end`, its leader line at `point` (one unit: pixels)."""

    start: float
    end: float
    point: float


def stack(labels: Sequence[Placed], gap: float = 0.0) -> list[int]:
    """The level of each label: the lowest where it overlaps no label and crosses no leader.

    The leader of a label on level n runs through levels 0 to n - 1. Every label starts right of
    its point, so placing them from the rightmost point leftwards always finds a level: one past
    every level used, no leader crosses it, and no label there covers the point.

    Args:
        labels: Where each label and its leader are, in any order; `start >= point`.
        gap: The least room between two labels on one level.

    Returns:
        A level (0 nearest the bar) for each label, in the order given.
    """
    levels = [0] * len(labels)
    placed: list[tuple[int, Placed]] = []
    for index in sorted(range(len(labels)), key=lambda i: -labels[i].point):
        label = labels[index]
        level = 0
        while not all(
            _fits(label, level, other_level, other, gap) for other_level, other in placed
        ):
            level += 1
        levels[index] = level
        placed.append((level, label))
    return levels


def _fits(label: Placed, level: int, other_level: int, other: Placed, gap: float) -> bool:
    if other_level == level:
        return other.end + gap <= label.start or label.end + gap <= other.start
    if other_level > level:  # the other's leader runs through this level
        return not label.start - 1 <= other.point <= label.end + 1
    return not other.start - 1 <= label.point <= other.end + 1
