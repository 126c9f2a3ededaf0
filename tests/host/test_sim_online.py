# End to end over loopback TCP: `python -m sim run` scripts against the embedded host (a real
# TcpLink to a real Host), then the host's SQLite ledger, the frames of its --trace (decoded with
# pyiso8583) and every file of the terminal's state directory are checked. CPython only.
import functools
import io
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import iso8583
import pytest

from firmware import journal as J
from firmware.host.codec import decode
from sim import scenario
from sim.__main__ import host_db, main
from sim.board import make_board
from sim.cards import DECK
from sim.host.acquirer import OPENING_BALANCE
from sim.host.ledger import Ledger
from sim.host.server import Host
from sim.link import Route
from sim.storage import DirStorage
from tests.host import pyiso_spec

SPEC = pyiso_spec.spec("0")
DEBIT = DECK["debit"]
PIN = "123456"
PAN = DEBIT.track2.split("=")[0]
SALE = "key ENTER 1 {} ENTER\ninsert debit\nkey {} ENTER\n"


def _sale(amount, pin=PIN):
    return SALE.format(amount, pin)


class Run:
    """A terminal with --state in tmp_path/state (its ledger then in state-host/), traced."""

    def __init__(self, tmp_path):
        self.state = tmp_path / "state"
        self.trace = tmp_path / "trace.jsonl"
        self.tmp = tmp_path
        self.n = 0

    def run(self, text, capsys=None):
        self.n += 1
        script = self.tmp / "script{}.txt".format(self.n)
        script.write_text(text, encoding="utf-8")
        args = ["run", "--quiet", "--lang", "en", "--state", str(self.state), "--trace", str(self.trace)]
        code = main([*args, str(script)])
        assert code == 0, capsys.readouterr().err if capsys else code

    def ledger(self):
        return Ledger(host_db(str(self.state)))

    def txns(self):
        db = sqlite3.connect(host_db(str(self.state)))
        try:
            return db.execute("SELECT trace, kind, amount, status FROM txns ORDER BY id").fetchall()
        finally:
            db.close()

    def requests(self):
        db = sqlite3.connect(host_db(str(self.state)))
        try:
            return db.execute("SELECT mti, trace FROM requests ORDER BY rowid").fetchall()
        finally:
            db.close()

    def balance(self):
        ledger = self.ledger()
        try:
            return ledger.balance(PAN)
        finally:
            ledger.close()

    def frames(self, direction="in"):
        rows = [json.loads(line) for line in self.trace.read_text().splitlines()]
        return [bytes.fromhex(r["hex"]) for r in rows if r["dir"] == direction]

    def journal(self):
        return J.Journal(DirStorage(str(self.state)))


def _check_frames(frames):
    """Every frame the terminal sent decodes with pyiso8583 field by field as with our codec; the
    PAN travels in F35 only, never in a reversal."""
    assert frames
    for frame in frames:
        ours = decode(frame)
        doc, _ = iso8583.decode(frame[2:], SPEC)
        assert doc["t"] == ours.mti
        fields = sorted(int(k) for k in doc if k.isdigit())
        assert fields == sorted(ours.fields)
        for n in fields:
            assert pyiso_spec.from_pyiso(n, doc[str(n)]) == ours.fields[n], (ours, n)
        assert 2 not in ours.fields
        if ours.mti == "0400":
            assert not {26, 35, 36, 52, 53} & set(ours.fields)
            assert PAN.encode() not in frame


def _secrets(frames):
    """What must never be in a file the terminal wrote: the PAN (text and BCD), the track (both
    separators), and each PIN block the terminal sent (bytes and hex)."""
    pan = PAN
    track = DEBIT.track2
    out = [pan.encode(), track.encode(), track.replace("=", "D").encode()]
    out.append(bytes.fromhex(pan + "0" * (len(pan) % 2)))
    out.append(bytes.fromhex("0" * (len(pan) % 2) + pan))
    for frame in frames:
        message = decode(frame)
        if 52 in message.fields:
            block = bytes(message.fields[52])
            out += [block, block.hex().encode(), block.hex().upper().encode()]
    return out


def _scan_state(run):
    """No file under the state directory (keys/ included) holds card data or a PIN block."""
    found = []
    secrets = _secrets(run.frames())
    for root, _, files in os.walk(run.state):
        for name in files:
            data = Path(root, name).read_bytes()
            found += [(name, s) for s in secrets if s in data]
    assert found == []
    # the host's ledger directory too: masked numbers and keyed hashes only
    host_dir = Path(host_db(str(run.state))).parent
    for path in host_dir.iterdir():
        data = path.read_bytes()
        assert PAN.encode() not in data and DEBIT.track2.encode() not in data


def _finish(run):
    _check_frames(run.frames())
    _scan_state(run)


# ---- the happy path ---------------------------------------------------------------------------
def test_sign_in_then_an_approved_sale_with_a_pin_over_tcp(tmp_path, capsys):
    run = Run(tmp_path)
    run.run("expect Not signed in\nexpect Link up\n" + _sale(1234) + "sign\nexpect Approved\nexpect RRN\n"
            "key ENTER\nexpect Signed in\n", capsys)  # fmt: skip
    kinds = [decode(f).mti for f in run.frames()]
    assert kinds == ["0800", "0200", "0820"]  # the sale, then its signature's upload
    assert run.txns() == [(2, "sale", 1234, "ok")]
    assert run.balance() == OPENING_BALANCE - 1234
    assert run.journal().last["state"] == J.APPROVED
    # the stored host parameter is the factory one: the run's port never went into it
    from firmware.params import Params

    assert Params.load(DirStorage(str(run.state))).host == "127.0.0.1:8583"
    _finish(run)


def test_the_ledger_survives_runs_and_reboots_beside_the_state(tmp_path, capsys):
    run = Run(tmp_path)
    run.run(
        _sale(100) + "sign\nexpect Approved\nkey ENTER\nreboot\n" + _sale(200) + "sign\nexpect Approved\n",
        capsys,
    )
    # a result not dismissed before the power went is shown again at the next boot
    run.run("expect Last transaction\nkey ENTER\n" + _sale(300) + "sign\nexpect Approved\n", capsys)
    assert [t[2] for t in run.txns()] == [100, 200, 300]
    assert Path(host_db(str(run.state))).parent == tmp_path / "state-host"
    assert not any(name.startswith("ledger") for name in os.listdir(run.state))
    # a reboot needs no new sign-in (the host kept the working keys, as an acquirer does); a new
    # run's embedded host is a restarted acquirer without them: the terminal signs in first
    assert [decode(f).mti for f in run.frames()] == [
        "0800",
        "0200",
        "0820",
        "0200",
        "0820",
        "0800",
        "0200",
        "0820",
    ]
    _finish(run)


@pytest.mark.parametrize(
    "amount, text",
    [
        (999905, "Do not honour"),
        (999951, "Insufficient funds"),
        (999961, "Amount over limit"),
        (999996, "System malfunction"),
    ],
)
def test_each_declined_magic_amount_shows_its_message_and_books_nothing(tmp_path, capsys, amount, text):
    run = Run(tmp_path)
    run.run(
        _sale(amount) + "expect {}\nkey ENTER\n".format(text) + _sale(100) + "sign\nexpect Approved\n", capsys
    )
    assert run.txns() == [(3, "sale", 100, "ok")]
    assert run.journal().reversal["state"] == J.NONE
    assert not [m for m, _ in run.requests() if m == "0400"]
    _finish(run)


def test_pin_cancelled_sends_no_sale(tmp_path, capsys):
    run = Run(tmp_path)
    run.run("key ENTER 1 500 ENTER\ninsert debit\nkey 1 2 CANCEL\nexpect PIN entry cancelled\n", capsys)
    assert [decode(f).mti for f in run.frames()] == ["0800"]  # the sign-in at the card only
    assert run.txns() == []
    _finish(run)


def test_pin_timed_out_says_so_and_sends_no_sale(tmp_path, capsys):
    run = Run(tmp_path)
    run.run("key ENTER 1 500 ENTER\ninsert debit\nkey 1 2\nwait 61\nexpect PIN entry timed out\n", capsys)
    assert [decode(f).mti for f in run.frames()] == ["0800"]
    assert run.txns() == []
    _finish(run)


def test_wrong_pin_is_declined_55_then_the_right_one_is_approved(tmp_path, capsys):
    run = Run(tmp_path)
    run.run(
        _sale(500, "654321") + "expect Incorrect PIN\nkey ENTER\n" + _sale(500) + "sign\nexpect Approved\n",
        capsys,
    )
    assert run.txns() == [(3, "sale", 500, "ok")]
    assert run.balance() == OPENING_BALANCE - 500
    _finish(run)


def test_host_down_nothing_left_nothing_to_reverse(tmp_path, capsys):
    run = Run(tmp_path)
    run.run(_sale(100) + "sign\nkey ENTER\nhost down\n" + _sale(700) + "expect Host unreachable\nkey ENTER\n"
            "host up\n" + _sale(800) + "sign\nexpect Approved\n", capsys)  # fmt: skip
    assert [t[2] for t in run.txns()] == [100, 800]
    assert "0400" not in [m for m, _ in run.requests()]
    _finish(run)


# ---- each host fault on a sale ----------------------------------------------------------------
FAULTS = [
    ("no-answer", "Waiting for host\nwait 31\nexpect No answer: reversal", "reversed"),
    ("late", "Waiting for host\nwait 31\nexpect No answer: reversal", "reversed"),
    ("drop", "Link broke: reversal", "reversed"),
    ("garbage", "Bad answer: reversal", "reversed"),
    ("bad-mac", "MAC error: reversal", "reversed"),
    ("duplicate", "Signature\nsign\nexpect Approved", "ok"),  # approved: the cardholder signs
]


@pytest.mark.parametrize("kind, shown, status", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_fault_on_a_sale_never_charges_twice_and_its_reversal_clears_at_the_next_sale(
    tmp_path, capsys, kind, shown, status
):
    run = Run(tmp_path)
    text = _sale(100) + "sign\nexpect Approved\nkey ENTER\n"
    text += "host fault {} on 0200\n".format(kind) + _sale(2000) + "expect " + shown + "\n"
    text += "key ENTER\nhost clear\n" + _sale(300) + "sign\nexpect Approved\n"
    run.run(text, capsys)
    txns = run.txns()
    assert [(t[2], t[3]) for t in txns] == [(100, "ok"), (2000, status), (300, "ok")]
    charged = 100 + 300 + (2000 if status == "ok" else 0)
    assert run.balance() == OPENING_BALANCE - charged  # no double charge, nothing charged silently
    mtis = [decode(f).mti for f in run.frames()]
    if status == "reversed":
        faulted = txns[1][0]
        # the reversal went out first at the next sale, carrying the original's trace, and cleared
        assert ("0400", faulted) in run.requests()
        assert mtis.index("0400") < len(mtis) - 2 and mtis[-2:] == ["0200", "0820"]
        assert mtis.count("0400") == 1
    else:
        assert "0400" not in mtis
    assert run.journal().reversal["state"] == J.NONE
    assert run.journal().last["state"] == J.APPROVED
    _finish(run)


def test_every_example_script_sent_frames_pyiso8583_decodes_and_left_no_card_data(tmp_path, capsys):
    scripts = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.txt"))
    online = 0
    for i, script in enumerate(scripts):
        run = Run(tmp_path / str(i))
        run.tmp.mkdir()
        run.run(script.read_text(encoding="utf-8"), capsys)
        if run.trace.stat().st_size:
            online += 1
            _finish(run)
        else:
            _scan_state(run)
    assert online >= 5


# ---- the runner's determinism ------------------------------------------------------------------
class _SlowHost(Host):
    """A host whose every decision takes real time (a busy 2-core machine): the runner must wait
    for it without the virtual clock timing the answer out."""

    def __init__(self, delay, **kw):
        super().__init__(**kw)
        self.delay = delay
        original = self.acquirer.process

        def slow(frame):
            time.sleep(self.delay)
            return original(frame)

        setattr(self.acquirer, "process", slow)  # the acquirer's rules, decided slowly


def _scenario(host):
    route = Route("127.0.0.1", host.port)
    board = make_board(route=route)
    boards = functools.partial(make_board, route=route)
    return scenario.Scenario(board, io.StringIO(), make_board=boards, host=host, route=route), route


def test_a_slow_host_is_waited_for_in_real_time_never_timed_out_by_the_virtual_clock():
    host = _SlowHost(0.3)
    host.start()
    try:
        sc, route = _scenario(host)
        before = sc.board.clock.ticks_ms()
        steps = scenario.parse(
            _sale(1234) + "sign\nexpect 交易成功\n"
        )  # Approved, on the factory (Chinese) screens
        err = io.StringIO()
        assert scenario.run(steps, sc, err) == 0, err.getvalue()
        assert sc.board.clock.ticks_ms() == before  # no virtual time passed while waiting
        assert [f.fate for f in host.history] == ["answered", "answered", "answered"]  # and the 0820
    finally:
        host.stop()


def test_a_host_that_never_decides_fails_the_run_loudly(monkeypatch):
    host = Host()
    host.start()
    gate = threading.Event()
    try:
        original = host.acquirer.process
        monkeypatch.setattr(host.acquirer, "process", lambda frame: (gate.wait(5), original(frame))[1])
        monkeypatch.setattr(scenario, "HOST_WAIT_S", 0.5)
        sc, _ = _scenario(host)
        steps = scenario.parse("key ENTER 1 100 ENTER\ninsert debit\n")
        err = io.StringIO()
        assert scenario.run(steps, sc, err) == 3
        assert "the host decided nothing within" in err.getvalue()
    finally:
        gate.set()
        host.stop()


def test_fault_steps_parse_and_are_refused_when_malformed():
    (step,) = scenario.parse("host fault no-answer on 0200,0400 count 2")
    assert step.args == ("fault", "no-answer", ("0200", "0400"), 2)
    assert scenario.parse("host clear")[0].args == ("clear",)
    assert scenario.parse("LINK Down")[0].args == ("down",)
    assert scenario.parse("host at 10.0.0.5:9000")[0].args == ("at", "10.0.0.5", 9000)
    for bad in ("host fault", "host fault slow", "host fault drop on 02", "host fault drop count x",
                "host fault drop count", "host nap", "link sideways", "host at 10.0.0:80",
                "host at 10.0.0.300:80", "host at 10.0.0.5:0", "host at 10.0.0.5", "host at"):  # fmt: skip
        with pytest.raises(scenario.ScriptError):
            scenario.parse(bad)


def test_offline_has_no_host_and_says_so(tmp_path, capsys):
    script = tmp_path / "s.txt"
    script.write_text("expect Link down\nhost fault drop\nlink down\nkey ENTER 1 100 ENTER\ninsert debit\n"
                      "expect Host unreachable\n")  # fmt: skip
    assert main(["run", "--lang", "en", "--offline", str(script)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "note: no embedded host in this run" in out and "note: no link in this run (--offline)" in out


def test_an_external_host_is_used_by_host_ip_port(tmp_path, capsys):
    host = Host()
    port = host.start()
    try:
        script = tmp_path / "s.txt"
        script.write_text(_sale(4321) + "sign\nexpect Approved\n")
        assert (
            main(["run", "--lang", "en", "--quiet", "--host", "127.0.0.1:{}".format(port), str(script)]) == 0
        )
        assert [t["amount"] for t in host.call(lambda a: a.ledger.txns())] == [4321]
    finally:
        host.stop()
    for bad in (["--host", "nohost"], ["--host", "1.2.3.4:0"], ["--offline", "--trace", "x"]):
        assert main(["run", *bad, str(script)]) == 2
