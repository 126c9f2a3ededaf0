# The registry of stored files (firmware/registry.py) against what the terminal really leaves in
# storage: every example scenario, run with its storage in a directory, leaves only registered files.
from pathlib import Path

import pytest

from firmware import registry
from sim.__main__ import main
from sim.storage import DirStorage

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "tests" / "scenarios").glob("*.txt"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scenarios_leave_only_registered_files(script, tmp_path, capsys):
    state = tmp_path / "state"
    args = ["run", "--quiet", "--lang", "en", "--state", str(state), str(script)]
    assert main(args) == 0, capsys.readouterr()
    storage = DirStorage(str(state))
    assert storage.list(), "the scenario stored nothing: the check would prove nothing"
    assert registry.unknown_files(storage) == []


def test_an_unregistered_file_is_caught(tmp_path):
    storage = DirStorage(str(tmp_path))
    storage.write("journal.dat", b"x")
    storage.sync()
    assert registry.unknown_files(DirStorage(str(tmp_path))) == ["journal.dat"]
