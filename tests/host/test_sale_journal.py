# The sale writes the batch journal, end to end through the simulator: three sales and a lost
# answer (cleared by the next sale's reversal) show in `python -m sim.journal --json` with their
# states, and `python -m sim.journal diff` finds no difference with the host's ledger.
import json
import subprocess
import sys
from pathlib import Path

from sim.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "scenarios" / "batch_journal.txt"


def _tool(*args):
    command = [sys.executable, "-m", "sim.journal", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_three_sales_and_a_lost_answer_show_in_the_journal_and_match_the_ledger(tmp_path):
    state = tmp_path / "pos"
    assert main(["run", "--quiet", "--lang", "en", "--state", str(state), str(SCRIPT)]) == 0
    shown = _tool("--state", str(state), "--json")
    assert shown.returncode == 0, shown.stderr
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [(r["trace"], r["kind"], r["amount"], r["state"]) for r in rows] == [
        (2, "sale", 1000, "approved"),
        (3, "sale", 2000, "approved"),
        (4, "sale", 3000, "approved"),
        (5, "sale", 4000, "reversed"),
        (6, "sale", 500, "approved"),
    ]
    assert all(r["rrn"] for r in rows if r["state"] == "approved") and rows[3]["rrn"] == ""
    assert all(r["terminal"] == "10000001" and r["batch"] == 1 for r in rows)
    db = str(tmp_path / "pos-host" / "ledger.db")
    diff = _tool("diff", "--state", str(state), "--db", db)
    assert diff.returncode == 0, diff.stdout + diff.stderr


def test_a_lost_answer_not_yet_reversed_is_a_difference(tmp_path):
    state = tmp_path / "pos"
    script = SCRIPT.read_text(encoding="utf-8")
    script = script[: script.index("host clear")]  # the reversal has not gone yet
    path = tmp_path / "script.txt"
    path.write_text(script, encoding="utf-8")
    assert main(["run", "--quiet", "--lang", "en", "--state", str(state), str(path)]) == 0
    rows = [json.loads(line) for line in _tool("--state", str(state), "--json").stdout.splitlines()]
    assert [(r["trace"], r["state"]) for r in rows][-1] == (5, "in_doubt")
    diff = _tool("diff", "--state", str(state), "--db", str(tmp_path / "pos-host" / "ledger.db"))
    assert diff.returncode == 1 and "5" in diff.stdout, diff.stdout + diff.stderr
