# make deploy: the mpremote command that puts a build on a board. Built here as a list (tested on
# CPython: tests/host/test_deploy.py), run by `python -m tests.host.deploy PORT` (the Makefile).
# No board is attached to the build machines: the command has never run against one.
#
# Order: first remove, on the board, every .py under firmware/ and hal/ (a .py beside a .mpy wins the
# import: a source copy left from an earlier deploy would shadow the new build) and every .mpy this
# build does not have (a module since deleted); then copy the .mpy trees and the boot.py/main.py
# sources (a port runs those two as .py only); then reset. Data and keys live elsewhere (data/, keys/,
# or the board's own partition) and are never touched.
import os
import shlex
import shutil
import subprocess
import sys

from tests.host.mpy_gate import DEVICE_DIRS, DEVICE_FILES, REPO

# Run on the board by `mpremote exec`, so MicroPython's os only (listdir, stat, remove). {trees} and
# {keep} are Python literals of tuples of board paths.
_CLEANUP = """import os
def _qp_clean(d, keep):
    try:
        names = os.listdir(d)
    except OSError:
        return
    for n in names:
        p = d + '/' + n
        if os.stat(p)[0] & 0x4000:
            _qp_clean(p, keep)
        elif n.endswith('.py') or (n.endswith('.mpy') and p not in keep):
            os.remove(p)
            print('removed :' + p)
    if not os.listdir(d):
        os.rmdir(d)
for _qp_d in {trees}:
    _qp_clean(_qp_d, {keep})
"""


def built_modules(mpy_dir):
    """Board paths ("firmware/terminal.mpy") of the .mpy files under mpy_dir's firmware/ and hal/."""
    found = []
    for top in DEVICE_DIRS:
        for dirpath, _, filenames in os.walk(os.path.join(mpy_dir, top)):
            for name in filenames:
                if name.endswith(".mpy"):
                    rel = os.path.relpath(os.path.join(dirpath, name), mpy_dir)
                    found.append(rel.replace(os.sep, "/"))
    return sorted(found)


def cleanup_script(keep):
    """The board-side Python that removes every .py under firmware/ and hal/ and every .mpy not in
    keep (a sequence of board paths; empty for a frozen image, whose modules must not be shadowed),
    then every folder left empty: an empty firmware/ would still import as a package and hide the
    frozen one."""
    return _CLEANUP.format(trees=repr(tuple(DEVICE_DIRS)), keep=repr(tuple(sorted(keep))))


def deploy_command(port, mpy_dir, mpremote="mpremote", frozen=False, repo=REPO):
    """The argv of one chained mpremote run: connect, clean up, copy, reset. mpy_dir holds the
    build (make mpy). frozen=True: the image already holds firmware/ and hal/ (make freeze), so
    they are removed from the file system (files there would shadow the frozen modules: '' comes
    before '.frozen' on sys.path) and only boot.py and main.py are copied."""
    keep = () if frozen else built_modules(mpy_dir)
    if not frozen and not keep:
        raise ValueError("no .mpy files under {}: run make mpy".format(mpy_dir))
    argv = [mpremote, "connect", port, "exec", cleanup_script(keep)]
    if not frozen:
        argv += ["+", "cp", "-r"] + [os.path.join(mpy_dir, top) for top in DEVICE_DIRS] + [":"]
    argv += ["+", "cp"] + [os.path.join(repo, name) for name in DEVICE_FILES] + [":"]
    argv += ["+", "reset"]
    return argv


def main(argv):
    args = argv[1:]
    frozen = "--frozen" in args
    dry_run = "--dry-run" in args
    rest = [a for a in args if a not in ("--frozen", "--dry-run")]
    if not rest:
        print("usage: python -m tests.host.deploy PORT [MPY_DIR] [--frozen] [--dry-run]")
        return 2
    port = rest[0]
    mpy_dir = rest[1] if len(rest) > 1 else os.path.join(REPO, "build", "mpy")
    mpremote = shutil.which("mpremote", path=os.path.dirname(sys.executable)) or "mpremote"
    command = deploy_command(port, mpy_dir, mpremote, frozen)
    if dry_run:
        print(shlex.join(command))
        return 0
    return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
