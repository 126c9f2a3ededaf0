# The memory baseline on both runtimes: runs bench/upy_memory.py on MicroPython (through node)
# and the same scenario on CPython under tracemalloc, then prints one table. Never asserts.
#
# python bench/memory.py   (make bench)
import os
import sys
import tracemalloc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)

ROWS = (
    ("baseline", "baseline"),
    ("after import", "import"),
    ("after boot", "boot"),
    ("live, keying a sale", "live"),
    ("peak, keying a sale", "peak"),
)


def cpython_figures():
    sys.path.insert(0, REPO)
    os.chdir(REPO)
    tracemalloc.start()
    from bench import upy_memory

    figures, problems = upy_memory.measure(lambda: tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    return figures, problems


def cell(figures, key):
    if figures is None or figures.get(key) is None:
        return "-"
    if key == "baseline":
        return str(figures[key])
    return "+{}".format(figures[key] - figures["baseline"])


def main():
    run = upy.run("upy_memory.py", int)
    upy_figures, upy_output = run.figures, run.output()
    cpy, cpy_problems = cpython_figures()
    print(upy_output)
    for p in cpy_problems:
        print("CPython PROBLEM " + p)
    print()
    print("{:<22}{:>14}{:>14}".format("bytes in use", "MicroPython", "CPython"))
    print("{:<22}{:>14}{:>14}".format("", "gc.mem_alloc", "tracemalloc"))
    for label, key in ROWS:
        print("{:<22}{:>14}{:>14}".format(label, cell(upy_figures, key), cell(cpy, key)))
    complete = upy_figures is not None and all(v is not None for v in upy_figures.values())
    complete = complete and all(v is not None for v in cpy.values())
    if not complete or cpy_problems or "PROBLEM" in upy_output:
        print("\nmemory bench incomplete: see the problems above")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
