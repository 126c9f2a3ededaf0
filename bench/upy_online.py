# The online sale's costs: the heap while a whole online sale runs (menu, amount, card, PIN, the
# host session with codec and MAC, the records written ahead, the result) and the firmware's CPU
# per sale, the host's own time excluded. Prints; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_online.py   (one phase per call, see upy_memory.py)
# CPython: bench/online.py runs the same phases (tracemalloc), then prints both.
import gc
import sys

from bench.upy_timing import ticks_diff, ticks_us

_MAX_STEPS = 200
# One sale: menu, sale, amount 12.34, confirm, the chip card, PIN 1234, confirm, dismiss the result.
SALE = (
    "ENTER",
    "1",
    "1",
    "2",
    "3",
    "4",
    "ENTER",
    "CARD",
    "1",
    "2",
    "3",
    "4",
    "ENTER",
    "ENTER",
)
SALES = ("first", "second")  # the first signs in (0800) before its 0200; the second does not


class OnlineBench:
    """Phase 0: baseline; 1: import firmware/ and hal/; 2: "import" figure, import the test rig
    (virtual devices, the in-process host); 3: "rig" figure, boot it (terminal, soft security module
    with its TMK, PIN entry); 4: "boot" figure; then one phase per event of the first sale, then of
    the second. "peak" is sampled
    after every step without collecting (garbage included); `cpu_us` per sale is the time spent in
    Terminal.step() minus the host's handle()."""

    def __init__(self, mem_now, root="."):
        self.mem_now = mem_now
        self.root = root
        self.figures = {}
        for key in ("baseline", "import", "rig", "boot", "peak", "live"):
            self.figures[key] = None
        self.figures["first_us"] = 0
        self.figures["second_us"] = 0
        self.figures["first_peak"] = None
        self.figures["second_peak"] = None
        self.problems = []
        self.rig = None
        self.host_us = 0

    def phase(self, i):
        gc.collect()
        now = self.mem_now()
        f = self.figures
        if i == 0:
            f["baseline"] = now
            return True
        if i == 1:
            from bench.upy_memory import device_modules

            for name in device_modules(self.root):
                try:
                    __import__(name)
                except Exception as e:
                    self.problems.append("import {}: {}: {}".format(name, type(e).__name__, e))
            return True
        if i == 2:
            f["import"] = now
            try:
                __import__("tests.portable.online_kit")
            except Exception as e:
                self.problems.append("the rig: {}: {}".format(type(e).__name__, e))
                return False
            return True
        if i == 3:
            f["rig"] = now
            return self._boot()
        if i == 4:
            f["boot"] = f["peak"] = f["live"] = now
        f["live"] = max(f["live"], now)  # what stayed reachable after a collection between events
        n = i - 4
        if n >= len(SALE) * len(SALES):
            return False
        which = SALES[n // len(SALE)]
        self._event(which, SALE[n % len(SALE)])
        return True

    def _boot(self):
        try:
            from tests.portable.online_kit import FakeHost, Rig
        except Exception as e:
            self.problems.append("the rig: {}: {}".format(type(e).__name__, e))
            return False
        bench = self

        class TimedHost(FakeHost):
            def handle(self, data):
                t0 = ticks_us()
                try:
                    return FakeHost.handle(self, data)
                finally:
                    bench.host_us += ticks_diff(ticks_us(), t0)

        self.rig = Rig(host=TimedHost())
        return True

    def _event(self, which, key):
        from tests.portable.online_kit import chip

        f = self.figures
        rig = self.rig
        if key == "CARD":
            if not rig.board.card_reader.present(chip()):
                self.problems.append("the card reader was not armed ({} sale)".format(which))
        else:
            rig.raw.press(key)
        steps = 0
        spent = 0
        host_before = self.host_us
        while True:
            t0 = ticks_us()
            busy = rig.term.step()
            spent += ticks_diff(ticks_us(), t0)
            mem = self.mem_now()
            f["peak"] = max(f["peak"], mem)
            peak_key = which + "_peak"
            f[peak_key] = mem if f[peak_key] is None else max(f[peak_key], mem)
            if not busy:
                break
            steps += 1
            if steps >= _MAX_STEPS:
                self.problems.append("terminal still busy after {} steps on {}".format(steps, key))
                break
        f[which + "_us"] += spent - (self.host_us - host_before)
        return True

    def check(self):
        """The sales must both have been approved by the in-process host."""
        approved = len(self.rig.host.ledger) if self.rig is not None else 0
        if approved != 2:
            self.problems.append("expected 2 approved sales, the host has {}".format(approved))


def measure(mem_now, root="."):
    """All phases in one go (CPython): (figures, problems)."""
    bench = OnlineBench(mem_now, root)
    i = 0
    while bench.phase(i):
        i += 1
    bench.check()
    return bench.figures, bench.problems


_bench = None


def upy_phase(i):
    """Called by tests/upy/run.mjs once per phase, each in a call of its own."""
    if not _bench.phase(i):
        _bench.check()
        f = _bench.figures
        base = f["baseline"]
        version = ".".join(str(n) for n in sys.implementation.version[:3])
        print("MicroPython {} (gc.mem_alloc, ticks_us):".format(version))
        print("  import +{}, rig +{}, boot +{}".format(f["import"] - base, f["rig"] - base, f["boot"] - base))
        print("  peak during the sales +{} (over boot +{})".format(f["peak"] - base, f["peak"] - f["boot"]))
        print("  live between events +{} (over boot +{})".format(f["live"] - base, f["live"] - f["boot"]))
        for p in _bench.problems:
            print("  PROBLEM " + p)
        print("RESULT " + " ".join("{}={}".format(k, f[k]) for k in sorted(f)))
        if _bench.problems:
            raise SystemExit(1)
        return False
    return True


if __name__ == "__main__":
    _bench = OnlineBench(gc.mem_alloc)
