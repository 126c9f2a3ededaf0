# A terminal in the field upgrades from QPR1 records (the header outside the CRC) to QPR2 without
# losing a counter, a key or a pending reversal. tests/host/data/qpr1/ holds a --state directory
# written by the QPR1 firmware (make_fixture.py there says how, and what it holds): the new firmware
# boots from a copy, sends the pending reversal before the next sale, hands out the next trace, and
# every record it saves is QPR2.
import json
import os
import shutil
from pathlib import Path

from firmware import journal as J
from firmware.counters import Counters
from firmware.host.codec import decode
from firmware.params import Params
from hal.soft.keystore import StorageKeyStore
from sim.__main__ import main
from sim.storage import DirStorage

FIXTURE = Path(__file__).resolve().parent / "data" / "qpr1"
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


def _magic(path):
    return path.read_bytes()[:5]


def _newest(state, name):
    """The newest generation's file of record `name` (the higher sequence number)."""
    best: tuple[int, Path] | None = None
    for slot in ("a", "b"):
        path = state / "{}.{}".format(name, slot)
        if path.exists():
            seq = int(path.read_bytes()[5:13], 16)
            if best is None or seq > best[0]:
                best = (seq, path)
    assert best is not None
    return best[1]


def test_the_fixture_is_qpr1():
    for path in (FIXTURE / "state").rglob("*"):
        if path.is_file():
            assert _magic(path) == b"QPR1 ", path


def test_the_qpr1_state_loads_whole(tmp_path):
    state = _copy(tmp_path)
    storage = DirStorage(str(state))
    counters = Counters.load(storage)
    assert (counters.batch, counters.trace) == (1, 4)
    journal = J.Journal(storage)
    assert journal.pending_reversal()["trace"] == 3
    assert journal.last["state"] == J.IN_DOUBT and journal.last["trace"] == 3
    params = Params.load(storage)
    assert not params.damaged and params.language == "en" and params.terminal_id == "10000001"
    keys = StorageKeyStore(DirStorage(str(state / "keys")))
    assert keys.names() == ["signer", "tmk", "work"]
    for name in keys.names():
        assert keys.load(name)


def test_a_qpr1_terminal_sends_its_reversal_then_sells_on_and_saves_qpr2(tmp_path):
    state = _copy(tmp_path)
    trace = tmp_path / "trace.jsonl"
    script = tmp_path / "sale.txt"
    script.write_text(SALE, encoding="utf-8")
    code = main(["run", "--quiet", "--lang", "en", "--state", str(state), "--trace", str(trace), str(script)])
    assert code == 0
    rows = [json.loads(line) for line in trace.read_text().splitlines()]
    sent = [decode(bytes.fromhex(r["hex"])) for r in rows if r["dir"] == "in"]  # what the host got
    # a new day: the sign-in (trace 4, with the master key of the fixture), then the pending reversal
    # of trace 3, then the sale at trace 5, then its signature's upload under its own trace 5: no
    # number lost or reused
    expected = [("0800", "000004"), ("0400", "000003"), ("0200", "000005"), ("0820", "000005")]
    assert [(m.mti, m.fields[11]) for m in sent] == expected
    storage = DirStorage(str(state))
    journal = J.Journal(storage)
    assert journal.pending_reversal() is None
    assert journal.last["state"] == J.APPROVED and journal.last["trace"] == 5
    assert Counters.load(storage).trace == 6
    for name in ("counters", "txn", "reversal", "hoststate"):
        assert _magic(_newest(state, name)) == b"QPR2 ", name
    # the parameters (not changed by this run) are QPR2 from their next save on
    params = Params.load(storage)
    assert not params.damaged and params.terminal_id == "10000001"
    params.save(storage)
    assert _magic(_newest(state, "params")) == b"QPR2 "
    assert Params.load(storage).language == "en" and not Params.load(storage).damaged
    # the daily sign-in saved the working keys again: QPR2; the master key, never saved, loads as QPR1
    assert _magic(state / "keys" / "work.key") == b"QPR2 "
    keys = StorageKeyStore(DirStorage(str(state / "keys")))
    for name in keys.names():
        assert keys.load(name)
    assert os.path.exists(state / "keys" / "tmk.key")
