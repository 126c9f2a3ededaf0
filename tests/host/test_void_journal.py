# Void end to end through the simulator (tests/scenarios/void.txt: sell, void it, sell again): the
# journal shows the sale voided and the void approved, and `python -m sim.journal diff` finds the
# journal and the host's ledger in agreement; a sale voided at one end only is a difference.
from sim.journal import differences
from tests.host.scenario_kit import journal_diff, journal_rows, run_scenario


def test_sell_void_sell_again_shows_in_the_journal_and_matches_the_ledger(tmp_path):
    state, db = run_scenario(tmp_path, "void.txt")
    rows = journal_rows(state)
    assert [(r["trace"], r["kind"], r["amount"], r["state"]) for r in rows] == [
        (2, "sale", 1000, "voided"),
        (3, "void", 1000, "approved"),
        (4, "sale", 500, "approved"),
    ]
    diff = journal_diff(state, db)
    assert diff.returncode == 0, diff.stdout + diff.stderr


def test_a_sale_voided_at_one_end_only_is_a_difference():
    row = {"terminal": "10000001", "batch": 1, "trace": 2, "amount": 1000, "rrn": "000000000001"}
    journal = dict(row, state="voided")
    booked = dict(row, state="approved", kind="sale")
    found = differences([journal], [booked], "10000001")
    assert found == ["batch 000001 trace 000002: voided in the journal, approved at the host"]
    assert differences([dict(journal, state="approved")], [booked], "10000001") == []
