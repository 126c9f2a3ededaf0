# A power cut at every storage operation of a sale whose pending reversal is given up first (its
# only attempt lost), each tear mode: after the reboot the batch journal holds every transaction
# once, txn's in the same state, every one in doubt with its reversal pending or marked failed; after
# the next sale every charged sale is approved in the batch or its reversal given up there.
# CPython only: the MicroPython tier has the sale's and the reversal's campaigns (test_online.py).
from tests.portable.campaign import power_cut_campaign, sale_batch_failures
from tests.portable.online_kit import Rig
from virtual.storage import PowerCut


def _attempt(n, tear):
    rig = Rig(reversal_attempts=1)
    assert "Approved" in rig.sale(100)
    rig.press("ENTER")
    rig.host.plan = ["silent"]
    rig.sale(777)
    rig.wait(31)
    assert "No answer: reversal" in rig.screen()
    rig.press("ENTER")
    rig.host.plan = ["lost"]  # the reversal's one attempt: lost, then given up
    rig.storage.cut_at(n, tear)
    try:
        rig.sale(999)
        rig.wait(31)
        rig.press("ENTER")
    except PowerCut:
        rig = rig.reboot()
        where = "cut {} {}".format(n, tear)
        assert sale_batch_failures(rig.term) == [], (where, sale_batch_failures(rig.term))
        rig.host.plan = []
        rig.press("ENTER")
        rig.sale(500)
        rig.wait(31)
        assert "Approved" in rig.screen(), (where, rig.screen())
        failures = sale_batch_failures(rig.term, rig.host.ledger)
        assert failures == [], (where, failures)
        return True
    rig.storage.cut_at(None)  # the whole flow ran uncut: the reversal given up, the sale approved
    assert sale_batch_failures(rig.term, rig.host.ledger) == [], sale_batch_failures(
        rig.term, rig.host.ledger
    )
    lost = [t for t in rig.term.journal.batch.transactions() if t["amount"] == 777]
    assert [(t["state"], t["reversal"]) for t in lost] == [("in_doubt", "failed")]
    return False


def test_a_power_cut_at_every_storage_operation_of_a_give_up_and_the_sale_after_it():
    runs = power_cut_campaign(_attempt)
    assert runs >= 5 * 25, runs
