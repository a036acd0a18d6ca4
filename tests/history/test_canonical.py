"""The fast canonical bytes that hashes are computed on equal the canonical text, always."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from retrograde.model.jsonvalue import canonical, canonical_bytes, same_json

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
    | st.sampled_from(["1e-05", 'a"b', "back\\slash", "\x00\x1f\x7f", "\u2028", "true", "null"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=6) | st.sampled_from(['"', "\\", "é", "😀"]), inner, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=400)
@given(VALUES)
def test_canonical_bytes_are_the_canonical_text_encoded(value: object) -> None:
    """Floats, huge integers, NaN, non-ASCII, escapes and quotes in keys included."""
    assert canonical_bytes(value) == canonical(value).encode("utf-8")


FINITE = st.recursive(
    SCALARS.filter(lambda scalar: not isinstance(scalar, float))
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["a.,b", "e+]", "x:1.5,", "node-1", "2025-01-06T08:01:21.186152Z"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)


@settings(max_examples=400)
@given(FINITE)
def test_finite_canonical_bytes_are_the_canonical_text_encoded(value: object) -> None:
    """What JSON decodes to (no NaN, no infinity) hashes the same by the shortcut."""
    assert canonical_bytes(value, finite=True) == canonical(value).encode("utf-8")


@settings(max_examples=300)
@given(VALUES, VALUES)
def test_same_json_is_equality_of_canonical_forms(a: object, b: object) -> None:
    assert same_json(a, b) == (canonical(a) == canonical(b))
    assert same_json(a, a)


def test_numbers_of_different_kinds_differ() -> None:
    assert not same_json(1, 1.0) and not same_json(1, True) and not same_json([1], [True])
    assert same_json({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})
    assert not same_json([float("nan")], [None])


def _reordered(value: object) -> object:
    """An equal copy: every object's keys in reverse order, every float a new object."""
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    if isinstance(value, float):
        return float(repr(value))
    return value


@settings(max_examples=300)
@given(VALUES)
def test_same_json_of_a_copy_with_its_keys_reordered(value: object) -> None:
    """Equal values in another key order, NaN, infinities and nulls included."""
    copy = _reordered(value)
    assert same_json(value, copy) == (canonical(value) == canonical(copy))


def test_a_null_is_neither_a_nan_nor_an_infinity() -> None:
    nan, inf = float("nan"), float("inf")
    assert not same_json({"a": None, "b": 1}, {"a": nan, "b": 1})
    assert not same_json([inf], [-inf]) and not same_json([inf], [None])
    assert same_json({"a": [nan]}, {"a": [float("nan")]})
