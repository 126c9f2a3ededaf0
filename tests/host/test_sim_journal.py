# python -m sim.journal: the batch journal of a state directory as a table or JSON lines; a damaged
# journal exits 2 with a clear line.
import json

from firmware import batch as bj
from sim import journal as tool
from sim.storage import DirStorage

CARD = "622202******0128"


def _sale(trace, amount):
    return {
        "batch": 1,
        "trace": trace,
        "amount": amount,
        "card": CARD,
        "org": "CUP",
        "mode": "insert",
        "time": 1796601600 + trace,  # 2026-12-07 00:00 UTC + trace seconds
        "op": "01",
    }


def _three_sales_and_a_lost_answer(root):
    j = bj.Batch(DirStorage(root))
    for trace, amount in ((1, 1000), (2, 2000), (3, 3000)):
        j.begin(bj.SALE, _sale(trace, amount))
        j.change(1, trace, 0, state=bj.APPROVED, code="00", rrn="{:012d}".format(trace), auth="A1")
    j.begin(bj.SALE, _sale(4, 4000))
    j.change(1, 4, 0, state=bj.IN_DOUBT, code="98")
    j.reversal_outcome(1, 4, "reversed", "00", 0)
    return j


def test_json_lines_have_the_keys_and_words(tmp_path, capsys):
    root = str(tmp_path / "state")
    _three_sales_and_a_lost_answer(root)
    before = sorted(p.name for p in tmp_path.joinpath("state").iterdir())
    assert tool.main(["--state", root, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["trace"], r["state"], r["amount"]) for r in lines] == [
        (1, "approved", 1000),
        (2, "approved", 2000),
        (3, "approved", 3000),
        (4, "reversed", 4000),
    ]
    first = lines[0]
    assert sorted(first) == [
        "amount",
        "batch",
        "kind",
        "merchant",
        "rrn",
        "state",
        "terminal",
        "time",
        "trace",
    ]
    assert first["kind"] == "sale" and first["rrn"] == "000000000001" and first["terminal"] == "10000001"
    assert first["time"] == "2026-12-07T08:00:01+08:00"
    assert sorted(p.name for p in tmp_path.joinpath("state").iterdir()) == before  # read only


def test_the_table_is_masked_with_totals(tmp_path, capsys):
    root = str(tmp_path / "state")
    _three_sales_and_a_lost_answer(root)
    assert tool.main(["--state", root]) == 0
    out = capsys.readouterr().out
    assert CARD in out and "reversed" in out and "¥60.00" in out
    assert "sale       3 approved" in out


def test_the_archive_shows_with_all(tmp_path, capsys):
    root = str(tmp_path / "state")
    j = _three_sales_and_a_lost_answer(root)
    totals = {"dn": 3, "da": 6000, "dcn": 0, "dca": 0, "fn": 0, "fa": 0, "fcn": 0, "fca": 0}
    j.settle(dict(totals, batch=1, time=0, result="11"))
    assert tool.main(["--state", root, "--json"]) == 0
    assert capsys.readouterr().out == ""
    assert tool.main(["--state", root, "--json", "--all"]) == 0
    assert [json.loads(line)["trace"] for line in capsys.readouterr().out.splitlines()] == [1, 2, 3]


def test_a_damaged_journal_exits_2(tmp_path, capsys):
    root = str(tmp_path / "state")
    _three_sales_and_a_lost_answer(root)
    with open(str(tmp_path / "state" / "batch.000001"), "ab") as f:
        f.write(b"QJ\x01garbage")
    assert tool.main(["--state", root, "--json"]) == 2
    captured = capsys.readouterr()
    assert "the journal is damaged" in captured.err and len(captured.out.splitlines()) == 4
    assert tool.main(["--state", str(tmp_path / "none")]) == 2
