# The batch journal's costs (bench/upy_journal.py) on CPython, then on MicroPython from source
# (the WebAssembly runtime under node). Prints; never asserts.
#
# python bench/journal.py   (make bench)
import os
import runpy
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)


def main():
    print("== CPython {}".format(sys.version.split()[0]))
    runpy.run_path(os.path.join(REPO, "bench", "upy_journal.py"), run_name="__main__")
    run = upy.run("upy_journal.py")
    print("== MicroPython, from source")
    print(run.output())
    return upy.verdict("journal", run.figures is not None, [], run.output())


if __name__ == "__main__":
    sys.exit(main())
