"""The Queue tab's table: an ETA that counts down steadily through bursts, columns that fit."""

from __future__ import annotations

from dataclasses import replace

from explorer.tab_queue import REASON_CHARS, eta_now, short_reason
from workqueue.records import RUNNING, Request

BASE = Request(id="r", model_id="org/m", revision="main", sha="s" * 40, precision="auto", source="hub",
               suite="starter", tasks=["t"], status=RUNNING, submitted_at=0.0, started_at=1000.0, total=1000)


def _snapshots():
    """(now, record as of the last heartbeat): 1 item/s, heartbeats every 20 s, and at t=300 a burst of
    200 items served from the cache in one heartbeat."""
    done, out = 0, []
    for t in range(20, 801, 20):
        done = min(1000, done + 20 + (200 if t == 300 else 0))
        record = replace(BASE, done=done, heartbeat_at=1000.0 + t, eta_s=12345.0)
        out += [(1000.0 + t + lag, record) for lag in (0, 7, 14)]  # refreshes between two heartbeats
        if done >= 1000:
            break
    return out


def test_eta_counts_down_through_a_burst_without_jumping():
    snaps = _snapshots()
    etas = [eta_now(r, now) for now, r in snaps]
    assert all(e is not None and e >= 0 for e in etas) and etas[-1] == 0.0
    at = {now - 1000.0: e for (now, _), e in zip(snaps, etas)}
    # Before the burst: exactly one second less per second (the true time left at 1 item/s).
    assert at[280] == 720 and at[294] == 706
    # The burst: the estimate drops by the burst's share of the run so far; an estimate from the latest
    # interval (220 items in 20 s) would say 500 / 11 ≈ 45 s here, then jump back up to ~480 s.
    assert 250 <= at[300] < at[294]
    # After it: the estimate settles back as the rate over the run does, a few seconds per heartbeat at
    # most, never a jump.
    steps = [b - a for a, b in zip(etas, etas[1:])]
    ups = [s for s in steps if s > 0]
    assert ups and max(ups) <= 10, max(ups)
    assert all(-21 <= s for i, s in enumerate(steps) if snaps[i + 1][0] != 1300.0)  # steady elsewhere


def test_eta_counts_down_between_heartbeats_and_falls_back_to_the_workers_estimate():
    r = replace(BASE, done=100, heartbeat_at=1100.0)
    assert eta_now(r, 1100.0) == 900.0 and eta_now(r, 1110.0) == 890.0 and eta_now(r, 99999.0) == 0.0
    assert eta_now(replace(r, started_at=None, eta_s=42.0), 1110.0) == 42.0
    assert eta_now(replace(r, done=0, eta_s=None), 1110.0) is None


def test_long_reasons_are_cut_for_the_table():
    text = "CUDA out of memory " * 30
    assert len(short_reason(text)) == REASON_CHARS and short_reason(text).endswith("…")
    assert short_reason("line one\nline two") == "line one line two" and short_reason(None) == ""
