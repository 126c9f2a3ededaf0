# Refund end to end through the simulator: tests/scenarios/void_refund.txt (sell, void it, sell
# again, refund part twice with the second refused by the terminal's guard, a back-office refund
# submitted and approved by two users, a terminal refund then refused 35 by the host) leaves the
# journal and the host's ledger in agreement (`python -m sim.journal diff`); refund_resend.txt
# leaves a refund not confirmed, which the diff names. The diff's refund rules on their own.
from sim.host.ledger import Ledger
from sim.journal import differences
from tests.host.scenario_kit import journal_diff, journal_rows
from tests.host.scenario_kit import run_scenario as _run


def test_void_refund_back_office_and_a_35_and_the_journal_matches_the_ledger(tmp_path):
    state, db = _run(tmp_path, "void_refund.txt")
    rows = journal_rows(state)
    assert [(r["trace"], r["kind"], r["amount"], r["state"]) for r in rows] == [
        (2, "sale", 1000, "voided"),
        (3, "void", 1000, "approved"),
        (4, "sale", 2000, "approved"),
        (5, "refund", 500, "approved"),  # the second (1600, over the 1500 left) never went
        (6, "refund", 800, "declined"),  # 35: the back office had taken 1000 of the 1500
    ]
    diff = journal_diff(state, db)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    ledger = Ledger(str(db))
    try:
        (office,) = ledger.db.execute(
            "SELECT amount, reason, state, submitted_by, reviewed_by FROM backoffice"
        ).fetchall()
        sale = ledger.db.execute("SELECT amount, refunded FROM txns WHERE rrn='000000000003'").fetchone()
    finally:
        ledger.close()
    assert office == (1000, "quality", "approved", "alice", "bob")
    assert sale == (2000, 1500)  # 500 at the terminal, 1000 in the back office: 500 left


def test_a_refund_not_confirmed_is_a_difference_until_its_resend(tmp_path):
    state, db = _run(tmp_path, "refund_resend.txt")
    diff = journal_diff(state, db)
    assert diff.returncode == 1
    assert diff.stdout.splitlines() == [
        "batch 000001 trace 000004: refund not confirmed (its resend has not been answered)"
    ]
    rows = journal_rows(state)
    assert [(r["trace"], r["kind"], r["state"]) for r in rows] == [
        (2, "sale", "approved"),
        (3, "refund", "approved"),  # its answer lost once: the resend from RAM confirmed it
        (4, "refund", "in_doubt"),
    ]


def test_the_diffs_refund_rules():
    row = {"terminal": "10000001", "batch": 1, "trace": 5, "amount": 500, "rrn": "000000000004"}
    booked = dict(row, state="approved", kind="refund")
    assert differences([dict(row, kind="refund", state="approved")], [booked], "10000001") == []
    # a terminal refund the host booked and the journal lacks (or calls not done) is a difference
    assert differences([], [booked], "10000001") == [
        "batch 000001 trace 000005: booked by the host, not in the journal"
    ]
    assert differences([dict(row, kind="refund", state="unsent")], [booked], "10000001") == [
        "batch 000001 trace 000005: unsent in the journal, booked by the host"
    ]
    # not done at both ends (the host answered 25: nothing booked)
    assert differences([dict(row, kind="refund", state="unsent")], [], "10000001") == []
