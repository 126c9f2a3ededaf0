# Makes the QPR1 fixture of tests/host/test_qpr1_upgrade.py: a terminal's --state directory (and
# its embedded host's ledger) as firmware with QPR1 records left it. Run with the firmware that
# wrote QPR1 (the commit before the QPR2 format; later firmware writes QPR2 and would make a new
# fixture of the wrong format):
#     python tests/host/data/qpr1/make_fixture.py
# Writes tests/host/data/qpr1/state/ (records, keys/) and tests/host/data/qpr1/state-host/.
# What it holds: parameters saved twice (--lang en, then the merchant's language), a sign-in (the
# TMK, the working keys and the signer's key in keys/), an approved sale (trace 2), a sale whose
# answer never came (trace 3: txn in_doubt, its reversal pending), counters at 3 hand-outs.
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
        path = os.path.join(state, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                if f.read(5) != b"QPR1 ":
                    raise SystemExit("{} is not a QPR1 record: run this with the QPR1 firmware".format(name))


if __name__ == "__main__":
    make()
