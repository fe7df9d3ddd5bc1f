"""Order ids: which orders repeat, and which order each event (feedback, claim, ...) names.

Hashing 200k order ids as strings costs about 30 ms an account, the dearest single step of
loading. Ids are short, so each becomes a 64-bit fingerprint of its bytes computed with
NumPy; a hash table of the fingerprints finds repeats, and the few event ids are looked up
in it. Every match is then checked byte for byte, so a fingerprint collision can only send
the work to the exact string hashing (Arrow's), never give a wrong answer.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MAX_BYTES = 64  # longer ids are matched as strings
_MIX = np.uint64(0x9E3779B97F4A7C15)


def utf8_buffers(arr) -> tuple[np.ndarray, np.ndarray]:
    """A string or large_string Arrow array's bytes and value offsets, as NumPy views (no copy)."""
    import pyarrow as pa

    if len(arr) == 0:
        return np.empty(0, np.uint8), np.zeros(1, np.int64)
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset:arr.offset + len(arr) + 1]
    raw = arr.buffers()[2]
    data = np.frombuffer(raw, dtype=np.uint8) if raw is not None and raw.size else np.empty(0, np.uint8)
    return data, offsets


def _bytes(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Each id's UTF-8 bytes (one buffer) and their offsets; None when ids are missing or not text."""
    import pyarrow as pa

    try:
        arr = pa.array(values, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    if isinstance(arr, pa.ChunkedArray):  # a Parquet column read in several pieces
        arr = arr.combine_chunks()
    if arr.null_count:
        return None
    data, offsets = utf8_buffers(arr)
    return data[offsets[0]:offsets[-1]], offsets


def _words(data: np.ndarray, offsets: np.ndarray, per: int, same: int | None) -> tuple[list[np.ndarray], np.ndarray]:
    """Each id as ``per`` 64-bit words (a list of word columns), and its byte length.

    ``same``: the byte length every id of every column shares, if any (Amazon's 3-7-7 ids):
    the words are then read in place, the last one overlapping the one before so that together
    they cover every byte. Otherwise ids are copied left-aligned into zero-padded rows.
    """
    lengths = np.diff(offsets)
    n = len(lengths)
    if n == 0:
        return [np.empty(0, np.uint64) for _ in range(per)], lengths
    if same is not None and same >= 8:
        starts = [min(8 * j, same - 8) for j in range(per)]
        return [np.ndarray(shape=(n,), dtype="<u8", buffer=data, offset=k, strides=(same,)) for k in starts], lengths
    padded = np.zeros((n, per * 8), dtype=np.uint8)
    if n and (lengths == lengths[0]).all():
        padded[:, :lengths[0]] = data.reshape(n, int(lengths[0]))
    elif n:
        padded[np.arange(per * 8) < lengths[:, None]] = data  # row by row, left-aligned
    words = padded.view(np.uint64)
    return [words[:, j] for j in range(per)], lengths


def _fingerprint(words: list[np.ndarray], lengths: np.ndarray) -> np.ndarray:
    h = lengths.astype(np.uint64) * _MIX
    for w in words:
        h ^= w
        h *= _MIX
        h ^= h >> np.uint64(29)
    return h


def _by_strings(order_ids: pd.Series, event_ids: list[pd.Series]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The exact path: one Arrow hash of all ids, numbered by first appearance."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [order_ids, *event_ids]
    try:
        joined = pa.concat_arrays([pa.array(c, type=pa.large_string()) for c in columns])
        codes = pc.dictionary_encode(joined).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        codes = pd.factorize(pd.concat([c.astype("string") for c in columns], ignore_index=True))[0]
    order_codes, *event_codes = np.split(codes, np.cumsum([len(c) for c in columns])[:-1])
    distinct = int(order_codes.max()) + 1 if len(order_codes) else 0
    return order_codes, [np.where(c < distinct, c, -1) for c in event_codes]


def match_orders(order_ids: pd.Series, event_ids: list[pd.Series]) -> tuple[np.ndarray, list[np.ndarray]]:
    """(order codes, event positions).

    Order row ``r`` gets code ``i`` when its id is the ``i``-th distinct id by first
    appearance (so ``codes == arange(n)`` when no id repeats). Each event gets the code of
    the order with its id, or -1 when no order has it.
    """
    raw = [_bytes(c) for c in [order_ids, *event_ids]]
    if any(r is None for r in raw):
        return _by_strings(order_ids, event_ids)
    longest = max(int(np.diff(off).max(initial=0)) for _, off in raw)
    if longest > MAX_BYTES:
        return _by_strings(order_ids, event_ids)
    # One layout for all, so an id has the same fingerprint wherever it appears.
    per = max(1, (longest + 7) // 8)
    shortest = min((int(np.diff(off).min()) for _, off in raw if len(off) > 1), default=0)
    same = longest if shortest == longest else None
    (o_words, o_len), *events = [_words(data, off, per, same) for data, off in raw]
    o_hash = _fingerprint(o_words, o_len)
    # A hash table of the fingerprints finds a repeat in half the time sorting them takes, and
    # the few event fingerprints are then looked up in that same table.
    by_hash = pd.Index(o_hash)
    if not by_hash.is_unique:
        return _by_strings(order_ids, event_ids)  # a repeated id (or a collision): the exact path
    e_len = np.concatenate([n for _, n in events]) if events else np.empty(0, np.int64)
    e_hash = np.concatenate([_fingerprint(w, n) for w, n in events]) if events else np.empty(0, np.uint64)
    e_codes, e_unique = pd.factorize(e_hash)
    owner = by_hash.get_indexer(e_unique).astype(np.int64)  # each distinct event id's order, -1 for none
    pos = owner[e_codes] if len(e_codes) else np.empty(0, np.int64)
    # Byte for byte: a fingerprint collision must not join an event to the wrong order.
    start = 0
    for w, n in events:
        part = pos[start:start + len(n)]
        matched = np.flatnonzero(part >= 0)
        if len(matched):
            rows = part[matched]
            equal = o_len[rows] == e_len[start + matched]
            for o_col, e_col in zip(o_words, w):
                equal &= o_col[rows] == e_col[matched]
            if not equal.all():
                return _by_strings(order_ids, event_ids)
        start += len(n)
    parts = np.split(pos, np.cumsum([len(n) for _, n in events])[:-1]) if events else []
    return np.arange(len(o_hash), dtype=np.int64), parts
