"""Step statuses: one Literal, every value read back from the run store, an unknown one refused."""

import sqlite3

import pytest

from dagml.local.errors import StoreDatabaseError
from dagml.local.status import DONE, STATUSES, STOPPED, step_status
from dagml.local.store import RunStore, StepRecord


def test_the_status_groups_are_statuses_and_do_not_overlap():
    assert set(DONE) | set(STOPPED) < set(STATUSES) and not set(DONE) & set(STOPPED)
    assert [step_status(s) for s in STATUSES] == list(STATUSES)
    assert step_status("Succeeded") is None and step_status("exploded") is None


def test_every_status_reads_back_and_an_unknown_one_is_a_damaged_store(tmp_path):
    store = RunStore(str(tmp_path))
    run_id = store.new_run("flow", "flow.py", {}, "hash")
    for status in STATUSES:
        store.set_step(run_id, StepRecord(status, "processing", status))
    assert {name: r.status for name, r in store.steps(run_id).items()} == {s: s for s in STATUSES}
    with sqlite3.connect(store.db_path) as db:
        db.execute("UPDATE steps SET status = 'exploded' WHERE step = 'failed'")
    db.close()
    with pytest.raises(StoreDatabaseError, match="step 'failed' of run .* has the status 'exploded'") as info:
        store.steps(run_id)
    assert info.value.fault == "malformed" and "Fix: upgrade dagml" in str(info.value)
