# The QR encoder (bench/upy_qr.py): each case's encode time on CPython, with tracemalloc's peak of one
# encode, then on MicroPython 1.27 (the WebAssembly runtime under node) from the .mpy build (compiled
# into a temporary folder, as bench/memory.py does: the modules' heap as a board loads them), where it
# also counts the bytes an encode allocates; the same versions and masks on both runtimes. Prints;
# never asserts.
#
# python bench/qr.py   (make bench)
import os
import sys
import tempfile
import tracemalloc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)
from bench.upy_qr import CASES, run  # noqa: E402
from firmware import qr  # noqa: E402
from tools import mpy_gate  # noqa: E402


def main():
    print("== CPython {}".format(sys.version.split()[0]))
    figures = run(result=False)
    for name, data, level in CASES:
        tracemalloc.start()
        qr.encode(data, level)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print("{:<32} tracemalloc peak of one encode: {} bytes".format(name, peak))
    with tempfile.TemporaryDirectory() as build:
        _, errors = mpy_gate.compile_all(build)
        if errors:
            print("mpy-cross failed: {}".format(errors))
            return 1
        result = upy.run("upy_qr.py", number=str, mpy_dir=build)
    print("== MicroPython, from the .mpy build (as a board loads make mpy's files)")
    print(result.output())
    problems = []
    if result.figures is not None:
        for i in range(len(CASES)):
            for what in ("version", "mask"):
                key = "c{}_{}".format(i, what)
                if int(result.figures[key]) != figures[key]:
                    problems.append(key)
                    print(
                        "PROBLEM: {} differs: MicroPython {} CPython {}".format(
                            key, result.figures[key], figures[key]
                        )
                    )
    return upy.verdict("qr", result.figures is not None, problems, result.output())


if __name__ == "__main__":
    sys.exit(main())
