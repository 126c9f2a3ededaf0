# make deploy's mpremote command (tools/deploy.py), checked as a list: there is no board here,
# so the command itself has never run against one. Its board-side clean-up runs on CPython and on
# MicroPython (WebAssembly) against a file tree shaped like a board's.
import os
import subprocess

import pytest

from hal.esp32 import board as board_module
from tests.host.test_upy_tier import node_or_skip
from tools import deploy, mpy_gate


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    out = tmp_path_factory.mktemp("mpy")
    _, errors = mpy_gate.compile_all(str(out))
    assert not errors
    return str(out)


def segments(argv):
    """The chained mpremote commands of argv, split at '+', without the leading 'mpremote connect PORT'."""
    assert argv[:3] == ["mpremote", "connect", "/dev/ttyUSB0"]
    parts = [[]]
    for word in argv[3:]:
        if word == "+":
            parts.append([])
        else:
            parts[-1].append(word)
    return parts


def test_deploy_cleans_up_then_copies_the_build_the_two_scripts_and_the_font_then_resets(build):
    argv = deploy.deploy_command("/dev/ttyUSB0", build)
    clean, copy_build, copy_scripts, copy_font, reset = segments(argv)
    assert clean[0] == "exec" and len(clean) == 2
    assert copy_build == ["cp", "-r", os.path.join(build, "firmware"), os.path.join(build, "hal"), ":"]
    assert copy_scripts == [
        "cp",
        os.path.join(mpy_gate.REPO, "boot.py"),
        os.path.join(mpy_gate.REPO, "main.py"),
        ":",
    ]
    assert copy_font == ["cp", os.path.join(mpy_gate.REPO, "fonts", "qianpos16.qpf"), ":fonts/qianpos16.qpf"]
    assert reset == ["reset"]


def test_the_font_goes_where_the_board_module_reads_it():
    # mpremote's paths are relative to the board's working directory, "/" when it connects at boot.
    assert "/" + deploy.font_target() == board_module.FONT_FILE
    assert os.path.isfile(os.path.join(mpy_gate.REPO, deploy.FONT_SOURCE))  # make font's output, committed
    script = deploy.cleanup_script(())
    assert "os.mkdir({!r})".format(os.path.dirname(board_module.FONT_FILE).lstrip("/")) in script


def test_the_copied_trees_hold_only_mpy_files_one_per_device_module(build):
    built = deploy.built_modules(build)
    expected = sorted(
        rel[:-3] + ".mpy" for rel in mpy_gate.device_sources() if rel.startswith(("firmware/", "hal/"))
    )
    assert built == expected and "firmware/terminal.mpy" in built
    for top in ("firmware", "hal"):
        for _, _, names in os.walk(os.path.join(build, top)):
            assert all(name.endswith(".mpy") for name in names)


def test_the_clean_up_keeps_exactly_this_builds_modules(build):
    script = segments(deploy.deploy_command("/dev/ttyUSB0", build))[0][1]
    assert "('firmware', 'hal')" in script
    for rel in deploy.built_modules(build):
        assert repr(rel) in script


def test_a_frozen_image_gets_only_the_two_scripts_the_font_and_an_empty_keep_list(build):
    argv = deploy.deploy_command("/dev/ttyUSB0", build, frozen=True)
    clean, copy_scripts, copy_font, reset = segments(argv)
    assert clean[0] == "exec" and "_qp_clean(_qp_d, ())" in clean[1]
    assert copy_scripts[0] == "cp" and [os.path.basename(p) for p in copy_scripts[1:-1]] == [
        "boot.py",
        "main.py",
    ]
    assert copy_font[0] == "cp" and copy_font[-1] == ":fonts/qianpos16.qpf"  # data, not frozen
    assert reset == ["reset"]


def test_an_empty_build_is_refused(tmp_path):
    with pytest.raises(ValueError):
        deploy.deploy_command("/dev/ttyUSB0", str(tmp_path))


BOARD_FILES = (
    "firmware/terminal.py",  # a source copy from an earlier deploy: would shadow terminal.mpy
    "firmware/terminal.mpy",
    "firmware/gone.mpy",  # a module this build no longer has
    "firmware/host/codec.py",
    "firmware/host/codec.mpy",
    "hal/console.mpy",
    "hal/old/only.py",  # a folder left empty: removed
    "data/params.a",  # terminal data: never touched
    "keys/tmk",
    "boot.py",
    "main.py",
    "lib/thing.py",
)
KEEP = ("firmware/terminal.mpy", "firmware/host/codec.mpy", "hal/console.mpy")
LEFT = [
    "boot.py",
    "data/params.a",
    "firmware/host/codec.mpy",
    "firmware/terminal.mpy",
    "hal/console.mpy",
    "keys/tmk",
    "lib/thing.py",
    "main.py",
]


def board_tree(root):
    for rel in BOARD_FILES:
        os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write("x")


def files_under(root):
    found = []
    for dirpath, _, names in os.walk(root):
        found.extend(os.path.relpath(os.path.join(dirpath, n), root).replace(os.sep, "/") for n in names)
    return sorted(found)


def test_the_clean_up_removes_sources_and_stale_modules_on_cpython(tmp_path, monkeypatch):
    board_tree(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    exec(deploy.cleanup_script(KEEP), {})
    assert files_under(str(tmp_path)) == LEFT
    assert not os.path.exists(tmp_path / "hal" / "old")
    assert os.path.isdir(tmp_path / "fonts")  # the font's folder, made for mpremote's cp
    exec(deploy.cleanup_script(KEEP), {})  # a second deploy: the folder is already there
    assert files_under(str(tmp_path)) == LEFT and os.path.isdir(tmp_path / "fonts")


def test_the_clean_up_for_a_frozen_image_empties_the_device_folders(tmp_path, monkeypatch):
    board_tree(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    exec(deploy.cleanup_script(()), {})
    assert not os.path.exists(tmp_path / "firmware") and not os.path.exists(tmp_path / "hal")
    assert "data/params.a" in files_under(str(tmp_path)) and "main.py" in files_under(str(tmp_path))


def test_the_clean_up_runs_on_micropython(tmp_path):
    node = node_or_skip()
    setup = [
        "import os",
        "os.mkdir('/board')",
        "os.chdir('/board')",
        "for rel in {!r}:".format(BOARD_FILES),
        "    parts = rel.split('/')",
        "    for i in range(1, len(parts)):",
        "        try:",
        "            os.mkdir('/'.join(parts[:i]))",
        "        except OSError:",
        "            pass",
        "    with open(rel, 'w') as f:",
        "        f.write('x')",
    ]
    listing = [
        "def walk(d, out):",
        "    for n in os.listdir(d):",
        "        p = n if d == '.' else d + '/' + n",
        "        if os.stat(p)[0] & 0x4000:",
        "            walk(p, out)",
        "        else:",
        "            out.append(p)",
        "    return out",
        "print('LEFT', sorted(walk('.', [])))",
        "print('HAL_OLD', 'old' in os.listdir('hal'))",
        "print('FONTS', 'fonts' in os.listdir('.'))",
    ]
    script = tmp_path / "clean_on_upy.py"
    script.write_text("\n".join(setup) + "\n" + deploy.cleanup_script(KEEP) + "\n".join(listing) + "\n")
    proc = subprocess.run(
        [node, "tests/upy/run.mjs", str(script)],
        cwd=mpy_gate.REPO,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "LEFT {!r}".format(LEFT) in proc.stdout and "HAL_OLD False" in proc.stdout
    assert "FONTS True" in proc.stdout
    assert proc.stdout.count("removed :") == 4
