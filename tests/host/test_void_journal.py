# Void end to end through the simulator (tests/scenarios/void.txt: sell, void it, sell again): the
# journal shows the sale voided and the void approved, and `python -m sim.journal diff` finds the
# journal and the host's ledger in agreement; a sale voided at one end only is a difference.
import json
import subprocess
import sys
from pathlib import Path

from sim.__main__ import main
from sim.journal import differences

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "scenarios" / "void.txt"


def _tool(*args):
    command = [sys.executable, "-m", "sim.journal", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_sell_void_sell_again_shows_in_the_journal_and_matches_the_ledger(tmp_path):
    state = tmp_path / "pos"
    assert main(["run", "--quiet", "--lang", "en", "--state", str(state), str(SCRIPT)]) == 0
    shown = _tool("--state", str(state), "--json")
    assert shown.returncode == 0, shown.stderr
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [(r["trace"], r["kind"], r["amount"], r["state"]) for r in rows] == [
        (2, "sale", 1000, "voided"),
        (3, "void", 1000, "approved"),
        (4, "sale", 500, "approved"),
    ]
    diff = _tool("diff", "--state", str(state), "--db", str(tmp_path / "pos-host" / "ledger.db"))
    assert diff.returncode == 0, diff.stdout + diff.stderr


def test_a_sale_voided_at_one_end_only_is_a_difference():
    row = {"terminal": "10000001", "batch": 1, "trace": 2, "amount": 1000, "rrn": "000000000001"}
    journal = dict(row, state="voided")
    booked = dict(row, state="approved", kind="sale")
    found = differences([journal], [booked], "10000001")
    assert found == ["batch 000001 trace 000002: voided in the journal, approved at the host"]
    assert differences([dict(journal, state="approved")], [booked], "10000001") == []
