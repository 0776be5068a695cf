"""Which sequences' recipients a sync reads."""

import datetime as dt

from tap_mixmax.records import format_utc
from tap_mixmax.streams import RecipientsPass

T1, T2, T3 = "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"
SKIP = {"recipients_skip_unchanged_sequences": True, "recipients_full_pass_days": 7}


def recent_full_pass(newest: str) -> dict:
    return {"newestUpdatedAt": newest, "lastFullPass": format_utc(dt.datetime.now(dt.timezone.utc))}


def test_by_default_every_sequence_is_read():
    recipients = RecipientsPass({}, recent_full_pass(T2))
    assert recipients.full
    assert all(recipients.should_read(t) for t in (T1, T2, T3, None))


def test_skip_mode_reads_only_sequences_updated_since_the_last_pass():
    recipients = RecipientsPass(SKIP, recent_full_pass(T2))
    assert not recipients.full
    assert not recipients.should_read(T1)
    assert recipients.should_read(T2)  # equal: could have changed in the same millisecond
    assert recipients.should_read(T3)
    assert recipients.should_read(None)  # unknown: read it
    assert recipients.finished()["newestUpdatedAt"] == T3


def test_skip_mode_does_a_full_pass_when_it_is_due_or_has_never_run():
    stale = {"newestUpdatedAt": T2, "lastFullPass": "2020-01-01T00:00:00.000Z"}
    assert RecipientsPass(SKIP, stale).full
    assert RecipientsPass(SKIP, None).full
    done = RecipientsPass(SKIP, stale).finished()
    assert done["lastFullPass"] > stale["lastFullPass"]
