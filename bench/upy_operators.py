# The heap of the operator modules: what firmware.events, firmware.operators, firmware.ui.password
# and firmware.ui.operators each hold once imported on a booted terminal, the peak of menu 7 using
# them (Manage operators: the supervisor's password, an operator added with its password typed
# twice, the list), and what the terminal holds back at idle after it, twice (the terminal drops
# them there: firmware.terminal.DROPPED_AT_IDLE). Prints; never asserts.
#
# MicroPython: node tests/upy/run.mjs bench/upy_operators.py   (gc.mem_alloc; one phase per call:
#   this port's collector frees nothing until control returns to JavaScript)
#   QIANPOS_UPY_MPY=build/mpy runs it from the .mpy build (bench/operators.py does both).
# CPython: bench/operators.py runs the same phases under tracemalloc.
#
# Nothing of firmware/ or hal/ is imported at this module's top: the baseline must not hold it.
import gc
import sys

MODULES = ("firmware.events", "firmware.operators", "firmware.ui.password", "firmware.ui.operators")
_SUPERVISOR = "202612"  # tests.portable.drive.SUPERVISOR_PASSWORD (set on the terminal at boot)
_IDLE_STEPS = 100  # loop passes on the idle screen after a flow, 20 ms apart


def flow(op):
    """Idle -> menu 7 -> 4 Manage (the supervisor's password) -> 1 Add `op` (4-digit password
    twice) -> its message -> 3 List -> back to idle."""
    keys = ["ENTER", "7", "4"] + list(_SUPERVISOR) + ["ENTER", "1"] + list(op) + ["ENTER"]
    keys += list("2580") + ["ENTER"] + list("2580") + ["ENTER", "ENTER", "3"]
    return keys + ["CANCEL"] * 4


def _key(module):
    """The figure of a module's heap: "mod_ui_operators" for firmware.ui.operators."""
    return "mod_" + module[len("firmware.") :].replace(".", "_")


def storage_bytes(storage):
    """The bytes the RamStorage double holds (files a board keeps in flash, not in its heap), each
    bytes object counted once: taken off every figure, as bench/upy_memory.py does."""
    seen = {}
    for files in (storage._durable, storage._current):
        for data in files.values():
            seen[id(data)] = len(data)
    return sum(seen.values())


class OperatorsBench:
    """The phases; each starts with gc.collect(), so what a phase finds is what the one before left
    reachable. `figures`: absolute bytes (idle_*, peak_*) or a module's share (mod_*)."""

    def __init__(self, mem_now):
        self.mem_now = mem_now
        self.figures = {}
        self.problems = []
        self.term = None
        self._last = 0
        plan = [self._boot, self._idle]
        for name in MODULES:
            plan.append(self._importer(name))
        plan += [self._module_done(MODULES[-1]), self._drop, self._idle_mark("idle_before")]
        for round_ in (1, 2):
            keys = flow("0" + str(5 + round_))
            plan += [self._key(key, "peak_{}".format(round_)) for key in keys]
            plan += [self._idle, self._idle_mark("idle_after_{}".format(round_))]
        self._plan = plan

    def now(self):
        """The heap without the storage double's files."""
        held = storage_bytes(self.board.storage) if self.term is not None else 0
        return self.mem_now() - held

    def phase(self, i):
        """Run phase i; False when there is none left."""
        gc.collect()
        now = self.now()
        if i == 0:
            self.figures["baseline"] = now
            return True
        self._plan[i - 1](now)
        return i < len(self._plan)

    def _boot(self, now):
        from firmware.params import Params
        from firmware.terminal import Terminal
        from hal.soft.keystore import StorageKeyStore
        from hal.soft.security import SoftSecurityModule
        from tests.portable.drive import random_bytes, set_passwords
        from tests.portable.fakes import make_board
        from virtual.storage import RamStorage

        storage = RamStorage()
        params = Params.load(storage)
        params.language = "en"
        params.save(storage)
        security = SoftSecurityModule(StorageKeyStore(RamStorage()), urandom=random_bytes)
        self.board = make_board(storage=storage, security=security)
        self.term = Terminal(self.board)
        set_passwords(self.term)  # loads firmware.operators: dropped back at idle
        self.term.go_idle()

    def _idle(self, now):
        term = self.term
        for _ in range(_IDLE_STEPS):
            self.board.clock.advance(0.02)
            term.step()
        if type(term.screen).__name__ != "IdleScreen":
            self.problems.append("not back at idle: {}".format(type(term.screen).__name__))
        kept = [name for name in MODULES if name in sys.modules]
        if kept:
            self.problems.append("back at idle, still loaded: {}".format(" ".join(kept)))

    def _importer(self, name):
        def run(now):
            if name != MODULES[0]:
                before = MODULES[MODULES.index(name) - 1]
                self.figures[_key(before)] = now - self._last
            else:
                self.figures["idle_boot"] = now
            self._last = now
            __import__(name)

        return run

    def _module_done(self, name):
        def run(now):
            self.figures[_key(name)] = now - self._last

        return run

    def _drop(self, now):
        self.term.go_idle()  # the next steps drop DROPPED_AT_IDLE
        self._idle(now)

    def _idle_mark(self, key):
        def run(now):
            self.figures[key] = now

        return run

    def _key(self, key, peak_key):
        def run(now):
            f = self.figures
            f[peak_key] = max(f.get(peak_key, now), now)
            self.board.keypad.press(key)
            steps = 0
            while self.term.step() and steps < 200:
                steps += 1
                f[peak_key] = max(f[peak_key], self.now())
            f[peak_key] = max(f[peak_key], self.now())

        return run


def report(title, figures, problems):
    print(title)
    base = figures.get("idle_boot")
    for name in MODULES:
        key = _key(name)
        print("  {:<34}{:>8}".format("import " + name, figures.get(key)))
    total = sum(figures.get(_key(n)) or 0 for n in MODULES)
    print("  {:<34}{:>8}".format("the four, imported", total))
    rows = (
        ("idle, after boot", "idle_boot"),
        ("idle, the four dropped", "idle_before"),
        ("peak, menu 7 (first time)", "peak_1"),
        ("idle after it", "idle_after_1"),
        ("peak, menu 7 (second time)", "peak_2"),
        ("idle after it", "idle_after_2"),
    )
    print("  heap over the idle terminal after boot (bytes):")
    for label, key in rows:
        v = figures.get(key)
        print("  {:<34}{:>8}".format(label, None if v is None or base is None else v - base))
    for p in problems:
        print("  PROBLEM " + p)


_bench = None


def upy_phase(i):
    """Called by tests/upy/run.mjs once per phase, each in a call of its own."""
    if _bench.phase(i):  # type: ignore[union-attr]
        return True
    version = ".".join(str(n) for n in sys.implementation.version[:3])
    report("MicroPython {} heap bytes (gc.mem_alloc):".format(version), _bench.figures, _bench.problems)  # type: ignore[union-attr]
    figures = _bench.figures  # type: ignore[union-attr]
    print("RESULT " + " ".join("{}={}".format(k, figures[k]) for k in sorted(figures)))
    if _bench.problems:  # type: ignore[union-attr]
        raise SystemExit(1)
    return False


def cpython_main():
    import os
    import tracemalloc

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if repo not in sys.path:
        sys.path.insert(0, repo)  # run as a script: python bench/upy_operators.py

    tracemalloc.start()
    bench = OperatorsBench(lambda: tracemalloc.get_traced_memory()[0])
    i = 0
    while bench.phase(i):
        i += 1
    tracemalloc.stop()
    report(
        "CPython {} heap bytes (tracemalloc):".format(sys.version.split()[0]), bench.figures, bench.problems
    )
    return bench


if __name__ == "__main__":
    if sys.implementation.name == "micropython":
        _bench = OperatorsBench(gc.mem_alloc)  # type: ignore[attr-defined]
    else:
        cpython_main()
