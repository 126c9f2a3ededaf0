# The online sale's bench on both runtimes: runs bench/upy_online.py on MicroPython (through node)
# and the same phases on CPython, then prints one table. Never asserts.
#
# python bench/online.py   (make bench)
import os
import sys
import tracemalloc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)

ROWS = (
    ("import firmware/ + hal/", "import", "baseline"),
    ("the test rig's modules", "rig", "import"),
    ("boot (terminal, devices)", "boot", "rig"),
    ("live during the sales", "live", "boot"),
    ("peak during the sales", "peak", "boot"),
    ("peak, first sale (sign-in)", "first_peak", "boot"),
    ("peak, second sale", "second_peak", "boot"),
)


def cpython_figures():
    os.chdir(REPO)
    from bench import upy_online

    tracemalloc.start()
    heap, problems = upy_online.measure(lambda: tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    timed, more = upy_online.measure(lambda: 0)  # the CPU figures without tracemalloc's cost
    heap["first_us"] = timed["first_us"]
    heap["second_us"] = timed["second_us"]
    return heap, problems + more


def _delta(figures, key, base):
    if figures is None or figures.get(key) is None or figures.get(base) is None:
        return "-"
    return "+{:,}".format(int(figures[key] - figures[base]))


def _ms(figures, key):
    if figures is None or figures.get(key) is None:
        return "-"
    return "{:.1f}".format(figures[key] / 1000)


def main():
    run = upy.run("upy_online.py", int)
    upy_figures, upy_output = run.figures, run.output()
    cpy, cpy_problems = cpython_figures()
    print(upy_output)
    for p in cpy_problems:
        print("CPython PROBLEM " + p)
    print()
    row = "{:<30}{:>14}{:>14}"
    print(row.format("heap bytes (over the row before)", "MicroPython", "CPython"))
    for label, key, base in ROWS:
        print(row.format(label, _delta(upy_figures, key, base), _delta(cpy, key, base)))
    print()
    print(row.format("firmware CPU per sale, ms", "MicroPython", "CPython"))
    print(row.format("first sale (sign-in + sale)", _ms(upy_figures, "first_us"), _ms(cpy, "first_us")))
    print(row.format("second sale", _ms(upy_figures, "second_us"), _ms(cpy, "second_us")))
    complete = upy_figures is not None and all(v is not None for v in upy_figures.values())
    return upy.verdict("online", complete, cpy_problems, upy_output)


if __name__ == "__main__":
    sys.exit(main())
