"""units.interval_changes by hand: when a unit's defect stops and starts again (a removed
feedback, a decided claim), now swept over the units with a defect only."""
import numpy as np

from perfkit.engine.units import NEVER, interval_changes

N = NEVER


def test_interval_changes_by_hand():
    # unit 0: no defect; 1: feedback on days 3-8; 2: feedback 2-5 then a claim from 7 on (a gap);
    # 3: feedback 1-6 overlapping a claim 4-9 (one block); 4: feedback from 5, never removed.
    starts = {"negative_feedback": np.array([N, 3, 2, 1, 5]), "a_to_z_claim": np.array([N, N, 7, 4, N])}
    ends = {"negative_feedback": np.array([N, 8, 5, 6, N]), "a_to_z_claim": np.array([N, N, N, 9, N])}
    units, days, signs = interval_changes(starts, ends)
    # the gaps first (unit 2 off on 5, on again on 7), then each block's last end (unit 1 on 8, unit 3 on 9)
    assert units.tolist() == [2, 2, 1, 3]
    assert days.tolist() == [5, 7, 8, 9]
    assert signs.tolist() == [-1, 1, -1, -1]
    assert units.dtype == days.dtype == signs.dtype == np.int64


def test_interval_changes_without_any_defect():
    units, days, signs = interval_changes({"refund": np.array([N, N])}, {"refund": np.array([N, 4])})
    assert len(units) == len(days) == len(signs) == 0
