# The committed manifest.py (the frozen image's), read as MicroPython's manifest tool reads it: it must
# freeze exactly what make mpy builds under firmware/ and hal/, never a test double or boot/main.
# Building a real image is not possible here (no ESP-IDF).
import os

from tools import freeze, mpy_gate

REPO = mpy_gate.REPO


def test_the_manifest_freezes_every_device_module_and_nothing_else():
    assert freeze.problems() == []
    built = [rel for rel in mpy_gate.device_sources() if rel not in mpy_gate.DEVICE_FILES]
    assert freeze.frozen_sources() == built
    assert "firmware/terminal.py" in built and "hal/soft/des.py" in built and "hal/esp32/board.py" in built


def test_the_manifest_keeps_the_ports_boot_and_freezes_packages_at_O0():
    includes, packages, modules = freeze.read_manifest()
    assert includes == ["$(PORT_DIR)/boards/manifest.py"]  # the port's _boot.py stays frozen
    assert [(p, opt) for p, _, opt in packages] == [("firmware", 0), ("hal", 0)]
    assert {opt for _, _, opt in packages} == {mpy_gate.MPY_OPT_LEVEL}  # line numbers kept
    assert modules == []


def test_a_module_the_manifest_misses_is_reported(tmp_path):
    partial = tmp_path / "manifest.py"
    partial.write_text('package("firmware", base_path={!r}, opt=0)\n'.format(REPO))
    found = freeze.problems(str(partial))
    assert "not frozen: hal/contracts.py" in found
    assert not [line for line in found if "firmware/" in line]


def test_a_test_double_in_the_manifest_is_reported(tmp_path):
    extra = tmp_path / "manifest.py"
    extra.write_text(
        'package("firmware", base_path={0!r})\npackage("hal", base_path={0!r})\n'
        'module("virtual/storage.py", base_path={0!r})\n'.format(REPO)
    )
    assert freeze.problems(str(extra)) == ["frozen but not device code: virtual/storage.py"]


def test_make_freeze_says_how_to_build(capsys):
    assert freeze.main(["freeze"]) == 0
    out = capsys.readouterr().out
    assert "FROZEN_MANIFEST=" + os.path.join(REPO, "manifest.py") in out
