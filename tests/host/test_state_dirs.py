# A directory where the terminal keeps a record file, inside --state: the simulator's disk storage
# must behave as the in-RAM model does (tests/portable/campaign.py, DirectoryInTheWay): the OS call
# fails before the storage's view changes, the record layer goes round the obstacle, and the
# terminal sells on; never "Storage failing" for good, never "cannot use --state".
import pytest

from sim.__main__ import main

SALE = "key ENTER 1 {} ENTER\ninsert debit\nkey 123456 ENTER\nsign\nexpect Approved\nkey ENTER\n"


def _run(state, text, tmp_path, capsys):
    script = tmp_path / "script.txt"
    script.write_text(text, encoding="utf-8")
    code = main(["run", "--lang", "en", "--state", str(state), str(script)])
    out, err = capsys.readouterr()
    assert code == 0, err + out[-2000:]
    assert "Storage failing" not in out and "cannot use --state" not in err
    return out


@pytest.mark.parametrize(
    "name", ["counters.a", "txn.a", "reversal.a", "provisioned.a", "hoststate.b", "counters.tmp", "txn.tmp"]
)
@pytest.mark.parametrize("when", ["fresh", "after-a-sale"])
def test_a_directory_in_place_of_a_record_file(tmp_path, capsys, name, when):
    state = tmp_path / "state"
    if when == "after-a-sale":
        _run(state, SALE.format(100), tmp_path, capsys)
        if (state / name).exists():
            (state / name).unlink()
    state.mkdir(exist_ok=True)
    (state / name).mkdir()
    for amount in (200, 300):  # twice: the next run is not stuck either
        out = _run(state, SALE.format(amount), tmp_path, capsys)
        assert "Approved" in out
    assert (state / name).is_dir()  # left where it was: nothing deleted on the way
