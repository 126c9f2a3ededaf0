# The board drivers' costs: runs bench/upy_drivers.py under MicroPython (through node) and prints
# what it prints. Prints; never asserts. CPython figures would say nothing about a board.
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from bench import upy  # noqa: E402 - after the repo is on the path (run as a script)


def main():
    run = upy.run("upy_drivers.py")
    print(run.output())
    return 1 if run.problem and "not run" not in run.problem else 0


if __name__ == "__main__":
    sys.exit(main())
