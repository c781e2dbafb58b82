"""Sort-based array helpers agree with numpy's own."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scoring.arrays import factorize, sort_order, sorted_unique


@given(arrays(np.int64, st.integers(0, 50), elements=st.integers(-5, 5)))
def test_factorize_is_unique_with_inverse(keys: np.ndarray) -> None:
    distinct, inverse = factorize(keys)
    expected, expected_inverse = np.unique(keys, return_inverse=True)
    assert distinct.tolist() == expected.tolist()
    assert inverse.tolist() == expected_inverse.reshape(-1).tolist()


@given(arrays(np.float64, st.integers(0, 50), elements=st.floats(-10, 10)))
def test_sorted_unique(values: np.ndarray) -> None:
    assert sorted_unique(values).tolist() == np.unique(values).tolist()


@given(
    arrays(np.int64, 30, elements=st.integers(0, 3)),
    arrays(np.float64, 30, elements=st.sampled_from([0.5, -1.0, 2.0])),
)
def test_sort_order_matches_lexsort(major: np.ndarray, minor: np.ndarray) -> None:
    order = sort_order(major, minor)
    assert order.tolist() == np.lexsort((minor, major)).tolist()
