# The full corruption campaign (tests/portable/campaign.py): every registered file truncated at every
# length, every bit of its header flipped, payload bits and bytes flipped, deep nesting, wrong types,
# huge numbers, bad UTF-8, empty, a directory; every subset of the trace-holding records deleted; on
# the in-RAM storage and on the simulator's disk storage (sim.storage.DirStorage), from one, two and
# three sales. It prints how many file x damage cases it ran, per file.
import gc
import itertools
import os

import pytest

from sim.storage import DirStorage
from tests.portable.campaign import TRACE_FILES, Campaign

KEY_RECORDS = TRACE_FILES + ("params",)  # every header bit of their files; one a byte of the others


@pytest.fixture(autouse=True)
def _no_full_collections(monkeypatch):
    # Every boot of a terminal with a security module runs gc.collect() before it takes its frame
    # buffer (a MicroPython heap's need); in this long-lived CPython process, with tens of
    # thousands of boots, the collections would dominate the run. The campaign does not model them.
    monkeypatch.setattr(gc, "collect", lambda *args: 0)


def _check(campaign, minimum):
    print("\ncorruption campaign:\n" + campaign.report())
    assert campaign.failures == [], "\n".join(campaign.failures[:20])
    assert sum(campaign.cases.values()) > minimum


def test_full_corruption_campaign(capsys):
    campaign = Campaign(step=2, sales=(3,), header_bits=KEY_RECORDS).run(deletions=False)
    campaign.run_deletions(sales=(2,))  # all 1023 subsets
    campaign.step = 7
    campaign.run_deletions(sales=(1, 3))
    with capsys.disabled():
        _check(campaign, 8000)


def test_low_sequence_numbers_sampled(capsys):
    campaign = Campaign(step=9, sales=(1, 2), header_bits=KEY_RECORDS)
    campaign.run(files=KEY_RECORDS, deletions=False)
    with capsys.disabled():
        _check(campaign, 1000)


class DiskInTheWay(DirStorage):
    """The simulator's disk storage, where block(name) makes a real directory at name."""

    def block(self, name):
        os.mkdir(self._path(name))
        self.blocked = name

    blocked = None


def test_the_campaign_on_the_simulators_disk_storage(tmp_path, capsys, monkeypatch):
    # The real files, renames, removals and directories; fsync (durability against the machine's own
    # crash, which the campaign does not model) skipped, or it dominates the run.
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    numbers = itertools.count()

    def make():
        return DiskInTheWay(str(tmp_path / "s{}".format(next(numbers))))

    def reopen(storage):
        storage.power_cut()
        again = DiskInTheWay(storage.root)
        again.blocked = storage.blocked
        return again

    campaign = Campaign(step=31, make_storage=make, reopen=reopen, sales=(1, 2, 3), header_bits=())
    campaign.run(files=KEY_RECORDS, deletions=False)
    campaign.step = 97
    campaign.run_deletions()
    with capsys.disabled():
        _check(campaign, 300)
