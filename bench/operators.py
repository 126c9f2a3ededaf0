# The heap of the operator modules (bench/upy_operators.py) on CPython (tracemalloc), then on
# MicroPython 1.27 (the WebAssembly runtime under node) from the .mpy build and from source.
# Prints; never asserts.
#
# python bench/operators.py   (make bench)
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)
from bench.upy_operators import cpython_main  # noqa: E402
from tools import mpy_gate  # noqa: E402


def main():
    bench = cpython_main()
    outputs = []
    complete = True
    with tempfile.TemporaryDirectory() as build:
        _, errors = mpy_gate.compile_all(build)
        runs = [("MicroPython, from source", None)]
        if not errors:
            runs.insert(0, ("MicroPython, from the .mpy build", build))
        else:
            print("mpy-cross failed: {}".format(errors))
            complete = False
        for title, mpy_dir in runs:
            run = upy.run("upy_operators.py", int, mpy_dir=mpy_dir)
            print("== " + title)
            print(run.output())
            outputs.append(run.output())
            complete = complete and run.figures is not None
    return upy.verdict("operators", complete, bench.problems, "\n".join(outputs))


if __name__ == "__main__":
    sys.exit(main())
