# make test runs pytest on every core (pytest-xdist, -n auto), whose "load" scheduling sends the
# first items round robin. The longest tests, the MicroPython tier's shards
# (tests/host/test_upy_tier.py), go first, so each worker starts with one and none starts one
# when the others have nothing left to do.
LONGEST_FIRST = ("test_portable_tier_passes_on_micropython",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: getattr(item, "originalname", "") not in LONGEST_FIRST)
