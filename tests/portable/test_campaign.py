# The corruption campaign on both runtimes, sampled (every 9th truncation and flipped byte): the
# full campaign runs on CPython in tests/host/test_corruption_campaign.py and prints its counts.
from tests.portable.campaign import Campaign


def test_sampled_corruption_campaign():
    campaign = Campaign(step=9).run()
    assert campaign.failures == [], "\n".join(campaign.failures[:10])
    assert len(campaign.cases) >= 7 and min(campaign.cases.values()) > 10
