# The portable tier's runner on MicroPython: imports tests/portable/test_*.py and calls every
# test_* function. Must never depend on pytest or on dict order (MicroPython dicts are unordered).
#
# Run through the node runner: node tests/upy/run.mjs tests/upy/run_tests.py [SUBSTRING...]
# Only tests whose "module.function" name contains one of the substrings run. The last line is
# "N passed, M failed"; it exits 1 if anything failed or nothing ran.
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


def main(filters):
    passed = 0
    failed = 0
    for name in test_modules():
        try:
            mod = import_module(PACKAGE + "." + name)
        except Exception as e:
            if wanted(name, filters):
                print("FAIL {} (import)".format(name))
                print_exception(e)
                failed += 1
            continue
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
        gc.collect()
    print("{} passed, {} failed".format(passed, failed))
    if failed or not passed:
        raise SystemExit(1)


main(sys.argv[1:])
