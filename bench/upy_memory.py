# The memory baseline's measurement: heap after importing every firmware/ and hal/ module, after
# booting a Terminal, and its peak while keying a sale. Prints figures; never asserts on them.
#
# MicroPython: node tests/upy/run.mjs bench/upy_memory.py   (gc.mem_alloc)
# CPython: bench/memory.py imports measure() and runs it under tracemalloc, then prints both.
import gc
import os
import sys

# One key per event: open the menu, choose sale, key 123.45, backspace, confirm, cancel.
EVENTS = ("ENTER", "1", "1", "2", "3", "4", "5", "CLEAR", "ENTER", "CANCEL")
_MAX_STEPS = 200  # per event: a terminal that never settles is reported, not waited for
_S_IFDIR = 0x4000


def device_modules(root="."):
    """Dotted names of every module in firmware/ and hal/, sorted."""
    names = []
    _walk(root, "firmware", names)
    _walk(root, "hal", names)
    names.sort()
    return names


def _walk(root, package, names):
    folder = root + "/" + package.replace(".", "/")
    for fname in os.listdir(folder):
        if os.stat(folder + "/" + fname)[0] & _S_IFDIR:
            if fname != "__pycache__":
                _walk(root, package + "." + fname, names)
        elif fname == "__init__.py":
            names.append(package)
        elif fname.endswith(".py"):
            names.append(package + "." + fname[:-3])


def measure(mem_now, root="."):
    """Run the scenario; mem_now() returns bytes in use. Returns (figures, problems): figures maps
    "baseline", "import", "boot", "peak" to bytes (None where the run stopped); problems is a
    list of strings saying what could not be done."""
    figures = {"baseline": None, "import": None, "boot": None, "peak": None}
    problems = []
    gc.collect()
    figures["baseline"] = mem_now()
    for name in device_modules(root):
        try:
            __import__(name)
        except Exception as e:
            problems.append("import {}: {}: {}".format(name, type(e).__name__, e))
    gc.collect()
    figures["import"] = mem_now()
    try:
        from firmware.terminal import Terminal
        from tests.portable.fakes import make_board
    except Exception as e:
        problems.append(
            "scenario needs firmware.terminal and tests.portable.fakes: {}: {}".format(type(e).__name__, e)
        )
        return figures, problems
    board = make_board()
    term = Terminal(board)
    gc.collect()
    figures["boot"] = peak = mem_now()
    for key in EVENTS:
        board.keypad.press(key)
        steps = 0
        # No gc between samples: the peak includes the garbage an event leaves, as on the device.
        while term.step():
            steps += 1
            peak = max(peak, mem_now())
            if steps >= _MAX_STEPS:
                problems.append("terminal still busy after {} steps on key {}".format(steps, key))
                break
        peak = max(peak, mem_now())
    figures["peak"] = peak
    return figures, problems


def report(title, figures, problems):
    print(title)
    base = figures["baseline"]
    print("  baseline: {}".format(base))
    for label, key in (("after import", "import"), ("after boot", "boot"), ("peak, keying a sale", "peak")):
        value = figures[key]
        text = "-" if value is None else "{} (+{})".format(value, value - base)
        print("  {}: {}".format(label, text))
    for p in problems:
        print("  PROBLEM " + p)


def main():
    figures, problems = measure(gc.mem_alloc)
    report(
        "MicroPython {} heap bytes (gc.mem_alloc):".format(
            ".".join(str(n) for n in sys.implementation.version[:3])
        ),
        figures,
        problems,
    )
    # One machine-readable line for bench/memory.py; keys sorted as dicts are unordered here.
    print("RESULT " + " ".join("{}={}".format(k, figures[k]) for k in sorted(figures)))
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
