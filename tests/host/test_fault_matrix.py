# The host fault matrix (tests/host/fault_matrix.py, docs/PROTOCOL.md "The host fault matrix"): a
# sample in make test that hits each fault and each kind at least once, a faulted reversal among
# them; `make campaign` (QIANPOS_CAMPAIGN=1) runs every cell.
import os

import pytest

from firmware.online import Online
from sim.host import acquirer
from sim.host.acquirer import Acquirer
from tests.host.fault_matrix import FAULTS, KINDS, Case, cases, run_case

SAMPLE = [
    Case("sale", "no-answer", 1),
    Case("void", "late", 1),
    Case("sale", "drop", 2),  # the reversal's first attempt broken too
    Case("void", "garbage", 1),
    Case("void", "bad-mac", 2),  # a sign-in before each reversal attempt
    Case("sale", "duplicate", 1),
    Case("void", "no-answer", 4),  # every reversal attempt lost: given up, in doubt
    Case("refund", "late", 1),  # the resend from RAM gets the host's replay: approved, booked once
    Case("refund", "bad-mac", 2),  # a sign-in before the resend, lost too: not confirmed, in doubt
]
CAMPAIGN = os.environ.get("QIANPOS_CAMPAIGN") == "1"


def test_the_sample_covers_each_fault_and_kind():
    assert {c.fault for c in SAMPLE} == set(FAULTS)
    assert {c.kind.name for c in SAMPLE} == set(KINDS)


@pytest.mark.parametrize("case", cases() if CAMPAIGN else SAMPLE, ids=repr)
def test_fault_matrix(case, tmp_path):
    problems = run_case(case, str(tmp_path))
    assert problems == [], "\n".join(problems)


# The matrix can fail: a bug planted at either end is caught (monkeypatched for one case only).
def test_the_matrix_catches_a_terminal_that_never_sends_its_reversal(tmp_path, monkeypatch):
    def cleared_unsent(self, rev):
        self.term.journal.reversal_done("00")  # believes it reversed, sends nothing
        return self._next()

    monkeypatch.setattr(Online, "_start_reversal", cleared_unsent)
    problems = run_case(Case("sale", "no-answer", 1), str(tmp_path))
    assert any("booked by the host" in p for p in problems), problems  # sim.journal diff
    assert any("the card's balance" in p for p in problems), problems


def test_the_matrix_catches_a_host_that_charges_twice(tmp_path, monkeypatch):
    sale = Acquirer._sale

    def charged_twice(self, req, term):
        answer = sale(self, req, term)
        if answer[39] == "00":
            self.db.execute("UPDATE cards SET balance=balance-?", (int(req[4]),))
        return answer

    monkeypatch.setattr(Acquirer, "_sale", charged_twice)
    problems = run_case(Case("void", "duplicate", 1), str(tmp_path))
    assert problems == [
        "the card's balance at the host is 4998000, the journal charged 500 of 5000000 and 0 went back"
    ]


def test_the_matrix_catches_a_host_that_books_a_resent_refund_twice(tmp_path, monkeypatch):
    # The host's repeat check forgets 0220: the resend from RAM (the same trace) is booked again.
    monkeypatch.setattr(acquirer, "IDEMPOTENT", tuple(k for k in acquirer.IDEMPOTENT if k != "refund"))
    problems = run_case(Case("refund", "no-answer", 1), str(tmp_path))
    assert any("booked a (terminal, batch, trace) twice" in p for p in problems), problems
    assert any("the card's balance at the host is 4999100" in p for p in problems), problems
    assert any(
        "the host refunded the sales 600 in 600 of refunds, the matrix expects 300" in p for p in problems
    )
