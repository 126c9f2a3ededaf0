# The portable tier's runner on MicroPython: imports tests/portable/test_*.py and calls every
# test_* function. Must never depend on pytest or on dict order (MicroPython dicts are unordered).
#
# Run through the node runner: node tests/upy/run.mjs tests/upy/run_tests.py [SUBSTRING...]
# Only tests whose "module.function" name contains one of the substrings run. The last line is
# "N passed, M failed"; it exits 1 if anything failed or nothing ran. On MicroPython each module
# runs in a call of its own (upy_phase), so that the collector frees what the ones before left.
import gc
import os
import sys

TEST_DIR = "tests/portable"
PACKAGE = "tests.portable"


def print_exception(exc):
    if hasattr(sys, "print_exception"):
        sys.print_exception(exc)
    else:  # CPython, when debugging the runner itself
        import traceback

        traceback.print_exception(exc)


def import_module(name):
    mod = __import__(name)
    for part in name.split(".")[1:]:
        mod = getattr(mod, part)
    return mod


def test_modules():
    names = []
    for fname in os.listdir(TEST_DIR):
        if fname.startswith("test_") and fname.endswith(".py"):
            names.append(fname[:-3])
    names.sort()
    return names


def wanted(label, filters):
    if not filters:
        return True
    for f in filters:
        if f in label:
            return True
    return False


def run_module(name, filters):
    """Import tests/portable/<name>.py and call its wanted test_* functions: (passed, failed)."""
    passed = 0
    failed = 0
    try:
        mod = import_module(PACKAGE + "." + name)
    except Exception as e:
        if wanted(name, filters):
            print("FAIL {} (import)".format(name))
            print_exception(e)
            failed += 1
        return passed, failed
    for attr in sorted(dir(mod)):
        if not attr.startswith("test_"):
            continue
        func = getattr(mod, attr)
        label = "{}.{}".format(name, attr)
        if not callable(func) or not wanted(label, filters):
            continue
        try:
            func()
            passed += 1
        except Exception as e:
            print("FAIL " + label)
            print_exception(e)
            failed += 1
    return passed, failed


def finish(passed, failed):
    print("{} passed, {} failed".format(passed, failed))
    if failed or not passed:
        raise SystemExit(1)


# One test module per call from JavaScript (run.mjs calls upy_phase(0), (1) ... while it returns
# True): within one call this port's collector frees nothing, so a whole tier in one call kept
# every byte it ever allocated (near the WebAssembly runtime's 2 GB limit); the gc.collect() at the
# start of each call frees what the modules before left.
_totals = [0, 0]


def upy_phase(i):
    gc.collect()
    names = test_modules()
    if i < len(names):
        passed, failed = run_module(names[i], sys.argv[1:])
        _totals[0] += passed
        _totals[1] += failed
        return True
    finish(_totals[0], _totals[1])
    return False


def main(filters):
    """Every module in one call (CPython, when debugging the runner itself)."""
    passed = 0
    failed = 0
    for name in test_modules():
        p, f = run_module(name, filters)
        passed += p
        failed += f
        gc.collect()
    finish(passed, failed)


if sys.implementation.name != "micropython":
    main(sys.argv[1:])
