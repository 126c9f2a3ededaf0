# The corruption campaign on both runtimes, sampled (every 9th truncation and payload bit, one bit of
# each header byte, every 31st deletion subset, from two sales): the full campaign runs on CPython in
# tests/host/test_corruption_campaign.py (the simulator's disk storage too) and prints its counts.
from tests.portable.campaign import Campaign


def test_sampled_corruption_campaign():
    campaign = Campaign(step=9, sales=(2,), header_bits=()).run(deletions=False)
    campaign.step = 31
    campaign.run_deletions()
    assert campaign.failures == [], "\n".join(campaign.failures[:10])
    assert len(campaign.cases) >= 8 and min(campaign.cases.values()) > 10
