# make unix-port MPY_SRC=/path/to/micropython: builds the MicroPython 1.27 unix port the frozen-image
# memory bench runs on (bench/memory.py with QIANPOS_UPY_UNIX; bench/README.md). Never needed by make test.
#
# The binary is 32-bit (MICROPY_FORCE_32BIT=1: an ESP32's word size), with single-precision floats
# (an ESP32's), and freezes at -O0 what the committed manifest.py freezes (firmware/, hal/) plus the
# bench's test doubles (DOUBLE_SOURCES). The committed manifest's include of the port's own board
# manifest is the ESP32's (its _boot.py); the unix port has none, so this tool re-emits only the
# manifest's package()/module() lines. FFI, btree and SSL are off: they need libffi for 32-bit or
# MicroPython's submodules, and the bench uses none of them. Nothing of MicroPython goes into this
# repository: the manifest and the build output go to build/unix-port/.
import os
import re
import subprocess
import sys

from tools.freeze import MANIFEST, read_manifest
from tools.mpy_gate import REPO

# The bench's test doubles, frozen beside firmware/ and hal/ (bench/memory.py loads them as .mpy
# files ahead of the image for its "doubles as .mpy" runs).
DOUBLE_SOURCES = (
    "virtual/__init__.py",
    "virtual/devices.py",
    "virtual/storage.py",
    "tests/__init__.py",
    "tests/portable/__init__.py",
    "tests/portable/fakes.py",
    "tests/portable/drive.py",
    "tests/portable/online_kit.py",
)
MICROPYTHON = (1, 27)
OUT = os.path.join(REPO, "build", "unix-port")
BUILD_FLAGS = (
    "VARIANT=standard",
    "MICROPY_FORCE_32BIT=1",
    "MICROPY_PY_FFI=0",
    "MICROPY_PY_BTREE=0",
    "MICROPY_PY_SSL=0",
    "CFLAGS_EXTRA=-DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT",
)


def micropython_version(src):
    """(major, minor) of the MicroPython source tree at src, from py/mpconfig.h; ValueError if src is
    not one."""
    try:
        with open(os.path.join(src, "py", "mpconfig.h"), encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ValueError("{} is not a MicroPython source tree ({})".format(src, e.strerror)) from e
    found = [
        re.search(r"#define MICROPY_VERSION_{} \(?(\d+)".format(part), text) for part in ("MAJOR", "MINOR")
    ]
    if None in found or not os.path.isdir(os.path.join(src, "ports", "unix")):
        raise ValueError("{} is not a MicroPython source tree (no version or no ports/unix)".format(src))
    return tuple(int(m.group(1)) for m in found if m is not None)


def manifest_text(manifest=MANIFEST):
    """The unix port's manifest: the committed manifest's packages and modules (absolute base paths),
    then the test doubles, all at the committed manifest's optimisation level."""
    includes, packages, modules = read_manifest(manifest)
    others = [path for path in includes if not path.startswith("$(PORT_DIR)/")]
    if others:
        raise ValueError("manifest.py includes {}: teach tools/build_unix_port.py about it".format(others))
    here = os.path.dirname(os.path.abspath(manifest))
    lines = ["# Written by tools/build_unix_port.py from {}; do not edit.".format(manifest)]
    levels = set()
    for path, base, opt in packages:
        lines.append("package({!r}, base_path={!r}, opt={!r})".format(path, os.path.join(here, base), opt))
        levels.add(opt)
    for path, base, opt in modules:
        lines.append("module({!r}, base_path={!r}, opt={!r})".format(path, os.path.join(here, base), opt))
        levels.add(opt)
    if len(levels) != 1:
        raise ValueError("manifest.py freezes at several optimisation levels: {}".format(sorted(levels)))
    (opt,) = levels
    for rel in DOUBLE_SOURCES:
        lines.append("module({!r}, base_path={!r}, opt={!r})".format(rel, REPO, opt))
    return "\n".join(lines) + "\n"


def make_commands(src, manifest, build, jobs):
    """The two make runs: mpy-cross (the manifest tool freezes with it), then the unix port."""
    return [
        ["make", "-C", os.path.join(src, "mpy-cross"), "-j{}".format(jobs)],
        ["make", "-C", os.path.join(src, "ports", "unix"), "-j{}".format(jobs)]
        + list(BUILD_FLAGS)
        + ["FROZEN_MANIFEST=" + manifest, "BUILD=" + build],
    ]


def main(argv):
    if len(argv) != 2:
        print("usage: python -m tools.build_unix_port /path/to/micropython  (a MicroPython 1.27 source tree)")
        return 2
    src = os.path.abspath(argv[1])
    try:
        version = micropython_version(src)
        text = manifest_text()
    except ValueError as e:
        print("build_unix_port: {}".format(e))
        return 1
    if version != MICROPYTHON:
        print("build_unix_port: {} is MicroPython {}.{}, not {}.{}".format(src, *(version + MICROPYTHON)))
        return 1
    if not os.path.isfile(os.path.join(src, "lib", "micropython-lib", "README.md")):
        # MicroPython's manifest tool refuses to run without it, though this manifest uses none of it.
        print("build_unix_port: {}/lib/micropython-lib is empty: `make -C ports/unix submodules`".format(src))
        return 1
    os.makedirs(OUT, exist_ok=True)
    manifest = os.path.join(OUT, "manifest.py")
    with open(manifest, "w", encoding="utf-8") as f:
        f.write(text)
    build = os.path.join(OUT, "build-32bit")
    for command in make_commands(src, manifest, build, os.cpu_count() or 1):
        print(" ".join(command), flush=True)
        if subprocess.run(command).returncode != 0:
            print("build_unix_port: failed (32-bit needs gcc-multilib: apt-get install gcc-multilib)")
            return 1
    print("QIANPOS_UPY_UNIX={}".format(os.path.join(build, "micropython")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
