"""Order-id matching equals a plain dictionary built by hand, fingerprints or not."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.loading import idmatch
from perfkit.loading.idmatch import match_orders


def by_dict(orders: list[str], events: list[list[str]]) -> tuple[list[int], list[list[int]]]:
    first: dict[str, int] = {}
    codes = [first.setdefault(o, len(first)) for o in orders]
    return codes, [[first.get(e, -1) for e in ev] for ev in events]


def run(orders: list[str], events: list[list[str]]) -> tuple[list[int], list[list[int]]]:
    codes, pos = match_orders(pd.Series(orders, dtype="str"), [pd.Series(e, dtype="str") for e in events])
    return codes.tolist(), [p.tolist() for p in pos]


def test_hand_made():
    orders = ["111-0000001-0000001", "111-0000002-0000002", "A1", "订单-7"]
    events = [["A1", "111-0000002-0000002", "nope", "订单-7"], [], ["111-0000001-0000001"]]
    assert run(orders, events) == ([0, 1, 2, 3], [[2, 1, -1, 3], [], [0]])


def test_ids_read_in_pieces():
    import pyarrow as pa

    pieces = pd.Series(pd.array(pa.chunked_array([["A1", "B22"], ["C333"]], type=pa.large_string()), dtype="str"))
    codes, pos = match_orders(pieces, [pd.Series(["C333", "A1"], dtype="str")])
    assert codes.tolist() == [0, 1, 2] and pos[0].tolist() == [2, 0]


def test_repeats_are_numbered_by_first_appearance():
    assert run(["B", "A", "B", "C", "A"], [["C", "A", "Z"]]) == ([0, 1, 0, 2, 1], [[2, 1, -1]])


def test_prefixes_and_padding_do_not_collide():
    # Zero-padding must not make "A" equal "A\0", nor a short id equal the start of a long one.
    orders = ["A", "A\x00", "AB", "12345678", "123456789", "1234567\x00"]
    events = [["A\x00", "A", "123456789", "12345678", "1234567"]]
    assert run(orders, events) == ([0, 1, 2, 3, 4, 5], [[1, 0, 4, 3, -1]])


def test_a_fingerprint_collision_falls_back_to_strings(monkeypatch):
    # Every id gets the same fingerprint: the answer must still be exact.
    monkeypatch.setattr(idmatch, "_fingerprint", lambda words, lengths: np.zeros(len(lengths), np.uint64))
    assert run(["X1", "X2", "X3"], [["X3", "X9", "X1"]]) == ([0, 1, 2], [[2, -1, 0]])
    monkeypatch.setattr(idmatch, "_fingerprint", lambda words, lengths: np.arange(len(lengths), dtype=np.uint64))
    # Distinct fingerprints for different ids here, but the event "X2" lands on order 0's fingerprint.
    assert run(["X1", "X2"], [["X2"]]) == ([0, 1], [[1]])


ids = st.text(alphabet="AB-0订\x00", min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(orders=st.lists(ids, min_size=1, max_size=40), events=st.lists(st.lists(ids, max_size=15), max_size=4))
def test_random_ids_equal_the_dictionary(orders, events):
    assert run(orders, events) == by_dict(orders, events)


amazon_like = st.text(alphabet="0123-", min_size=11, max_size=11)  # one byte length for every id


@settings(max_examples=100, deadline=None)
@given(orders=st.lists(amazon_like, min_size=1, max_size=40),
       events=st.lists(st.lists(amazon_like, max_size=15), max_size=4))
def test_equal_length_ids_equal_the_dictionary(orders, events):
    # Equal lengths take the in-place word path; an empty event table is among the cases.
    assert run(orders, events) == by_dict(orders, events)


def test_equal_length_collision_falls_back(monkeypatch):
    monkeypatch.setattr(idmatch, "_fingerprint", lambda words, lengths: np.zeros(len(lengths), np.uint64))
    ids = ["111-0000001-0000001", "111-0000002-0000002"]
    assert run(ids, [["111-0000002-0000002", "111-0000003-0000003"], []]) == ([0, 1], [[1, -1], []])
