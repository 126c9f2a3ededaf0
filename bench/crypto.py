# The security primitives' bench on both runtimes: runs bench/upy_crypto.py on MicroPython (through
# node) and the same phases on CPython, then prints one table. Never asserts.
#
# python bench/crypto.py   (make bench)
import os
import sys
import tracemalloc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)


def cpython_figures():
    """The same phases on CPython: heap figures under tracemalloc, timings without it."""
    from bench import upy_crypto

    tracemalloc.start()
    bench = upy_crypto.CryptoBench(lambda: tracemalloc.get_traced_memory()[0])
    i = 0
    while True:
        if i == 6:  # the heap figures are taken (phases 0-5): time without tracing
            tracemalloc.stop()
        if not bench.phase(i):
            break
        i += 1
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    figures = dict(bench.figures)
    for key, (us, allocated) in bench.ops.items():
        figures[key + "_us"] = us
        figures[key + "_alloc"] = allocated
    return figures, bench.problems


def _cell(figures, key, fmt="{:.1f}"):
    if figures is None or figures.get(key) is None:
        return "-"
    return fmt.format(figures[key])


def _heap(figures, key, base):
    if figures is None or figures.get(key) is None or figures.get(base) is None:
        return "-"
    return "+{:,}".format(int(figures[key] - figures[base]))


# (label, figure, the figure it is counted from): the heap each step adds.
HEAP_ROWS = (
    ("import hal.soft.des + hal.soft.mac", "import", "baseline"),
    ("a DES and two 3DES key objects", "keys", "import"),
    ("import softsec, keystore, RAM", "softsec", "keys"),
    ("a soft module, keys loaded", "module", "softsec"),
)


def main():
    sys.path.insert(0, REPO)
    os.chdir(REPO)
    from bench.upy_crypto import OPERATIONS

    run = upy.run("upy_crypto.py")
    upy_figures, upy_output = run.figures, run.output()
    cpy, cpy_problems = cpython_figures()
    print(upy_output)
    for p in cpy_problems:
        print("CPython PROBLEM " + p)
    print()
    row = "{:<34}{:>14}{:>14}{:>18}"
    print(row.format("microseconds per call", "MicroPython", "CPython", "MicroPython alloc"))
    for key, label in OPERATIONS:
        print(
            row.format(
                label,
                _cell(upy_figures, key + "_us"),
                _cell(cpy, key + "_us"),
                _cell(upy_figures, key + "_alloc", "{:.0f} B"),
            )
        )
    print()
    print(row.format("heap bytes", "gc.mem_alloc", "tracemalloc", ""))
    for label, key, base in HEAP_ROWS:
        print(row.format(label, _heap(upy_figures, key, base), _heap(cpy, key, base), ""))
    wanted = ["baseline", "import", "keys", "softsec", "module"] + [k + "_us" for k, _l in OPERATIONS]
    complete = upy_figures is not None and all(upy_figures.get(k) is not None for k in wanted)
    complete = complete and all(cpy.get(k) is not None for k in wanted)
    return upy.verdict("crypto", complete, cpy_problems, upy_output)


if __name__ == "__main__":
    sys.exit(main())
