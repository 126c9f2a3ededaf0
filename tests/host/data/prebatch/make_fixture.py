# Makes the fixture of tests/host/test_batch_upgrade.py: a terminal's --state directory (and its
# embedded host's ledger) as the firmware before the sale wrote the batch journal left it: the
# last transaction only in the `txn` record (no org, op, f12, f13, f15 fields), no batch segment.
# Run with that firmware (commit 92d0db6; later firmware mirrors every sale into the batch journal
# and would make a fixture of the wrong shape):
#     python tests/host/data/prebatch/make_fixture.py
# Writes tests/host/data/prebatch/state/ (records, keys/) and tests/host/data/prebatch/state-host/.
# What it holds: parameters, a sign-in (the TMK, the working keys and the signer's key in keys/),
# an approved sale (trace 2), a sale whose answer never came (trace 3: txn in_doubt, its reversal
# pending), counters at 3 hand-outs.
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
sys.path.insert(0, ROOT)

from sim.__main__ import main  # noqa: E402

SCRIPT = """clock 2026-12-07 10:00
key ENTER 1 100 ENTER
insert debit
key 123456 ENTER
expect Approved
expect Trace 000002
key ENTER
host fault no-answer on 0200
key ENTER 1 1234 ENTER
insert debit
key 123456 ENTER
expect Waiting for host
wait 31
expect No answer: reversal
expect Trace 000003
key ENTER
"""


def make():
    state = os.path.join(HERE, "state")
    for path in (state, state + "-host"):
        shutil.rmtree(path, ignore_errors=True)
    script = os.path.join(HERE, "script.txt")
    with open(script, "w", encoding="utf-8") as f:
        f.write(SCRIPT)
    try:
        code = main(["run", "--quiet", "--lang", "en", "--state", state, script])
    finally:
        os.remove(script)
    if code != 0:
        raise SystemExit("the fixture's run failed: {}".format(code))
    os.remove(os.path.join(state, "LOCK"))
    for name in sorted(os.listdir(state)):
        if name.startswith("batch."):
            raise SystemExit("{}: this firmware writes the batch journal: run the one before".format(name))


if __name__ == "__main__":
    make()
