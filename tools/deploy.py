# make deploy: the mpremote command that puts a build on a board. Built here as a list (tested on
# CPython: tests/host/test_deploy.py), run by `python -m tools.deploy PORT` (the Makefile).
# No board is attached to the build machines: the command has never run against one.
#
# Order: first remove, on the board, every .py under firmware/ and hal/ (a .py beside a .mpy wins the
# import: a source copy left from an earlier deploy would shadow the new build) and every .mpy this
# build does not have (a module since deleted); then copy the .mpy trees and the boot.py/main.py
# sources (a port runs those two as .py only) and the font file to the path the board module reads
# it from (hal.esp32.board.FONT_FILE; a frozen image gets it the same way: it is data, not a module);
# then reset. Data and keys live elsewhere (data/, keys/, or the board's own partition) and are
# never touched.
import os
import shlex
import shutil
import subprocess
import sys

from hal.esp32.board import FONT_FILE
from tools.mpy_gate import DEVICE_DIRS, DEVICE_FILES, REPO

# The display's glyph file (make font): copied to hal.esp32.board.FONT_FILE on the board (mpremote's cp
# skips it when the board's copy has the same SHA-256, so an unchanged font costs one hash).
FONT_SOURCE = os.path.join("fonts", "qianpos16.qpf")

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
try:
    os.mkdir({font_dir})
except OSError:
    pass
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
    frozen one. It also makes the font file's folder (mpremote's cp does not make it)."""
    return _CLEANUP.format(
        trees=repr(tuple(DEVICE_DIRS)), keep=repr(tuple(sorted(keep))), font_dir=repr(font_dir())
    )


def font_target():
    """The board path the font file is copied to: where hal/esp32/board.py's make_board() reads it."""
    return FONT_FILE.lstrip("/")


def font_dir():
    """The folder of font_target() on the board."""
    return font_target().rsplit("/", 1)[0]


def deploy_command(port, mpy_dir, mpremote="mpremote", frozen=False, repo=REPO):
    """The argv of one chained mpremote run: connect, clean up, copy, reset. mpy_dir holds the
    build (make mpy). frozen=True: the image already holds firmware/ and hal/ (make freeze), so
    they are removed from the file system (files there would shadow the frozen modules: '' comes
    before '.frozen' on sys.path) and only boot.py, main.py and the font file are copied."""
    keep = () if frozen else built_modules(mpy_dir)
    if not frozen and not keep:
        raise ValueError("no .mpy files under {}: run make mpy".format(mpy_dir))
    argv = [mpremote, "connect", port, "exec", cleanup_script(keep)]
    if not frozen:
        argv += ["+", "cp", "-r"] + [os.path.join(mpy_dir, top) for top in DEVICE_DIRS] + [":"]
    argv += ["+", "cp"] + [os.path.join(repo, name) for name in DEVICE_FILES] + [":"]
    argv += ["+", "cp", os.path.join(repo, FONT_SOURCE), ":" + font_target()]
    argv += ["+", "reset"]
    return argv


def main(argv):
    args = argv[1:]
    frozen = "--frozen" in args
    dry_run = "--dry-run" in args
    rest = [a for a in args if a not in ("--frozen", "--dry-run")]
    if not rest:
        print("usage: python -m tools.deploy PORT [MPY_DIR] [--frozen] [--dry-run]")
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
