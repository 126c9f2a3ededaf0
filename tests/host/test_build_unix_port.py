# tools/build_unix_port.py (make unix-port): the manifest it writes freezes what the committed
# manifest.py freezes plus the bench's test doubles, the build is 32-bit with single-precision floats,
# and a wrong source tree is refused before anything is built. The build itself needs a MicroPython
# source tree and gcc-multilib: bench/README.md says how it was run.
import os

import pytest

from tools import build_unix_port, freeze, mpy_gate

REPO = mpy_gate.REPO


def test_the_manifest_freezes_the_device_modules_and_the_doubles(tmp_path):
    manifest = tmp_path / "manifest.py"
    manifest.write_text(build_unix_port.manifest_text())
    includes, packages, modules = freeze.read_manifest(str(manifest))
    assert includes == []  # the ESP32's board manifest is not the unix port's
    assert {opt for _, _, opt in packages + modules} == {mpy_gate.MPY_OPT_LEVEL}
    device = [rel for rel in mpy_gate.device_sources() if rel not in mpy_gate.DEVICE_FILES]
    assert freeze.frozen_sources(str(manifest)) == sorted(device + list(build_unix_port.DOUBLE_SOURCES))


def test_the_doubles_exist_and_are_not_device_code():
    for rel in build_unix_port.DOUBLE_SOURCES:
        assert os.path.isfile(os.path.join(REPO, rel)), rel
        assert rel not in mpy_gate.device_sources(), rel


def test_an_include_it_does_not_know_is_refused(tmp_path):
    manifest = tmp_path / "manifest.py"
    manifest.write_text(
        'include("$(MPY_DIR)/extmod/asyncio")\npackage("firmware", base_path={!r})\n'.format(REPO)
    )
    with pytest.raises(ValueError, match="asyncio"):
        build_unix_port.manifest_text(str(manifest))


def test_the_build_is_32_bit_single_precision_with_the_written_manifest():
    mpy_cross, unix = build_unix_port.make_commands("/src", "/out/manifest.py", "/out/build", 2)
    assert mpy_cross == ["make", "-C", "/src/mpy-cross", "-j2"]
    assert unix[:3] == ["make", "-C", "/src/ports/unix"]
    for flag in (
        "MICROPY_FORCE_32BIT=1",
        "CFLAGS_EXTRA=-DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT",
        "FROZEN_MANIFEST=/out/manifest.py",
        "BUILD=/out/build",
    ):
        assert flag in unix


def _tree(root, minor, mpy_lib=True):
    os.makedirs(os.path.join(root, "py"))
    os.makedirs(os.path.join(root, "ports", "unix"))
    with open(os.path.join(root, "py", "mpconfig.h"), "w") as f:
        f.write("#define MICROPY_VERSION_MAJOR 1\n#define MICROPY_VERSION_MINOR {}\n".format(minor))
    if mpy_lib:
        os.makedirs(os.path.join(root, "lib", "micropython-lib"))
        with open(os.path.join(root, "lib", "micropython-lib", "README.md"), "w") as f:
            f.write("micropython-lib\n")
    return str(root)


def test_the_version_is_read_from_the_source_tree(tmp_path):
    assert build_unix_port.micropython_version(_tree(tmp_path / "mp", 27)) == (1, 27)
    with pytest.raises(ValueError, match="not a MicroPython source tree"):
        build_unix_port.micropython_version(str(tmp_path))


def test_a_wrong_tree_is_refused_before_any_build(tmp_path, capsys, monkeypatch):
    ran = []
    monkeypatch.setattr(build_unix_port.subprocess, "run", lambda *a, **k: ran.append(a))
    assert build_unix_port.main(["x", _tree(tmp_path / "old", 26)]) == 1
    assert "is MicroPython 1.26, not 1.27" in capsys.readouterr().out
    assert build_unix_port.main(["x", _tree(tmp_path / "bare", 27, mpy_lib=False)]) == 1
    assert "make -C ports/unix submodules" in capsys.readouterr().out
    assert build_unix_port.main(["x", str(tmp_path)]) == 1
    assert build_unix_port.main(["x"]) == 2
    assert ran == []
