# make freeze: checks that the committed manifest.py (the frozen image's) covers exactly the device
# modules make mpy builds, then prints how to build an image with it. Tested by tests/host/test_freeze.py.
#
# Not run here (no ESP-IDF, no board): from a MicroPython 1.27 checkout,
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/abs/path/to/manifest.py
# then flash it and run `make deploy PORT=... FROZEN=1` (boot.py, main.py and the font file
# fonts/qianpos16.qpf stay files: the deploy copies them).
import os
import sys

from tools.mpy_gate import DEVICE_DIRS, REPO, device_sources

MANIFEST = os.path.join(REPO, "manifest.py")


def read_manifest(path=MANIFEST):
    """Runs the manifest with recording include/package/module, as MicroPython's manifest tool would.
    Returns (includes, packages, modules): packages as (path, base_path, opt)."""
    includes, packages, modules = [], [], []

    def include(manifest, **kwargs):
        includes.append(manifest)

    def package(package_path, files=None, base_path=".", opt=None):
        if files is not None:
            raise ValueError("package {} names files: freeze the whole package".format(package_path))
        packages.append((package_path, base_path, opt))

    def module(module_path, base_path=".", opt=None):
        modules.append((module_path, base_path, opt))

    with open(path, encoding="utf-8") as f:
        code = compile(f.read(), path, "exec")
    exec(code, {"include": include, "package": package, "module": module})
    return includes, packages, modules


def frozen_sources(path=MANIFEST):
    """Repo-relative paths of the .py files the manifest freezes (package() takes every .py below the
    package's folder, as the manifest tool does)."""
    _, packages, modules = read_manifest(path)
    here = os.path.dirname(os.path.abspath(path))
    found = []
    for package_path, base_path, _ in packages:
        root = os.path.join(here, base_path, package_path)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
            for name in filenames:
                if name.endswith(".py"):
                    found.append(os.path.relpath(os.path.join(dirpath, name), REPO).replace(os.sep, "/"))
    for module_path, base_path, _ in modules:
        found.append(os.path.relpath(os.path.join(here, base_path, module_path), REPO).replace(os.sep, "/"))
    return sorted(found)


def problems(path=MANIFEST):
    """What is wrong with the manifest against make mpy's file list, as lines (none when right)."""
    built = [rel for rel in device_sources() if rel.split("/")[0] in DEVICE_DIRS]
    frozen = frozen_sources(path)
    out = ["not frozen: " + rel for rel in sorted(set(built) - set(frozen))]
    out += ["frozen but not device code: " + rel for rel in sorted(set(frozen) - set(built))]
    return out


def main(argv):
    found = problems()
    for line in found:
        print("manifest.py: " + line)
    if found:
        return 1
    print("manifest.py freezes {} modules of {}".format(len(frozen_sources()), "/, ".join(DEVICE_DIRS) + "/"))
    print("build an image from a MicroPython 1.27 checkout:")
    print("  make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST={}".format(MANIFEST))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
