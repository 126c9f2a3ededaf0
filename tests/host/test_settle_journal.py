# Settlement end to end through the simulator (tests/scenarios/settle_*.txt): for the closed batch
# the terminal's archive and the host's ledger agree per transaction (`python -m sim.journal diff`)
# and in totals (the settlement record's F48 numbers and the ledger's own), the batch closed once on
# both sides, the next batch number the same on both, each upload item booked once; and
# `python -m sim.host ledger --batch N` shows the settlement and the upload as the host saw them.
import json

import pytest

from firmware import settle as S
from sim.host.__main__ import batch_report
from sim.host.ledger import Ledger
from sim.journal import ReadOnly
from tests.host.scenario_kit import run_scenario as _run
from tests.host.scenario_kit import tool as _tool


@pytest.mark.parametrize("name", ["settle_balanced.txt", "settle_unbalanced.txt"])
def test_the_closed_batch_agrees_with_the_ledger_per_transaction_and_in_totals(tmp_path, name):
    state, db = _run(tmp_path, name)
    diff = _tool("sim.journal", "diff", "--state", str(state), "--db", str(db))
    assert diff.returncode == 0, diff.stdout + diff.stderr
    rec = S.State(ReadOnly(str(state))).rec
    assert rec["step"] == S.DONE and rec["batch"] == 1
    ledger = Ledger(str(db))
    try:
        (report,) = batch_report(ledger, 1)
        terminals = ledger.db.execute("SELECT batch FROM terminals").fetchall()
    finally:
        ledger.close()
    t = rec["t"]
    assert report["settled"] and report["domestic"] == [t[1], t[0], t[3], t[2]]
    assert report["foreign"] == [t[5], t[4], t[7], t[6]]
    assert report["result"] == rec["result"]
    assert terminals == [(2,)]  # the host's next batch: the terminal's too (the scenario's idle screen)
    traces = [u["trace"] for u in report["uploads"]]
    assert len(traces) == len(set(traces)) == rec["sent"]
    if "2" in rec["result"]:
        assert rec["sent"] == 3 and rec["nfail"] == 0


def test_the_ledger_tool_shows_a_batch(tmp_path):
    state, db = _run(tmp_path, "settle_unbalanced.txt")
    shown = _tool("sim.host", "ledger", "--db", str(db), "--batch", "1", "--json")
    assert shown.returncode == 0, shown.stderr
    (row,) = [json.loads(line) for line in shown.stdout.splitlines()]
    assert row["result"] == "21" and len(row["uploads"]) == 3 and len(row["upload_ends"]) == 1
    text = _tool("sim.host", "ledger", "--db", str(db), "--batch", "1")
    assert "settled 21 (unbalanced/balanced)" in text.stdout and "uploaded 3 item(s)" in text.stdout
    assert _tool("sim.host", "ledger", "--db", str(db), "--batch", "9").returncode == 2
