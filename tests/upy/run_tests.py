# The portable tier's runner on MicroPython: imports tests/portable/test_*.py and calls every
# test_* function. Must never depend on pytest or on dict order (MicroPython dicts are unordered).
#
# Run through the node runner: node tests/upy/run.mjs tests/upy/run_tests.py [--shard K/N] [SUBSTRING...]
# Only tests whose "module.function" name contains one of the substrings run; --shard K/N runs the
# K-th (0-based) of N shares of the modules (shard_modules: the long ones spread first), so that
# pytest runs the tier as N tests side by side. Each module prints "name: P passed, F failed, T ms"
# and each test over SLOW_MS its time. The last line is "N passed, M failed"; it exits 1 if anything
# failed or nothing ran. On MicroPython each module runs in a call of its own (upy_phase), so that
# the collector frees what the ones before left.
import gc
import os
import sys
import time

TEST_DIR = "tests/portable"
SLOW_MS = 5000  # a test that takes longer is named with its time (the tier's time budget)
PACKAGE = "tests.portable"
# The modules that take most of the tier's time on MicroPython, longest first (the figures printed
# per module): shard_modules deals these out first so that the shards take about as long.
LONG = (
    "test_online",
    "test_esign",
    "test_campaign",
    "test_refund",
    "test_settle",
    "test_void",
    "test_receipt",
    "test_password_cuts",
    "test_esp32_devices",
    "test_jbig",
    "test_sale_batch",
)


def ticks_ms():
    if hasattr(time, "ticks_ms"):
        return time.ticks_ms()  # type: ignore[attr-defined]
    return int(time.time() * 1000)


def since_ms(start):
    if hasattr(time, "ticks_diff"):
        return time.ticks_diff(ticks_ms(), start)  # type: ignore[attr-defined]
    return ticks_ms() - start


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


def shard_modules(names, shard, shards):
    """The modules of names (sorted) in shard (0..shards-1): the LONG ones dealt out first, then the
    rest, round robin, so that every module is in exactly one shard."""
    order = [n for n in LONG if n in names] + [n for n in names if n not in LONG]
    return sorted(order[i] for i in range(shard, len(order), shards))


def parse_args(argv):
    """(modules, filters) from the command line: --shard K/N first if given, then substrings."""
    names = test_modules()
    if argv and argv[0] == "--shard":
        shard, shards = (int(n) for n in argv[1].split("/"))
        if not 0 <= shard < shards:
            raise SystemExit("--shard K/N needs 0 <= K < N")
        return shard_modules(names, shard, shards), argv[2:]
    return names, argv


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
        start = ticks_ms()
        try:
            func()
            passed += 1
        except Exception as e:
            print("FAIL " + label)
            print_exception(e)
            failed += 1
        took = since_ms(start)
        if took >= SLOW_MS:
            print("  slow: {} {} ms".format(label, took))
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
    names, filters = parse_args(sys.argv[1:])
    if i < len(names):
        start = ticks_ms()
        passed, failed = run_module(names[i], filters)
        if passed or failed:
            took = since_ms(start)
            print("{}: {} passed, {} failed, {} ms".format(names[i], passed, failed, took))
        _totals[0] += passed
        _totals[1] += failed
        return True
    finish(_totals[0], _totals[1])
    return False


def main(argv):
    """Every module in one call (CPython, when debugging the runner itself)."""
    names, filters = parse_args(argv)
    passed = 0
    failed = 0
    for name in names:
        p, f = run_module(name, filters)
        passed += p
        failed += f
        gc.collect()
    finish(passed, failed)


if sys.implementation.name != "micropython" and __name__ == "__main__":
    main(sys.argv[1:])
