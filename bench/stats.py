"""The quantile every in-process benchmark reports (nearest rank, no interpolation)."""

from __future__ import annotations


def quantile(values: list[float], q: float) -> float:
    """The value at rank q (0 < q ≤ 1) of `values`, in their unit."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def quantile_ms(seconds: list[float], q: float) -> float:
    """`quantile` of durations in seconds, in milliseconds."""
    return 1000 * quantile(seconds, q)
