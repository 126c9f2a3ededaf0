# Back-office refunds (python -m sim.host backoffice) over the ledger of a running host: submit by
# one user and review by another, every refusal (exit 2, one line, no traceback), the one cumulative
# limit shared with terminal refunds (0220 through the server: 35), a review racing a terminal
# refund (in this process and from another one), the merchant's net of the day, nothing in a
# terminal's batch or settlement, the upgrade of a ledger written before the back-office table, and
# hypothesis over both channels.
import datetime
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware.host import messages as msg
from sim.host import acquirer
from sim.host import backoffice as bo
from sim.host.__main__ import main
from sim.host.ledger import Ledger, merchant_net
from sim.host.server import Host
from sim.journal import differences, ledger_rows
from tests.host.host_client import ACC, Client, pan, track2

ROOT = Path(__file__).resolve().parents[2]
TID = "10000001"
MID = "898100012340001"


class Clock:
    """The host's clock and the command line's, moved by the test (a naive datetime, China time)."""

    def __init__(self):
        self.now = datetime.datetime(2026, 12, 7, 10, 0, 0)

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(acquirer, "china_now", clock)  # what the command line reads
    return clock


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "host" / "ledger.db")


@pytest.fixture
def host(path, clock):
    h = Host(db=path, clock=clock)
    h.start()
    yield h
    h.stop()
    assert h.errors == []


@pytest.fixture
def c(host):
    client = Client(host.port)
    client.sign_in()
    yield client
    client.close()


@pytest.fixture
def office(path, host):
    """A second connection to the ledger file, as the command line opens it."""
    ledger = Ledger(path)
    yield ledger.db
    ledger.close()


def sale(c, amount=10000, card="credit"):
    answer = c.exchange(c.sale(amount, card=card, pin=None))
    assert answer[39] == "00"
    return answer


def terminal_refund(c, answer, amount, card="credit"):
    """The 0220 of a terminal refund of the sale `answer` (no PIN: 退货不输密); its F39."""
    req = msg.refund(
        ACC, c.next_trace(), c.batch, amount, answer[37], answer[13], track2(card), "swipe", None
    )
    return c.exchange(req)[39]


def run(capsys, path, *args):
    """python -m sim.host backoffice --db path ARGS in this process: (exit, stdout, stderr)."""
    code = main(["backoffice", "--db", path, *args])
    out, err = capsys.readouterr()
    return code, out, err


def submit_args(answer, amount, user="alice", reason="return", evidence="receipt 000123", terminal=TID):
    return [
        "submit",
        "--user",
        user,
        "--rrn",
        answer[37],
        "--date",
        answer[13],
        "--terminal",
        terminal,
        "--amount",
        str(amount),
        "--reason",
        reason,
        "--evidence",
        evidence,
    ]


def refused(result, *words):
    """The command exited 2 with one line on stderr holding every word, nothing on stdout."""
    code, out, err = result
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("backoffice: "), result
    for w in words:
        assert w in err, (w, err)
    return err


def refunded(host, rrn):
    return host.call(lambda a: a.db.execute("SELECT refunded FROM txns WHERE rrn=?", (rrn,)).fetchone()[0])


def count(host):
    return host.call(lambda a: a.ledger.count("backoffice"))


# ---- submit, review, list, show ----------------------------------------------------------------


def test_submitted_by_one_user_approved_by_another(host, c, path, capsys):
    answer = sale(c)
    before = host.call(lambda a: a.ledger.balance(pan("credit")))
    code, out, err = run(capsys, path, *submit_args(answer, 3000))
    assert (code, out, err) == (0, "1\n", "")
    assert run(capsys, path, "list", "--json")[1].count('"state": "submitted"') == 1
    assert refunded(host, answer[37]) == 0  # submitted: nothing booked yet
    code, out, _ = run(capsys, path, "review", "1", "--user", "bob", "--approve", "--note", "slip seen")
    assert (code, out) == (0, "back-office refund 1 approved by bob\n")
    assert refunded(host, answer[37]) == 3000
    assert host.call(lambda a: a.ledger.balance(pan("credit"))) == before + 3000  # money to the card
    code, out, _ = run(capsys, path, "list", "--json")
    r = json.loads(out)
    assert code == 0
    assert {k: r[k] for k in ("id", "rrn", "amount", "reason", "state", "submitted_by", "reviewed_by")} == {
        "id": 1,
        "rrn": answer[37],
        "amount": 3000,
        "reason": "return",
        "state": "approved",
        "submitted_by": "alice",
        "reviewed_by": "bob",
    }
    assert (r["reason_en"], r["reason_zh"]) == ("customer return", "消费者退货")
    assert (r["terminal_id"], r["merchant_id"], r["evidence"], r["note"]) == (
        TID,
        MID,
        "receipt 000123",
        "slip seen",
    )
    assert r["submitted_at"] == r["reviewed_at"] == "2026-12-07T10:00:00" and r["day"] == "2026-12-07"
    table = run(capsys, path, "list")[1].splitlines()
    assert table[0].split() == ["id", "submitted", "rrn", "amount", "state", "by", "reviewed", "by", "reason"]
    assert table[1].split() == [
        "1",
        "2026-12-07T10:00:00",
        answer[37],
        "¥30.00",
        "approved",
        "alice",
        "bob",
    ] + [
        "return",
        "消费者退货",
    ]
    code, out, _ = run(capsys, path, "show", "1")
    assert code == 0 and "return (customer return, 消费者退货)" in out and "alice" in out and "bob" in out
    assert json.loads(run(capsys, path, "show", "1", "--json")[1]) == r


def test_a_rejected_request_books_nothing(host, c, path, capsys):
    answer = sale(c)
    run(capsys, path, *submit_args(answer, 3000, reason="dispute"))
    assert run(capsys, path, "review", "1", "--user", "bob", "--reject")[:2] == (
        0,
        "back-office refund 1 rejected by bob\n",
    )
    assert refunded(host, answer[37]) == 0
    assert json.loads(run(capsys, path, "show", "1", "--json")[1])["state"] == "rejected"
    refused(run(capsys, path, "review", "1", "--user", "carol", "--approve"), "rejected by bob", "once")


@pytest.mark.parametrize("reason", bo.REASON_IDS)
def test_the_five_reasons(host, c, path, capsys, reason):
    answer = sale(c)
    assert run(capsys, path, *submit_args(answer, 100, reason=reason))[0] == 0
    assert json.loads(run(capsys, path, "show", "1", "--json")[1])["reason"] == reason
    assert [r[0] for r in bo.REASONS] == ["quality", "dispute", "return", "system", "other"]
    assert {r[2] for r in bo.REASONS} == {"商品质量问题", "交易纠纷", "消费者退货", "系统错误", "其他"}


# ---- refusals ----------------------------------------------------------------------------------


def test_submit_refusals(host, c, path, capsys, clock):
    answer = sale(c)

    def no(*words, **changes):
        args = submit_args(answer, changes.pop("amount", 100), **changes)
        return refused(run(capsys, path, *args), *words)

    no("no sale with RRN", terminal="10000002")
    no("0 fen", amount=0)
    no("whole number", amount="12.50")
    no("whole number", amount="-5")
    no("whole number", amount="１００")  # full-width digits
    no("over what is left", "10000 of 10000", amount=10001)
    no("user id", user="")
    no("user id", user="a b")
    no("evidence is empty", evidence="  ")
    no("card number", evidence="card 6259650000005671")
    no("control characters", evidence="slip\x1b[2J")
    no("control characters", evidence="slip\x9b2J")  # the one-byte CSI
    no("not UTF-8", evidence="slip \udcff")  # a byte of a non-UTF-8 command line (surrogateescape)
    no("8 characters", terminal="1000000")
    no("8 characters", terminal="1000000\x1b")
    no("longer than", evidence="x" * 201)
    other = dict(submit_args(answer, 100)[i : i + 2] for i in range(1, 15, 2))
    for flag, value, words in (
        ("--rrn", "999999999999", "no sale with RRN"),
        ("--rrn", "12345", "12 digits"),
        ("--date", "1206", "no sale with RRN"),
        ("--date", "1301", "no such date"),
        ("--date", "12/7", "MMDD"),
    ):
        args = dict(other, **{flag: value})
        refused(run(capsys, path, "submit", *[x for kv in args.items() for x in kv]), words)
    assert count(host) == 0
    # a refund's RRN is no sale; a voided sale and a reversed one have nothing to refund
    assert terminal_refund(c, answer, 100) == "00"
    refund_rrn = host.call(lambda a: a.db.execute("SELECT rrn FROM txns WHERE kind='refund'").fetchone()[0])
    refused(run(capsys, path, *submit_args({**answer.fields, 37: refund_rrn}, 100)), "a refund, not a sale")
    voided_req = c.sale(5000, card="credit", pin=None)
    voided = c.exchange(voided_req)
    void = msg.void(
        ACC, c.next_trace(), c.batch, 5000, c.batch, msg.trace_of(voided_req), voided[37], voided[38]
    )
    assert c.exchange(void)[39] == "00"
    refused(run(capsys, path, *submit_args(voided, 100)), "voided")
    reversed_req = c.sale(4000, card="credit", pin=None)
    reversed_answer = c.exchange(reversed_req)
    assert c.exchange(msg.reversal(reversed_req, msg.REVERSE_NO_ANSWER))[39] == "00"
    refused(run(capsys, path, *submit_args(reversed_answer, 100)), "reversed")
    clock.now += datetime.timedelta(days=181)
    refused(run(capsys, path, *submit_args(answer, 100)), "more than 180 days")
    assert count(host) == 0


def test_review_refusals(host, c, path, capsys):
    answer = sale(c)
    assert run(capsys, path, *submit_args(answer, 6000))[0] == 0
    refused(
        run(capsys, path, "review", "1", "--user", "alice", "--approve"), "alice submitted", "another user"
    )
    refused(run(capsys, path, "review", "7", "--user", "bob", "--approve"), "no back-office refund 7")
    refused(run(capsys, path, "review", "1", "--user", "b c", "--approve"), "user id")
    refused(
        run(capsys, path, "review", "1", "--user", "bob", "--approve", "--note", "1234567890123"),
        "card number",
    )
    refused(run(capsys, path, "show", "7"), "no back-office refund 7")
    # a terminal refund came in between: the approval would go over the sale, so it is refused
    assert terminal_refund(c, answer, 5000) == "00"
    refused(
        run(capsys, path, "review", "1", "--user", "bob", "--approve"), "over what is left", "5000 of 10000"
    )
    assert json.loads(run(capsys, path, "show", "1", "--json")[1])["state"] == "submitted"  # still to decide
    assert (
        run(capsys, path, "review", "1", "--user", "bob", "--reject", "--note", "refunded at the till")[0]
        == 0
    )
    assert refunded(host, answer[37]) == 5000
    refused(run(capsys, path, "review", "1", "--user", "bob", "--approve"), "rejected by bob")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["submit", "--user", "a"],
        ["submit", "--user", "a", "--rrn", "1", "--date", "1207", "--terminal", TID]
        + ["--amount", "1", "--reason", "bogus", "--evidence", "x"],
        ["review", "x", "--user", "b", "--approve"],
        ["review", "1", "--user", "b"],
        ["review", "1", "--user", "b", "--approve", "--reject"],
        ["show"],
        ["bogus"],
    ],
)
def test_bad_arguments_get_the_usage_and_exit_2(path, host, capsys, args):
    with pytest.raises(SystemExit) as exited:
        main(["backoffice", "--db", path, *args])
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == "" and "error:" in err and "Traceback" not in err
    assert count(host) == 0


def test_a_missing_or_unusable_ledger_exits_2_without_a_traceback(tmp_path, path, host):
    command = [sys.executable, "-m", "sim.host", "backoffice"]

    def one_line(args):
        result = subprocess.run(command + args, cwd=ROOT, capture_output=True, timeout=60)
        assert result.returncode == 2 and result.stdout == b"", result
        assert result.stderr.startswith(b"backoffice: ") and result.stderr.count(b"\n") == 1, result
        return result.stderr.decode()

    assert one_line(["--db", str(tmp_path / "none.db"), "list"]) == "backoffice: no ledger {}\n".format(
        tmp_path / "none.db"
    )
    (tmp_path / "garbage.db").write_bytes(b"not a database, just bytes" * 100)
    assert "not a database" in one_line(["--db", str(tmp_path / "garbage.db"), "list"])
    # a command line that is not UTF-8: Python keeps the bytes as surrogates, never stored
    args = [a.encode() for a in ["--db", path] + submit_args({37: "000000000001", 13: "1207"}, 1)[:-2]]
    assert one_line(args + [b"--evidence", b"slip \xff\xfe"]) == (
        "backoffice: the evidence holds control characters or bytes that are not UTF-8\n"
    )
    helped = subprocess.run(
        command + ["--db", path, "submit", "-h"], cwd=ROOT, capture_output=True, text=True
    )
    assert helped.returncode == 0 and "商品质量问题" in helped.stdout and "customer return" in helped.stdout


def test_a_ledger_locked_past_the_busy_timeout_is_one_line(path, host, c, capsys):
    answer = sale(c)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the ledger longer than its busy timeout
    try:
        code, out, err = run(capsys, path, *submit_args(answer, 100))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 2 and out == "" and "locked" in err and err.count("\n") == 1
    assert count(host) == 0


# ---- one limit for both channels ---------------------------------------------------------------


def test_a_terminal_refund_over_what_the_back_office_left_gets_35(host, c, path, capsys):
    answer = sale(c)
    run(capsys, path, *submit_args(answer, 7000))
    run(capsys, path, "review", "1", "--user", "bob", "--approve")
    assert terminal_refund(c, answer, 3001) == "35"  # the terminal learns of it only now
    assert terminal_refund(c, answer, 3000) == "00"
    assert terminal_refund(c, answer, 1) == "35"
    assert refunded(host, answer[37]) == 10000
    refused(run(capsys, path, *submit_args(answer, 1)), "over what is left", "0 of 10000")


def test_a_void_and_a_sale_reversal_after_a_back_office_refund_get_12(host, c, path, capsys):
    req = c.sale(8000, card="credit", pin=None)
    answer = c.exchange(req)
    run(capsys, path, *submit_args(answer, 100))
    run(capsys, path, "review", "1", "--user", "bob", "--approve")
    void = msg.void(ACC, c.next_trace(), c.batch, 8000, c.batch, msg.trace_of(req), answer[37], answer[38])
    assert c.exchange(void)[39] == "12"  # a void and a refund never both
    assert c.exchange(msg.reversal(req, msg.REVERSE_NO_ANSWER))[39] == "12"
    assert refunded(host, answer[37]) == 100


def test_the_back_office_refund_counts_in_the_merchants_day(host, c, path, capsys, clock):
    first = sale(c, 10000)
    clock.now += datetime.timedelta(days=1)
    second = sale(c, 5000)
    assert host.call(lambda a: merchant_net(a.db, MID, "2026-12-08")) == 5000
    run(capsys, path, *submit_args(first, 4000))
    run(capsys, path, "review", "1", "--user", "bob", "--approve")
    assert host.call(lambda a: merchant_net(a.db, MID, "2026-12-08")) == 1000
    assert host.call(lambda a: merchant_net(a.db, MID, "2026-12-07")) == 10000  # booked on its review day
    assert terminal_refund(c, second, 2000) == "51"  # 5000 would fit without the back-office refund
    assert terminal_refund(c, second, 1000) == "00"


def test_it_is_in_no_batch_no_settlement_and_no_difference(host, c, path, capsys):
    answer = sale(c, 10000)
    assert terminal_refund(c, answer, 1000) == "00"
    rows_before = host.call(lambda a: ledger_rows(a.ledger))
    run(capsys, path, *submit_args(answer, 2000))
    run(capsys, path, "review", "1", "--user", "bob", "--approve")
    assert host.call(lambda a: ledger_rows(a.ledger)) == rows_before  # sim.host ledger's view: unchanged
    assert host.call(lambda a: a.totals(TID, MID, 1)) == ((10000, 1, 1000, 1), (0, 0, 0, 0))
    # the journal of a terminal that knows its sale and its own refund agrees with the ledger
    journal = [dict(r, state="approved") for r in rows_before]
    assert differences(journal, host.call(lambda a: ledger_rows(a.ledger)), TID) == []
    settled = c.exchange(msg.settlement(ACC, c.next_trace(), c.batch, 10000, 1, 1000, 1))
    assert msg.settlement_result(settled)[0] == msg.BALANCED
    code, out, _ = run(capsys, path, "list", "--json")
    assert json.loads(out)["state"] == "approved"


# ---- a review racing a terminal refund ---------------------------------------------------------


def _review(db, clock, rid, start, found):
    """Approve request rid as bob once start opens; found["office"]: approved or refused."""
    start.wait()
    try:
        with bo.transaction(db):
            bo.review(db, clock, rid, "bob", True)
        found["office"] = "approved"
    except bo.Refused:
        found["office"] = "refused"


def test_a_review_racing_a_terminal_refund_never_books_both(host, c, path):
    ledger = Ledger(path)
    outcomes = set()
    try:
        for _ in range(12):
            answer = sale(c)
            with bo.transaction(ledger.db):
                rid = bo.submit(
                    ledger.db,
                    host.acquirer.clock,
                    "alice",
                    answer[37],
                    answer[13],
                    TID,
                    "6000",
                    "system",
                    "ticket 7",
                )
            start = threading.Barrier(2)
            found = {}
            thread = threading.Thread(
                target=_review, args=(ledger.db, host.acquirer.clock, rid, start, found)
            )
            thread.start()
            start.wait()
            found["terminal"] = terminal_refund(c, answer, 6000)
            thread.join()
            outcomes.add((found["terminal"], found["office"]))
            assert found in (
                {"terminal": "00", "office": "refused"},
                {"terminal": "35", "office": "approved"},
            )
            assert refunded(host, answer[37]) == 6000
    finally:
        ledger.close()
    assert outcomes  # which one wins is up to the scheduler; never both, never neither


# ---- hypothesis: random partial refunds from both channels -------------------------------------

_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("terminal"), st.integers(1, 6000)),
        st.tuples(st.just("submit"), st.integers(1, 6000)),
        st.tuples(st.just("review"), st.integers(0, 7), st.booleans()),
    ),
    max_size=12,
)


def test_both_channels_together_never_exceed_the_sale(host, c, path):
    ledger = Ledger(path)
    db = ledger.db
    clock = host.acquirer.clock

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.integers(1, 10000), _STEPS)
    def check(amount, steps):
        answer = sale(c, amount)
        balance = host.call(lambda a: a.ledger.balance(pan("credit")))  # the sale taken
        left = amount
        pending = []  # (request id, amount)
        for step in steps:
            if step[0] == "terminal":
                code = terminal_refund(c, answer, step[1])
                assert code == ("00" if step[1] <= left else "35"), (step, left)
                left -= step[1] if code == "00" else 0
            elif step[0] == "submit":
                try:
                    with bo.transaction(db):
                        rid = bo.submit(
                            db, clock, "alice", answer[37], answer[13], TID, str(step[1]), "quality", "r 1"
                        )
                    assert step[1] <= left
                    pending.append((rid, step[1]))
                except bo.Refused:
                    assert step[1] > left
            elif pending:
                rid, fen = pending[step[1] % len(pending)]
                try:
                    with bo.transaction(db):
                        bo.review(db, clock, rid, "bob", step[2])
                    assert not step[2] or fen <= left
                    left -= fen if step[2] else 0
                    pending.remove((rid, fen))
                except bo.Refused:
                    assert step[2] and fen > left
            assert 0 <= left and refunded(host, answer[37]) == amount - left
        terminal = host.call(
            lambda a: a.db.execute(
                "SELECT COALESCE(SUM(r.amount), 0) FROM txns r JOIN txns s ON r.orig_id=s.id"
                " WHERE s.rrn=? AND r.kind='refund' AND r.status='ok'",
                (answer[37],),
            ).fetchone()[0]
        )
        office = db.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM backoffice WHERE rrn=? AND state='approved'", (answer[37],)
        ).fetchone()[0]
        assert terminal + office == amount - left <= amount
        assert host.call(lambda a: a.ledger.balance(pan("credit"))) == balance + amount - left

    try:
        check()
    finally:
        ledger.close()


# ---- a ledger written before the back-office table ---------------------------------------------


def test_a_ledger_from_before_the_back_office_table_is_upgraded(tmp_path, capsys, clock):
    path = str(tmp_path / "host" / "ledger.db")
    (tmp_path / "host").mkdir()
    Path(path + ".hashkey").write_bytes(bytes(range(32)))
    old = sqlite3.connect(path)
    old.executescript((ROOT / "tests/host/data/ledger_before_backoffice.sql").read_text())
    old.close()
    assert "backoffice" not in [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")]
    clock.now = datetime.datetime(2026, 12, 8, 9, 0, 0)
    old_sale = {37: "000000000001", 13: "1207"}
    refused(run(capsys, path, *submit_args(old_sale, 7501)), "7500 of 10000")  # its terminal refund counts
    assert run(capsys, path, *submit_args(old_sale, 7000))[:2] == (0, "1\n")
    assert run(capsys, path, "review", "1", "--user", "bob", "--approve")[0] == 0
    h = Host(db=path, clock=clock)
    h.start()
    try:
        client = Client(h.port)
        client.sign_in()
        client.batch = 2
        assert terminal_refund(client, old_sale, 501) == "35"  # the card's hash still matches: not 25
        client.exchange(client.sale(7400, card="credit", pin=None))  # today's net: 7400 - 7000
        assert terminal_refund(client, old_sale, 500) == "51"
        client.exchange(client.sale(100, card="credit", pin=None))
        assert terminal_refund(client, old_sale, 500) == "00"
        client.close()
        assert h.call(lambda a: a.db.execute("SELECT refunded FROM txns WHERE id=1").fetchone()[0]) == 10000
    finally:
        h.stop()
    assert h.errors == []
    code, out, _ = run(capsys, path, "list")
    assert code == 0 and "approved" in out


def test_a_sale_voided_or_reversed_after_the_submit_cannot_be_approved(host, c, path, capsys):
    voided_req = c.sale(5000, card="credit", pin=None)
    voided = c.exchange(voided_req)
    reversed_req = c.sale(4000, card="credit", pin=None)
    reversed_answer = c.exchange(reversed_req)
    assert run(capsys, path, *submit_args(voided, 100))[0] == 0
    assert run(capsys, path, *submit_args(reversed_answer, 100))[0] == 0
    void = msg.void(
        ACC, c.next_trace(), c.batch, 5000, c.batch, msg.trace_of(voided_req), voided[37], voided[38]
    )
    assert c.exchange(void)[39] == "00"  # a submitted request books nothing: the void is allowed
    assert c.exchange(msg.reversal(reversed_req, msg.REVERSE_NO_ANSWER))[39] == "00"
    refused(run(capsys, path, "review", "1", "--user", "bob", "--approve"), "voided")
    refused(run(capsys, path, "review", "2", "--user", "bob", "--approve"), "reversed")
    assert [r["state"] for r in host.call(lambda a: bo.requests(a.db))] == ["submitted", "submitted"]
    assert refunded(host, voided[37]) == refunded(host, reversed_answer[37]) == 0


def test_reviews_in_another_process_while_the_host_books_terminal_refunds(host, c, path, capsys):
    answer = sale(c, 100000)
    for _ in range(3):
        assert run(capsys, path, *submit_args(answer, 30000))[0] == 0
    codes = []

    def reviews():
        for rid in (1, 2, 3):
            command = [sys.executable, "-m", "sim.host", "backoffice", "--db", path, "review", str(rid)]
            result = subprocess.run(
                command + ["--user", "bob", "--approve"], cwd=ROOT, capture_output=True, text=True, timeout=60
            )
            codes.append((result.returncode, result.stderr))

    thread = threading.Thread(target=reviews)
    thread.start()
    terminal = 0
    while thread.is_alive():
        if terminal_refund(c, answer, 100) == "00":
            terminal += 100
    thread.join()
    approved = [r["amount"] for r in host.call(lambda a: bo.requests(a.db)) if r["state"] == "approved"]
    assert [code for code, _ in codes].count(0) == len(approved) and len(codes) == 3
    for code, err in codes:
        assert code == 0 or (code == 2 and "over what is left" in err and err.count("\n") == 1), err
    assert refunded(host, answer[37]) == terminal + sum(approved) <= 100000
