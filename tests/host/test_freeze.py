# make freeze's manifest.py (tests/host/freeze.py), read as MicroPython's manifest tool reads it: the
# file is Python calling include()/module(); here those calls are recorded instead of building an
# image (no ESP-IDF here). It must freeze exactly the device modules, never a test double.
import glob
import os

from tests.host import freeze, mpy_gate

REPO = mpy_gate.REPO


def read_manifest(path):
    """Run the manifest at path with recording include/module (and refusing package/freeze, which
    it does not use): (includes, [(absolute source, frozen path, opt)])."""
    includes = []
    modules = []
    here = os.path.dirname(path)

    def include(manifest):
        includes.append(manifest)

    def module(module_path, base_path=".", opt=None):
        source = os.path.normpath(os.path.join(here, base_path, module_path))
        modules.append((source, module_path, opt))

    def refused(*args, **kwargs):
        raise AssertionError("the manifest should list modules one by one")

    with open(path, encoding="utf-8") as f:
        code = f.read()
    exec(code, {"include": include, "module": module, "package": refused, "freeze": refused})
    return includes, modules


def write(tmp_path):
    out = tmp_path / "freeze" / "manifest.py"
    assert freeze.main(["freeze", str(out)]) == 0
    return str(out)


def test_the_manifest_freezes_every_device_module_and_nothing_else(tmp_path):
    includes, modules = read_manifest(write(tmp_path))
    on_disk = sorted(
        os.path.relpath(p, REPO).replace(os.sep, "/")
        for top in ("firmware", "hal")
        for p in glob.glob(os.path.join(REPO, top, "**", "*.py"), recursive=True)
    )
    assert sorted(frozen for _, frozen, _ in modules) == on_disk
    assert "firmware/terminal.py" in on_disk and "hal/contracts.py" in on_disk
    for source, frozen, _ in modules:
        assert os.path.isfile(source) and source == os.path.join(REPO, frozen)
    assert includes == ["$(PORT_DIR)/boards/manifest.py"]  # the port's _boot.py stays frozen


def test_no_test_double_and_neither_script_is_frozen(tmp_path):
    _, modules = read_manifest(write(tmp_path))
    tops = {frozen.split("/")[0] for _, frozen, _ in modules}
    assert tops == {"firmware", "hal"}
    assert not {"virtual", "sim", "tests", "bench"} & tops
    assert not [frozen for _, frozen, _ in modules if frozen in ("boot.py", "main.py")]


def test_the_frozen_modules_keep_their_line_numbers(tmp_path):
    _, modules = read_manifest(write(tmp_path))
    assert {opt for _, _, opt in modules} == {mpy_gate.MPY_OPT_LEVEL} == {0}


def test_the_manifest_still_finds_the_sources_when_written_elsewhere(tmp_path):
    out = tmp_path / "a" / "b" / "c" / "manifest.py"
    assert freeze.main(["freeze", str(out)]) == 0
    _, modules = read_manifest(str(out))
    assert modules and all(os.path.isfile(source) for source, _, _ in modules)
