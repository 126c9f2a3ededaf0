# python -m sim.journal: the batch journal of a state directory as a table or JSON lines; a damaged
# journal exits 2 with a clear line.
import json

from firmware import batch as bj
from firmware.sigfile import write_image
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


def test_an_archived_refund_not_confirmed_shows_in_doubt_with_all(tmp_path, capsys):
    root = str(tmp_path / "state")
    j = _three_sales_and_a_lost_answer(root)
    refund = dict(_sale(5, 500), reason="return")
    refund["orig"] = {"batch": 1, "trace": 1, "rrn": "000000000001", "date": "1207"}
    j.begin(bj.REFUND, refund)
    j.change(1, 5, 0, state=bj.IN_DOUBT)
    totals = {"dn": 3, "da": 6000, "dcn": 0, "dca": 0, "fn": 0, "fa": 0, "fcn": 0, "fca": 0}
    j.settle(dict(totals, batch=1, time=0, result="11"))
    assert tool.main(["--state", root, "--json", "--all"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["trace"], r["kind"], r["state"]) for r in lines][-1] == (5, "refund", "in_doubt")


def test_a_damaged_journal_exits_2(tmp_path, capsys):
    root = str(tmp_path / "state")
    _three_sales_and_a_lost_answer(root)
    with open(str(tmp_path / "state" / "batch.000001"), "ab") as f:
        f.write(b"QJ\x01garbage")
    assert tool.main(["--state", root, "--json"]) == 2
    captured = capsys.readouterr()
    assert "the journal is damaged" in captured.err and len(captured.out.splitlines()) == 4
    assert tool.main(["--state", str(tmp_path / "none")]) == 2


def _ledger(path, rows):
    from sim.host.ledger import Ledger

    db = Ledger(path)
    for terminal, trace, amount, rrn, status in rows:
        db.db.execute(
            "INSERT INTO txns(terminal_id, merchant_id, batch, trace, kind, amount, rrn, status, at)"
            " VALUES(?, '898100012340001', 1, ?, 'sale', ?, ?, ?, '2026-12-07T08:00:00+08:00')",
            (terminal, trace, amount, rrn, status),
        )
    db.close()


def test_diff_finds_no_difference_when_the_ledger_matches(tmp_path, capsys):
    root = str(tmp_path / "state")
    _three_sales_and_a_lost_answer(root)
    db = str(tmp_path / "host" / "ledger.db")
    rows = [("10000001", t, t * 1000, "{:012d}".format(t), "ok") for t in (1, 2, 3)]
    rows.append(("10000001", 4, 4000, "000000000004", "reversed"))
    rows.append(("20000002", 9, 500, "000000000009", "ok"))  # another terminal: not compared
    _ledger(db, rows)
    assert tool.main(["diff", "--state", root, "--db", db]) == 0
    assert capsys.readouterr().out == ""


def test_diff_prints_each_difference(tmp_path, capsys):
    root = str(tmp_path / "state")
    _three_sales_and_a_lost_answer(root)
    db = str(tmp_path / "host" / "ledger.db")
    rows = [
        ("10000001", 1, 1000, "000000000001", "ok"),
        ("10000001", 2, 2500, "000000000002", "ok"),  # another amount
        ("10000001", 4, 4000, "000000000004", "ok"),  # reversed in the journal, booked here
        ("10000001", 5, 500, "000000000005", "ok"),  # not in the journal
    ]
    _ledger(db, rows)  # trace 3 is missing from the ledger
    assert tool.main(["diff", "--state", root, "--db", db]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "batch 000001 trace 000002: journal 2000 rrn 000000000002, host 2500 rrn 000000000002",
        "batch 000001 trace 000003: approved in the journal, not booked by the host",
        "batch 000001 trace 000004: reversed in the journal, booked by the host",
        "batch 000001 trace 000005: booked by the host, not in the journal",
    ]


def test_the_host_ledger_command_uses_the_same_keys_and_words(tmp_path, capsys):
    from sim.host.__main__ import main as host_main

    db = str(tmp_path / "host" / "ledger.db")
    _ledger(
        db, [("10000001", 1, 1000, "000000000001", "ok"), ("10000001", 4, 4000, "000000000004", "reversed")]
    )
    assert host_main(["ledger", "--db", db, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(lines[0]) == [
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
    assert [(r["trace"], r["state"], r["amount"]) for r in lines] == [
        (1, "approved", 1000),
        (4, "reversed", 4000),
    ]
    assert lines[0]["time"] == "2026-12-07T08:00:00+08:00"
    assert host_main(["ledger", "--db", db]) == 0
    assert "000001" in capsys.readouterr().out
    assert host_main(["ledger", "--db", str(tmp_path / "none.db")]) == 2


def _esign_stored(path, traces):
    from sim.host.ledger import Ledger

    db = Ledger(path)
    for trace in traces:
        db.db.execute(
            "INSERT INTO esigns VALUES ('10000001', '898100012340001', 1, ?, ?, ?, x'ff0001', x'00', '')",
            (trace, "{:012d}".format(trace), trace * 1000),
        )
    db.close()


def test_diff_compares_the_e_signature_upload_state(tmp_path, capsys):
    root = str(tmp_path / "state")
    j = _three_sales_and_a_lost_answer(root)
    j.change(1, 1, 0, esign="uploaded")  # and the host has it: no difference
    j.change(1, 2, 0, esign="uploaded")  # the host has none
    j.change(1, 3, 0, esign="pending")  # the host has it: the next upload gets 94
    db = str(tmp_path / "host" / "ledger.db")
    rows = [("10000001", t, t * 1000, "{:012d}".format(t), "ok") for t in (1, 2, 3)]
    rows.append(("10000001", 4, 4000, "000000000004", "reversed"))
    _ledger(db, rows)
    _esign_stored(db, (1, 3))
    assert tool.main(["diff", "--state", root, "--db", db]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "batch 000001 trace 000002: e-signature uploaded in the journal, not stored by the host",
        "batch 000001 trace 000003: e-signature pending in the journal, stored by the host",
    ]
    assert tool.main(["--state", root, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r.get("esign") for r in lines] == ["uploaded", "uploaded", "pending", None]  # "none": absent
    j.change(1, 3, 0, esign="uploaded")
    _esign_stored(db, (2,))
    j.change(1, 2, 0, esign="uploaded")
    assert tool.main(["diff", "--state", root, "--db", db]) == 0


def test_diff_reads_the_archive_upload_to_do(tmp_path, capsys):
    root = str(tmp_path / "state")
    j = _three_sales_and_a_lost_answer(root)
    j.change(1, 1, 0, esign="pending")  # settled before its upload went: open in the archive
    write_image(j.storage, 1, 1, b"image")
    j.change(1, 2, 0, esign="uploaded")
    totals = {"dn": 3, "da": 6000, "dcn": 0, "dca": 0, "fn": 0, "fa": 0, "fcn": 0, "fca": 0}
    j.settle(dict(totals, batch=1, time=0, result="11"))
    db = str(tmp_path / "host" / "ledger.db")
    rows = [("10000001", t, t * 1000, "{:012d}".format(t), "ok") for t in (1, 2, 3)]
    rows.append(("10000001", 4, 4000, "000000000004", "reversed"))
    _ledger(db, rows)
    _esign_stored(db, (2,))  # the archive does not say whether 2 and 3 were signed: not compared
    assert tool.main(["diff", "--state", root, "--db", db]) == 0
    _esign_stored(db, (1,))
    assert tool.main(["diff", "--state", root, "--db", db]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "batch 000001 trace 000001: e-signature pending in the journal, stored by the host"
    ]
    # a later settlement's sweep uploaded it: its image file keeps the answer, and the tool reads it
    write_image(j.storage, 1, 1, b"image", "00")
    assert tool.main(["diff", "--state", root, "--db", db]) == 0
    assert tool.main(["--state", root, "--json", "--all"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r.get("esign") for r in lines if r["trace"] == 1] == ["uploaded"]
