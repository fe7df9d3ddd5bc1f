"""The slot-table time-zone conversions equal pandas' own, value by value.

The hand-picked instants sit on and around daylight-saving changes (the autumn hour that
happens twice, the spring gap, Lord Howe's half-hour change, Samoa's skipped day); hypothesis
adds random instants in every zone of the list.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.core.timezones import local_days, localize, to_local

ZONES = ["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Shanghai", "Australia/Lord_Howe",
         "America/Santiago", "Asia/Kathmandu", "Pacific/Apia", "America/Havana", "Africa/Casablanca"]


def pandas_localize(naive: np.ndarray, tz: str) -> np.ndarray:
    s = pd.Series(naive).dt.tz_localize(tz, ambiguous=np.ones(len(naive), bool), nonexistent="shift_forward")
    return s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")


def pandas_to_local(utc: np.ndarray, tz: str) -> np.ndarray:
    return pd.Series(utc).dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None).to_numpy("datetime64[ns]")


def around(*stamps: str) -> np.ndarray:
    """Every 10 minutes for 3 hours either side of each stamp, plus a second either side."""
    out = []
    for s in stamps:
        mid = np.datetime64(s, "ns")
        steps = np.arange(-18, 19) * np.timedelta64(10, "m")
        out += [mid + steps, mid + steps + np.timedelta64(1, "s"), mid + steps - np.timedelta64(1, "s")]
    return np.concatenate(out).astype("datetime64[ns]")


EDGES = around("2026-03-29T02:00", "2026-10-25T02:30", "2026-03-08T02:00", "2026-11-01T01:30",
               "2026-04-05T02:00", "2026-10-04T02:00", "2011-12-30T00:00", "2026-09-06T00:00")


@pytest.mark.parametrize("tz", ZONES)
def test_edges_equal_pandas(tz):
    values = np.concatenate([EDGES, np.array(["NaT"], dtype="datetime64[ns]")])
    assert np.array_equal(localize(values, tz), pandas_localize(values, tz), equal_nan=True)
    assert np.array_equal(to_local(values, tz), pandas_to_local(values, tz), equal_nan=True)
    days = pandas_to_local(values, tz).astype("datetime64[D]").astype(np.int64)
    days[-1] = -1  # the NaT
    assert np.array_equal(local_days(values, tz, missing=-1), days)


def test_hand_counted_berlin():
    # 2026-03-29 02:30 does not exist in Berlin: it moves to 03:00 CEST, 01:00 UTC.
    # 2026-10-25 02:30 happens twice: the first (CEST, UTC+2) is taken, 00:30 UTC.
    naive = np.array(["2026-03-29T02:30", "2026-10-25T02:30", "2026-07-01T12:00", "NaT"], dtype="datetime64[ns]")
    expect = np.array(["2026-03-29T01:00", "2026-10-25T00:30", "2026-07-01T10:00", "NaT"], dtype="datetime64[ns]")
    assert np.array_equal(localize(naive, "Europe/Berlin"), expect, equal_nan=True)
    back = to_local(np.array(["2026-10-25T00:30", "2026-10-25T01:30"], dtype="datetime64[ns]"), "Europe/Berlin")
    assert back.tolist() == [np.datetime64("2026-10-25T02:30", "ns").item(),
                             np.datetime64("2026-10-25T02:30", "ns").item()]


def test_wide_range_and_all_missing():
    wide = np.array(["1905-06-01T12:00", "2090-01-01T00:00"], dtype="datetime64[ns]")
    assert np.array_equal(localize(wide, "Europe/Berlin"), pandas_localize(wide, "Europe/Berlin"))
    empty = np.array(["NaT", "NaT"], dtype="datetime64[ns]")
    assert np.isnat(localize(empty, "Europe/Berlin")).all() and np.isnat(to_local(empty, "Asia/Shanghai")).all()


NS_2000, NS_2035 = (int(np.datetime64(d, "ns").astype(np.int64)) for d in ("2000-01-01", "2035-01-01"))


@settings(max_examples=60, deadline=None)
@given(tz=st.sampled_from(ZONES), values=st.lists(st.integers(NS_2000, NS_2035), min_size=1, max_size=300),
       near=st.integers(0, 59))
def test_random_instants_equal_pandas(tz, values, near):
    raw = np.array(values, dtype=np.int64)
    raw[::2] = raw[::2] // (3600 * 10**9) * (3600 * 10**9) + near * 60 * 10**9  # many on round minutes
    naive = raw.view("datetime64[ns]")
    assert np.array_equal(localize(naive, tz), pandas_localize(naive, tz))
    assert np.array_equal(to_local(naive, tz), pandas_to_local(naive, tz))
