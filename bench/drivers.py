# The board drivers' costs: runs bench/upy_drivers.py under MicroPython (through node) and prints
# what it prints. Prints; never asserts. CPython figures would say nothing about a board.
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    node = shutil.which("node")
    if node is None:
        print("MicroPython: not run (node is not on PATH)")
        return 0
    proc = subprocess.run(
        [node, "tests/upy/run.mjs", "bench/upy_drivers.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    print(proc.stdout.rstrip())
    if proc.returncode != 0:
        print("MicroPython run failed ({}): {}".format(proc.returncode, proc.stderr.strip()))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
