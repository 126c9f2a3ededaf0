# make freeze: writes the manifest.py of a frozen MicroPython image holding firmware/ and hal/
# (bytecode in flash, not in the heap). The file list is mpy_gate's, so it is the device code
# exactly: never virtual/, sim/ or tests/. Tested by tests/host/test_freeze.py.
#
# Build an image with it from a MicroPython 1.27 checkout (not done here: no ESP-IDF, no board):
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/abs/path/to/build/freeze/manifest.py
# then flash it and run `make deploy PORT=... FROZEN=1` (boot.py, main.py and the font file
# fonts/qianpos16.qpf stay files: the deploy copies them).
import os
import sys

from tests.host.mpy_gate import DEVICE_DIRS, MPY_OPT_LEVEL, REPO, device_sources

HEADER = """# QianPOS frozen image, written by `make freeze` (tests/host/freeze.py): do not edit.
# The port's own manifest first: it freezes _boot.py (mounts the root filesystem) and the port's
# modules. Then every module of firmware/ and hal/, at the -O level of make mpy (line numbers kept
# for the crash record). boot.py, main.py and the font file (fonts/qianpos16.qpf, data read from
# /fonts on the root filesystem) are not frozen: make deploy FROZEN=1 copies them as files.
include("$(PORT_DIR)/boards/manifest.py")
"""


def frozen_sources(repo=REPO):
    """Repo-relative paths of the modules the image freezes: the device files under firmware/, hal/."""
    return [rel for rel in device_sources(repo) if rel.split("/")[0] in DEVICE_DIRS]


def manifest_text(out_dir, repo=REPO):
    """The manifest for a file written in out_dir; paths relative to it (the manifest tool resolves
    base_path against the manifest's own folder), so the checkout may move."""
    base = os.path.relpath(repo, out_dir).replace(os.sep, "/")
    lines = [HEADER]
    for rel in frozen_sources(repo):
        lines.append("module({!r}, base_path={!r}, opt={})\n".format(rel, base, MPY_OPT_LEVEL))
    return "".join(lines)


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(REPO, "build", "freeze", "manifest.py")
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(manifest_text(out_dir))
    print("manifest: {} modules -> {}".format(len(frozen_sources()), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
