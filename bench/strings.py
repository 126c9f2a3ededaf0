# The string catalog's costs: runs bench/upy_strings.py on MicroPython from the .mpy build (compiled
# into a temporary folder, as bench/memory.py does) and from source, then times the same
# strings.text() calls on CPython. Prints; never asserts.
#
# python bench/strings.py   (make bench)
import os
import sys
import tempfile
import timeit

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)
from bench.upy_strings import CASES, LANGS, case_call  # noqa: E402
from tools import mpy_gate  # noqa: E402


def cpython_lines():
    from firmware.strings import text

    lines = ["CPython {}: µs per text() call (best of 5 rounds of 20000)".format(sys.version.split()[0])]
    for name, key, args in CASES:
        for lang in LANGS:
            call = case_call(text, key, lang, args)
            us = min(timeit.repeat(call, number=20000, repeat=5)) / 20000 * 1e6
            lines.append("{:<14}{:>6}{:>10.2f}".format(name, lang, us))
    return lines


def main():
    with tempfile.TemporaryDirectory() as build:
        _, errors = mpy_gate.compile_all(build)
        if errors:
            print("mpy-cross failed: {}".format(errors))
            return 1
        mpy_run = upy.run("upy_strings.py", mpy_dir=build)
    src_run = upy.run("upy_strings.py")
    print("== MicroPython, from the .mpy build (as a board loads make mpy's files)")
    print(mpy_run.output())
    print("== MicroPython, from source")
    print(src_run.output())
    print("== CPython")
    print("\n".join(cpython_lines()))
    complete = mpy_run.figures is not None and src_run.figures is not None
    return upy.verdict("strings", complete, [], mpy_run.output() + src_run.output())


if __name__ == "__main__":
    sys.exit(main())
