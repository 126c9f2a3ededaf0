# The simulator end to end for the host tier's journal tests: a script of tests/scenarios run on a
# terminal whose state is a fresh directory (its host's ledger beside it, as `make sim` keeps them),
# then the CPython tools (`python -m sim.journal`, `python -m sim.host`) on what it left.
import json
import subprocess
import sys
from pathlib import Path

from sim.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"


def run_script(tmp_path, script):
    """Runs the scenario file script (a path) with the state in tmp_path/pos: (state, ledger db)."""
    state = tmp_path / "pos"
    assert main(["run", "--quiet", "--lang", "en", "--state", str(state), str(script)]) == 0
    return state, tmp_path / "pos-host" / "ledger.db"


def run_scenario(tmp_path, name):
    """Runs tests/scenarios/<name>: (state, ledger db)."""
    return run_script(tmp_path, SCENARIOS / name)


def tool(module, *args):
    """`python -m module args...` from the repository: the CompletedProcess (text)."""
    command = [sys.executable, "-m", module, *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def journal_rows(state):
    """`python -m sim.journal --state STATE --json`: one dict a transaction."""
    shown = tool("sim.journal", "--state", str(state), "--json")
    assert shown.returncode == 0, shown.stderr
    return [json.loads(line) for line in shown.stdout.splitlines()]


def journal_diff(state, db):
    """`python -m sim.journal diff`: exit 0 when the journal and the ledger agree, 1 with each
    difference on a line of its own."""
    return tool("sim.journal", "diff", "--state", str(state), "--db", str(db))
