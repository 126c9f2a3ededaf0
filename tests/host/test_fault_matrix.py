# The host fault matrix (tests/host/fault_matrix.py, docs/PROTOCOL.md "The host fault matrix"): a
# sample in make test that hits each fault and each kind at least once, a faulted reversal among
# them; `make campaign` (QIANPOS_CAMPAIGN=1) runs every cell.
import os

import pytest

from tests.host.fault_matrix import FAULTS, KINDS, Case, cases, run_case

SAMPLE = [
    Case("sale", "no-answer", 1),
    Case("void", "late", 1),
    Case("sale", "drop", 2),  # the reversal's first attempt broken too
    Case("void", "garbage", 1),
    Case("void", "bad-mac", 2),  # a sign-in before each reversal attempt
    Case("sale", "duplicate", 1),
    Case("void", "no-answer", 4),  # every reversal attempt lost: given up, in doubt
]
CAMPAIGN = os.environ.get("QIANPOS_CAMPAIGN") == "1"


def test_the_sample_covers_each_fault_and_kind():
    assert {c.fault for c in SAMPLE} == set(FAULTS)
    assert {c.kind.name for c in SAMPLE} == set(KINDS)


@pytest.mark.parametrize("case", cases() if CAMPAIGN else SAMPLE, ids=repr)
def test_fault_matrix(case, tmp_path):
    problems = run_case(case, str(tmp_path))
    assert problems == [], "\n".join(problems)
