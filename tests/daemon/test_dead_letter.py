from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from daemon.dead_letter import DeadLetterGuard, DeadLetterLimitExceeded, dead_letter_headers
from daemon.wire.schema import InvalidMessage, Reason
from tests.daemon.helpers import Rec


def test_headers_carry_reason_detail_and_source():
    rec = Rec("latentwatch.windows", 3, 1234, b"pump-1", b"{")
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    h = dict(dead_letter_headers(rec, InvalidMessage(Reason.MALFORMED_JSON, "unexpected end"), now))
    assert h == {
        "reason": b"malformed_json",
        "detail": b"unexpected end",
        "source_topic": b"latentwatch.windows",
        "source_partition": b"3",
        "source_offset": b"1234",
        "dead_lettered_at": b"2024-05-01T12:00:00.000+00:00",
    }


def test_one_bad_message_at_start_does_not_trip_the_ratio():
    g = DeadLetterGuard(window=100, max_ratio=0.5, max_consecutive=1000)
    g.observe(np.array([True]))  # 1 of 1 seen, but 1 of a window of 100
    g.observe(np.zeros(5, dtype=bool))
    g.observe(np.ones(49, dtype=bool))  # 50 of 55 seen: still not more than half of the window
    assert g.consecutive == 49
    with pytest.raises(DeadLetterLimitExceeded, match=r"51 of the last 56 .*more than 0.5 of 100"):
        g.observe(np.array([True]))


def test_ratio_over_the_window_trips():
    g = DeadLetterGuard(window=100, max_ratio=0.5, max_consecutive=1000)
    pattern = np.array([True, False] * 50)
    g.observe(pattern)  # exactly 50 of 100: not more than half
    with pytest.raises(DeadLetterLimitExceeded, match="51 of the last 100"):
        g.observe(np.array([True, True]))  # the window slides: the two oldest (True, False) leave, 51 bad


def test_old_bad_messages_slide_out_of_the_window():
    g = DeadLetterGuard(window=10, max_ratio=0.5, max_consecutive=1000)
    g.observe(np.array([True, False] * 2 + [True]))  # 3 of 5
    g.observe(np.zeros(100, dtype=bool))
    g.observe(np.array([True, False] * 2 + [True]))  # 3 of the last 10 again, not 6
    g.observe(np.array([True, True]))  # last 10: 0 0 0 T F T F T T T, 5: not more than half
    with pytest.raises(DeadLetterLimitExceeded, match="6 of the last 10"):
        g.observe(np.array([True]))  # a zero slides out, a bad one comes in


def test_consecutive_limit_across_batches():
    g = DeadLetterGuard(window=10_000, max_ratio=1.0, max_consecutive=5)
    g.observe(np.array([False, True, True]))
    g.observe(np.array([True, True]))  # 4 in a row
    with pytest.raises(DeadLetterLimitExceeded, match="5 messages in a row"):
        g.observe(np.array([True, False]))


def test_consecutive_run_inside_one_batch_and_reset_by_a_good_one():
    g = DeadLetterGuard(window=10_000, max_ratio=1.0, max_consecutive=4)
    g.observe(np.array([True, True, True, False, True, True, True, False]))
    assert g.consecutive == 0
    with pytest.raises(DeadLetterLimitExceeded):
        g.observe(np.array([False, True, True, True, True, False]))


def test_reconfigure_keeps_history():
    g = DeadLetterGuard(window=10, max_ratio=0.9, max_consecutive=100)
    g.observe(np.array([True] * 7 + [False] * 3))
    g.configure(window=10, max_ratio=0.5, max_consecutive=100)
    with pytest.raises(DeadLetterLimitExceeded):
        g.observe(np.array([False]))  # 6 of the last 10 > 0.5 * 10


def test_a_dead_letter_over_the_record_limit_is_cut_to_fit_and_says_so():
    from daemon.dead_letter import fit_record
    from daemon.wire.sizes import record_size

    headers = [("reason", b"malformed_json"), ("detail", b"d" * 1024)]
    value = b"{" + b"x" * 1_048_388
    key, cut, h = fit_record(b"k", value, headers, 1_048_576)
    assert record_size(key, cut, h) <= 1_048_576 and value.startswith(cut) and len(cut) > 1_040_000
    assert h[:2] == headers and dict(h)["truncated"] == b"value" and dict(h)["original_bytes"] == b"1048389"
    key, cut, h = fit_record(b"K" * 900_000, value, headers, 1_048_576)  # a key too large to leave room
    assert record_size(key, cut, h) <= 1_048_576 and dict(h)["truncated"] == b"key,value"
    assert dict(h)["original_key_bytes"] == b"900000" and key == b"K" * len(key)
    assert fit_record(b"k", b"small", headers, 1_048_576) == (b"k", b"small", headers)
