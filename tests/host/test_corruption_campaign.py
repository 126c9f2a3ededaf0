# The full corruption campaign (tests/portable/campaign.py): every registered file truncated at every
# length, every byte flipped, deep nesting, wrong types, huge numbers, bad UTF-8, empty, a directory.
# It prints how many file x damage cases it ran, per file.
from tests.portable.campaign import Campaign


def test_full_corruption_campaign(capsys):
    campaign = Campaign().run()
    with capsys.disabled():
        print("\ncorruption campaign:\n" + campaign.report())
    assert campaign.failures == [], "\n".join(campaign.failures[:20])
    assert sum(campaign.cases.values()) > 1000
