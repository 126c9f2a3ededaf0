# The memory baseline's measurement: heap after importing every firmware/ and hal/ module, after
# booting a Terminal, and while keying a sale (live and with garbage). Prints; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_memory.py   (gc.mem_alloc; one phase per call,
#   because this port's collector frees nothing until control returns to JavaScript)
# CPython: bench/memory.py runs the same phases under tracemalloc, then prints both.
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


class MemoryBench:
    """The scenario as phases. Each phase starts with gc.collect(), so the figure taken there is
    what the previous phase left reachable ("live"); within an event phase, samples after every
    step with no collection give the peak including garbage."""

    def __init__(self, mem_now, root="."):
        self.mem_now = mem_now
        self.root = root
        self.figures = {"baseline": None, "import": None, "boot": None, "live": None, "peak": None}
        self.problems = []
        self.board = None
        self.term = None

    def phase(self, i):
        """Run phase i; False when there is none left."""
        gc.collect()
        now = self.mem_now()
        f = self.figures
        if i == 0:
            f["baseline"] = now
            return True
        if i == 1:
            for name in device_modules(self.root):
                try:
                    __import__(name)
                except Exception as e:
                    self.problems.append("import {}: {}: {}".format(name, type(e).__name__, e))
            return True
        if i == 2:
            f["import"] = now
            return self._boot()
        if i == 3:
            f["boot"] = f["live"] = f["peak"] = now
        else:
            f["live"] = max(f["live"], now)
        if i - 3 < len(EVENTS):
            self._event(EVENTS[i - 3])
            return True
        return False

    def _boot(self):
        try:
            from firmware.terminal import Terminal
            from tests.portable.fakes import make_board
        except Exception as e:
            self.problems.append("scenario needs firmware.terminal and tests.portable.fakes: {}".format(e))
            return False
        self.board = make_board()
        self.term = Terminal(self.board)
        return True

    def _event(self, key):
        f = self.figures
        self.board.keypad.press(key)
        steps = 0
        while self.term.step():
            steps += 1
            f["peak"] = max(f["peak"], self.mem_now())
            if steps >= _MAX_STEPS:
                self.problems.append("terminal still busy after {} steps on key {}".format(steps, key))
                break
        f["peak"] = max(f["peak"], self.mem_now())


def measure(mem_now, root="."):
    """All phases in one go (CPython, where the collector works at any time): (figures, problems)."""
    bench = MemoryBench(mem_now, root)
    i = 0
    while bench.phase(i):
        i += 1
    return bench.figures, bench.problems


def report(title, figures, problems):
    print(title)
    base = figures["baseline"]
    print("  baseline: {}".format(base))
    for label, key in (
        ("after import", "import"),
        ("after boot", "boot"),
        ("live, keying a sale", "live"),
        ("peak, keying a sale", "peak"),
    ):
        value = figures[key]
        text = "-" if value is None else "{} (+{})".format(value, value - base)
        print("  {}: {}".format(label, text))
    for p in problems:
        print("  PROBLEM " + p)


_bench = None


def upy_phase(i):
    """Called by tests/upy/run.mjs once per phase, each in a call of its own."""
    if not _bench.phase(i):
        report(
            "MicroPython {} heap bytes (gc.mem_alloc):".format(
                ".".join(str(n) for n in sys.implementation.version[:3])
            ),
            _bench.figures,
            _bench.problems,
        )
        # One machine-readable line for bench/memory.py; keys sorted as dicts are unordered here.
        print("RESULT " + " ".join("{}={}".format(k, _bench.figures[k]) for k in sorted(_bench.figures)))
        if _bench.problems:
            raise SystemExit(1)
        return False
    return True


if __name__ == "__main__":
    _bench = MemoryBench(gc.mem_alloc)
