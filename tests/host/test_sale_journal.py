# The sale writes the batch journal, end to end through the simulator: three sales and a lost
# answer (cleared by the next sale's reversal) show in `python -m sim.journal --json` with their
# states, and `python -m sim.journal diff` finds no difference with the host's ledger.
from tests.host.scenario_kit import SCENARIOS, journal_diff, journal_rows, run_scenario, run_script

SCRIPT = SCENARIOS / "batch_journal.txt"


def test_three_sales_and_a_lost_answer_show_in_the_journal_and_match_the_ledger(tmp_path):
    state, db = run_scenario(tmp_path, SCRIPT.name)
    rows = journal_rows(state)
    assert [(r["trace"], r["kind"], r["amount"], r["state"]) for r in rows] == [
        (2, "sale", 1000, "approved"),
        (3, "sale", 2000, "approved"),
        (4, "sale", 3000, "approved"),
        (5, "sale", 4000, "reversed"),
        (6, "sale", 500, "approved"),
    ]
    assert all(r["rrn"] for r in rows if r["state"] == "approved") and rows[3]["rrn"] == ""
    assert all(r["terminal"] == "10000001" and r["batch"] == 1 for r in rows)
    diff = journal_diff(state, db)
    assert diff.returncode == 0, diff.stdout + diff.stderr


def test_a_lost_answer_not_yet_reversed_is_a_difference(tmp_path):
    script = SCRIPT.read_text(encoding="utf-8")
    script = script[: script.index("host clear")]  # the reversal has not gone yet
    path = tmp_path / "script.txt"
    path.write_text(script, encoding="utf-8")
    state, db = run_script(tmp_path, path)
    assert [(r["trace"], r["state"]) for r in journal_rows(state)][-1] == (5, "in_doubt")
    diff = journal_diff(state, db)
    assert diff.returncode == 1 and "5" in diff.stdout, diff.stdout + diff.stderr
