# The corruption campaign on both runtimes, sampled (every 9th truncation and payload bit, one bit of
# each header byte, every 31st deletion subset, from two sales; MicroPython a sparser sample): the
# full campaign runs on CPython in tests/host/test_corruption_campaign.py (the simulator's disk
# storage too) and prints its counts.
import sys

from tests.portable.campaign import Campaign

# MicroPython (WebAssembly, in CI) boots a terminal about thirty times slower than CPython: it takes
# a sparser sample of the same families, so the whole MicroPython tier stays within its time (five
# times the step, one header byte in four: every file still gets a case in each header field).
SPARSE = 5 if sys.implementation.name == "micropython" else 1
HEADER_STEP = 4 if sys.implementation.name == "micropython" else 1


def test_sampled_corruption_campaign():
    campaign = Campaign(step=9 * SPARSE, sales=(2,), header_bits=(), header_step=HEADER_STEP)
    campaign.run(deletions=False)
    campaign.step = 31 * min(SPARSE, 3)  # the deletions: more than ten subsets either way
    campaign.run_deletions()
    assert campaign.failures == [], "\n".join(campaign.failures[:10])
    assert len(campaign.cases) >= 8 and min(campaign.cases.values()) > 10
