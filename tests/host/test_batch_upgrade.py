# A terminal in the field upgrades from the firmware whose sale kept only the `txn` record (no batch
# journal, txn without org, op, f12, f13, f15) without losing its pending reversal or its last
# transaction. tests/host/data/prebatch/ holds a --state directory written by that firmware
# (make_fixture.py there says how, and what it holds): the new firmware boots from a copy, puts the
# last transaction into the batch journal, sends the pending reversal before the next sale, and the
# batch then shows both.
import shutil
from pathlib import Path

from firmware import batch as B
from firmware import journal as J
from firmware.counters import Counters
from sim.__main__ import main
from sim.storage import DirStorage

FIXTURE = Path(__file__).resolve().parent / "data" / "prebatch"
SALE = """clock 2026-12-08 10:00
key ENTER 1 500 ENTER
insert debit
key 123456 ENTER
sign
expect Approved
expect Trace 000005
key ENTER
"""


def _copy(tmp_path):
    state = tmp_path / "state"
    shutil.copytree(FIXTURE / "state", state)
    shutil.copytree(FIXTURE / "state-host", tmp_path / "state-host")
    return state


def test_the_fixture_has_no_batch_journal_and_the_old_txn_shape():
    names = [p.name for p in (FIXTURE / "state").iterdir()]
    assert not [n for n in names if B.owns(n)]
    storage = DirStorage(str(FIXTURE / "state"))
    raw = J.load(storage, J.TXN).record
    assert raw["trace"] == 3 and raw["state"] == J.IN_DOUBT and "org" not in raw and "f13" not in raw


def test_the_boot_puts_the_last_transaction_in_the_batch_and_keeps_the_reversal(tmp_path):
    state = _copy(tmp_path)
    storage = DirStorage(str(state))
    journal = J.Journal(storage)
    assert journal.last["org"] == "" and journal.last["op"] == "01"
    journal.recover()  # what the boot runs
    assert journal.pending_reversal()["trace"] == 3
    t = B.Batch(storage).by_trace(3)
    assert t["state"] == B.IN_DOUBT and t["amount"] == 1234 and t["op"] == "01" and t["org"] == ""
    assert Counters.load(storage).trace == 4


def test_an_upgraded_terminal_sends_its_reversal_then_sells_into_the_batch(tmp_path):
    state = _copy(tmp_path)
    script = tmp_path / "sale.txt"
    script.write_text(SALE, encoding="utf-8")
    code = main(["run", "--quiet", "--lang", "en", "--state", str(state), str(script)])
    assert code == 0
    storage = DirStorage(str(state))
    journal = J.Journal(storage)
    assert journal.pending_reversal() is None and journal.failed_reversals() == []
    rows = [(t["trace"], t["amount"], t["state"]) for t in journal.batch.transactions()]
    assert rows == [(3, 1234, B.REVERSED), (5, 500, B.APPROVED)]
    assert journal.batch.by_trace(5)["rrn"] == journal.last["rrn"] != ""
    assert Counters.load(storage).trace == 6
