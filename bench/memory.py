# The memory bench on both runtimes: bench/upy_memory.py on MicroPython (through node) from the .mpy
# build and from source, the same scenario on CPython under tracemalloc, then one table, the budget,
# and what each module a terminal imports holds (from the .mpy build). Never asserts.
#
# python bench/memory.py   (make bench)
import ast
import os
import sys
import tempfile
import tracemalloc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)
from tests.host import mpy_gate  # noqa: E402

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
    ("the sale's modules", "sale_modules"),
    ("all of firmware/ + hal/", "rest"),
    ("test doubles (off)", "doubles"),
    ("alloc. / idle tick", "idle_tick"),
    ("alloc. / idle second", "idle_second"),
)
_ABSOLUTE = ("baseline", "sale_modules", "doubles", "idle_tick", "idle_second")


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


def main():
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
    src_run = upy.run("upy_memory.py", float)
    cpy, cpy_problems = cpython_figures()

    print("== MicroPython, from the .mpy build (as a board loads make mpy's files)")
    print(mpy_run.output())
    print("== MicroPython, from source")
    print("\n".join(line for line in src_run.output().split("\n") if not line.startswith("LOADED ")))
    for p in cpy_problems:
        print("CPython PROBLEM " + p)
    print()
    print("{:<26}{:>14}{:>14}{:>14}".format("bytes", "MicroPython", "MicroPython", "CPython"))
    print("{:<26}{:>14}{:>14}{:>14}".format("", ".mpy", "source", "tracemalloc"))
    for label, key in ROWS:
        print(
            "{:<26}{:>14}{:>14}{:>14}".format(
                label, cell(mpy_run.figures, key), cell(src_run.figures, key), cell(cpy, key)
            )
        )
    figures = mpy_run.figures or {}
    for label, key in (("peak keying a sale", "peak"), ("peak of a whole sale", "sale_peak")):
        if figures.get(key) is not None:
            peak = figures[key] - figures["baseline"]
            print(
                "\n{} (.mpy): {:.1f} KB against the budget {} KB (goal {} KB): {}".format(
                    label, peak / 1024, BUDGET // 1024, GOAL // 1024, "within" if peak <= BUDGET else "OVER"
                )
            )
    sizes = []
    for line in modules_run.lines:
        if line.startswith("MODULE "):
            _, name, size = line.split()
            sizes.append((int(size), name))
    if sizes:
        print("\nwhat a terminal's modules hold: heap after importing each from the .mpy build (one")
        print("import per collection; a module that needed a new qstr pool is charged the whole pool),")
        print("and its .mpy file (bytecode, names, constants: what freezing keeps in flash, roughly):")
        print("  {:>7}  {:>7}  module".format("heap", ".mpy"))
        for size, name in sorted(sizes, reverse=True):
            print("  {:>7,}  {:>7,}  {}".format(size, mpy_sizes.get(name, 0), name))
        total_mpy = sum(mpy_sizes.get(name, 0) for _, name in sizes)
        print("  {:>7,}  {:>7,}  total".format(sum(size for size, _ in sizes), total_mpy))
    runs = (mpy_run, modules_run, src_run)
    complete = all(run.figures is not None or run is modules_run for run in runs) and bool(sizes)
    if not complete or cpy_problems or any(run.problem or "PROBLEM" in run.output() for run in runs):
        print("\nmemory bench incomplete: see the problems above")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
