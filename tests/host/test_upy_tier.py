# Runs the portable tier on the real MicroPython runtime (through node) and the mpy-cross gate.
# Must never pass by running nothing: the count of tests run on MicroPython must equal what pytest
# collects from tests/portable on CPython, which must equal the test functions in the source. The
# tier runs as SHARDS tests (tests/upy/run_tests.py --shard K/N), so pytest's workers run them side
# by side; each shard must run every test function of its modules, and the shards cover every module
# exactly once.
import ast
import errno
import functools
import os
import re
import shutil
import subprocess
import sys

import pytest

from hal.contracts import ENOENT, ENOSPC
from hal.port import _EMSCRIPTEN_ERRNO
from tests.upy import run_tests
from tools import mpy_gate

REPO = mpy_gate.REPO
PORTABLE = os.path.join(REPO, "tests", "portable")
UPY_PACKAGE = os.path.join(REPO, "node_modules", "@micropython", "micropython-webassembly-pyscript")
UNDER_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)


SHARDS = 4


def portable_modules():
    return sorted(
        name[:-3] for name in os.listdir(PORTABLE) if name.startswith("test_") and name.endswith(".py")
    )


def static_test_count(modules=None):
    """Top-level `def test_*` functions in tests/portable/test_*.py (or only in modules), found
    without importing."""
    count = 0
    for module in portable_modules() if modules is None else modules:
        name = module + ".py"
        with open(os.path.join(PORTABLE, name), encoding="utf-8") as f:
            tree = ast.parse(f.read(), name)
        count += sum(
            1 for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        )
    return count


@functools.cache
def collected_test_count():
    """The tests pytest collects from tests/portable on CPython: the portable tier's count there."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-o", "addopts=", "-p", "no:cacheprovider"]
        + ["tests/portable"],
        cwd=REPO,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert proc.returncode == 0, "pytest could not collect tests/portable:\n" + proc.stdout + proc.stderr
    return sum(1 for line in proc.stdout.splitlines() if line.startswith("tests/portable/") and "::" in line)


def test_pytest_collects_every_test_function_of_the_portable_tier():
    # Same number both ways: no parametrized test, class or fixture (MicroPython's runner has none
    # of them) and no test function pytest would skip collecting.
    assert collected_test_count() == static_test_count() > 0


def node_or_skip():
    node = shutil.which("node")
    if node is None:
        if UNDER_CI:
            pytest.fail("node is not on PATH: the MicroPython tier cannot run (required under CI)")
        pytest.skip("node is not on PATH: MicroPython tier not run (install Node 20 and run `make test`)")
    assert os.path.isdir(UPY_PACKAGE), "MicroPython runtime missing: run `npm ci` (make test does)"
    return node


def test_the_shards_cover_every_portable_module_once():
    names = portable_modules()
    shards = [run_tests.shard_modules(names, k, SHARDS) for k in range(SHARDS)]
    assert sorted(n for shard in shards for n in shard) == names
    assert all(shards)
    assert set(run_tests.LONG) <= set(names), "a LONG module of tests/upy/run_tests.py no longer exists"


@pytest.mark.parametrize("shard", range(SHARDS))
def test_portable_tier_passes_on_micropython(shard):
    node = node_or_skip()
    modules = run_tests.shard_modules(portable_modules(), shard, SHARDS)
    proc = subprocess.run(
        [node, "tests/upy/run.mjs", "tests/upy/run_tests.py", "--shard", "{}/{}".format(shard, SHARDS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=1500,  # a hang guard: CI stops the whole run at 30 minutes
    )
    output = proc.stdout + proc.stderr
    found = SUMMARY.findall(proc.stdout)
    assert found, "no 'N passed, M failed' line from the MicroPython runner:\n" + output
    passed, failed = (int(n) for n in found[-1])
    assert failed == 0, "{} test(s) failed on MicroPython:\n{}".format(failed, output)
    expected = static_test_count(modules)
    assert passed == expected, "MicroPython ran {} tests, {} has {} test functions:\n{}".format(
        passed, ", ".join(modules), expected, output
    )
    assert proc.returncode == 0, output


def test_device_sources_compile_with_mpy_cross(tmp_path):
    files, errors = mpy_gate.compile_all(str(tmp_path))
    assert files, "no device sources found"
    report = "\n\n".join("{}:\n{}".format(rel, message) for rel, message in errors)
    assert not errors, "mpy-cross rejected {} file(s):\n{}".format(len(errors), report)


def test_port_translates_the_pinned_runtimes_errno_numbers():
    """hal.port reads the WebAssembly port's errors with Emscripten's numbers: they must be those of
    the runtime pinned in package-lock.json (its ERRNO_CODES table), and so must run.mjs's /dev/full."""
    node_or_skip()
    with open(os.path.join(UPY_PACKAGE, "micropython.mjs"), encoding="utf-8") as f:
        table = re.search(r"ERRNO_CODES\s*=\s*\{([^}]*)\}", f.read())
    assert table, "no ERRNO_CODES table in the MicroPython runtime's glue code"
    codes = {name: int(number) for name, number in re.findall(r"(\w+):(\d+)", table.group(1))}
    by_meaning = {codes["ENOENT"]: ENOENT, codes["ENOSPC"]: ENOSPC, codes["EACCES"]: errno.EACCES}
    by_meaning[codes["EINVAL"]] = errno.EINVAL
    assert _EMSCRIPTEN_ERRNO == by_meaning
    with open(os.path.join(REPO, "tests", "upy", "run.mjs"), encoding="utf-8") as f:
        assert "new FS.ErrnoError({})".format(codes["ENOSPC"]) in f.read()


# Run under MicroPython from a .mpy build: the modules must come from the .mpy files (no .py beside
# them) and a crash inside one must keep its line number (firmware.compat.crash_site).
MPY_PROBE = """
import os
import firmware.compat
import firmware.terminal
assert firmware.terminal.__file__.endswith(".mpy"), firmware.terminal.__file__
assert not [n for n in os.listdir("firmware") + os.listdir("hal") if n.endswith(".py")]
from firmware.money import format_fen
try:
    format_fen("not fen")
except TypeError as e:
    print("SITE", firmware.compat.crash_site(e))
"""


def run_from_mpy(node, build, tmp_path):
    probe = tmp_path / "mpy_probe.py"
    probe.write_text(MPY_PROBE)
    proc = subprocess.run(
        [node, "tests/upy/run.mjs", str(probe)],
        cwd=REPO,
        env=dict(os.environ, QIANPOS_UPY_MPY=str(build)),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = re.findall(r"^SITE TypeError firmware\.money:(\d+)$", proc.stdout, re.MULTILINE)
    assert found, proc.stdout
    return int(found[0])


def test_the_mpy_build_loads_without_sources_and_keeps_line_numbers(tmp_path):
    node = node_or_skip()
    _, errors = mpy_gate.compile_all(str(tmp_path / "mpy"))
    assert not errors
    line = run_from_mpy(node, tmp_path / "mpy", tmp_path)
    with open(os.path.join(REPO, "firmware", "money.py"), encoding="utf-8") as f:
        source_lines = f.read().split("\n")
    assert line > 1 and "fen < 0" in source_lines[line - 1]  # the comparison that raised
    # The check can fail: at -O3 every frame prints line 1 (no line table).
    _, errors = mpy_gate.compile_all(str(tmp_path / "o3"), opt=3)
    assert not errors and run_from_mpy(node, tmp_path / "o3", tmp_path) == 1
