# The host simulator as a server: the command line's one line, sign-in under the TMK checked by the
# terminal's own DES (hal/soft/des.py), MACs both ways, the ledger's durability settings and what it never
# stores, the provisioning loader, the frame trace. Every test runs a real server on 127.0.0.1:0.
import json
import os
import socket
import sqlite3
import subprocess
import sys

import pytest

from firmware.host import messages as msg
from firmware.host.codec import decode
from sim.host import crypto
from sim.host.ledger import Ledger, LedgerError
from sim.host.provisioning import Provisioning, ProvisioningError, parse
from sim.host.server import Host
from tests.host.host_client import ACC, TID, Client, pan, track2
from tests.portable import vectors
from tools.mpy_gate import REPO

H = bytes.fromhex


@pytest.fixture
def host(tmp_path):
    h = Host(db=str(tmp_path / "ledger" / "host.db"), trace=str(tmp_path / "trace.jsonl"))
    h.start()
    yield h
    h.stop()
    assert h.errors == []


@pytest.fixture
def client(host):
    c = Client(host.port)
    c.sign_in()
    yield c
    c.close()


def _host_process(*args):
    """`python -m sim.host ARGS...` in the background, its output piped."""
    cmd = [sys.executable, "-m", "sim.host", *args]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_command_line_prints_its_one_line_and_serves(tmp_path):
    proc = _host_process("--port", "0", "--db", str(tmp_path / "db" / "l.db"))
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:") and line.endswith("\n")
        port = int(line.rsplit(":", 1)[1])
        c = Client(port)
        assert c.sign_in()[39] == "00"
        assert c.exchange(c.sale(100))[39] == "00"
        c.close()
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.stdout.read() == ""  # one line, nothing else (no key, no card data)
    bad = subprocess.run(
        [sys.executable, "-m", "sim.host", "serve", "--fault", "nonsense"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    # --bind: an address this machine does not have is one line on stderr and exit 2, no traceback
    unbound = subprocess.run(
        [sys.executable, "-m", "sim.host", "--bind", "192.0.2.1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert unbound.returncode == 2 and unbound.stderr.startswith("host: ") and unbound.stderr.count("\n") == 1
    assert unbound.stdout == ""


def test_bind_listens_on_the_address_given():
    proc = _host_process("--bind", "127.0.0.2", "--port", "0")
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on 127.0.0.2:"), line
        port = int(line.rsplit(":", 1)[1])
        c = Client(port, address="127.0.0.2")
        assert c.sign_in()[39] == "00"
        c.close()
        # not on 127.0.0.1: the listener is the one address asked for
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_sign_in_keys_decrypt_under_the_tmk_with_the_terminals_own_des(host):
    c = Client(host.port)
    answer = c.sign_in()  # the client checks both check values with hal.soft.des.check_value
    assert answer[60] == "00000001003" and len(answer[62]) == 40
    assert len(answer[12]) == 6 and len(answer[13]) == 4 and answer[11] == "000001"
    # the host's batch: after a settlement of batch 1 it says 2
    c.exchange(msg.settlement(ACC, c.next_trace(), 1, 0, 0, 0, 0))
    assert c.sign_in()[60] == "00000002003"
    track = msg.sign_in(ACC, c.next_trace(), 2)
    track[60] = "00000002004"
    keys = msg.working_keys(c.exchange(track))
    assert keys.track_key and len(keys.track_check) == 4
    single = msg.sign_in(ACC, c.next_trace(), 2)
    single[60] = "00000002001"
    assert c.exchange(single)[39] == "12"  # single-length keys are not issued
    c.close()


def test_echo_and_sign_off(client):
    assert client.exchange(msg.echo(ACC, 1))[39] == "00"
    assert client.exchange(msg.sign_off(ACC, client.next_trace(), 1))[39] == "00"
    # signed off: the next financial request has no key to be checked with
    answer = client.exchange(client.sale(100))
    assert answer[39] == "A0" and 64 not in answer


def test_a_bad_or_missing_mac_is_answered_a0_and_books_nothing(host, client):
    sale = client.sale(100)
    frame = bytearray(client.frame(sale))
    frame[-1] ^= 1
    client.send(bytes(frame))
    answer = decode(client.read_frame())
    assert answer[39] == "A0" and 64 not in answer
    unsigned = client.sale(100)
    del unsigned[64]
    assert client.exchange(unsigned)[39] == "A0"
    assert host.call(lambda a: a.ledger.txns()) == []
    assert client.exchange(client.sale(100))[39] == "00"


def test_an_unknown_terminal_or_merchant_is_03(host, client):
    other = Client(host.port, msg.Acceptor("10000009", ACC.merchant_id))
    assert other.exchange(msg.echo(other.acc, 1))[39] == "03"
    wrong = Client(host.port, msg.Acceptor(TID, "898100012349999"))
    assert wrong.exchange(msg.echo(wrong.acc, 1))[39] == "03"
    slash = Client(host.port, msg.Acceptor("../../xy", ACC.merchant_id))
    assert slash.exchange(msg.echo(slash.acc, 1))[39] == "03"


def test_the_ecb_mac_algorithm_of_a_terminal(tmp_path):
    prov = tmp_path / "prov"
    prov.mkdir()
    (prov / "10000002.json").write_text(
        json.dumps(
            {
                "terminal_id": "10000002",
                "merchant_id": "898100012340002",
                "tmk": "11" * 16,
                "mac_algorithm": "ecb",
            }
        )
    )
    h = Host(provisioning=str(prov))
    h.start()
    try:
        c = Client(h.port, msg.Acceptor("10000002", "898100012340002"), H("11" * 16), "ecb")
        c.sign_in()
        answer = c.exchange(c.sale(100))  # MACs checked both ways with the ECB MAC
        assert answer[39] == "00" and all(0x30 <= b <= 0x46 for b in answer[64])
    finally:
        h.stop()


def test_the_hosts_macs_match_the_frozen_vectors():
    mak = H(vectors.MAC_KEY)
    for message, x919, f64 in vectors.MACS:
        assert crypto.x919_mac(mak, H(message)) == H(x919)
        assert crypto.pos_ecb_mac(mak, H(message)) == f64.encode()
    example = H(vectors.ECB_MAC_EXAMPLE_MAB)
    assert crypto.pos_ecb_mac(H(vectors.ECB_MAC_EXAMPLE_MAK), example) == vectors.ECB_MAC_EXAMPLE_F64.encode()
    assert crypto.x919_mac(H(vectors.ECB_MAC_EXAMPLE_MAK), example) == H(vectors.X919_OF_EXAMPLE)
    for key, kcv in vectors.CHECK_VALUES:
        assert crypto.check_value(H(key)) == H(kcv)
    for pin, p, _, encrypted in vectors.PIN_BLOCKS:
        assert crypto.pin_block(H(vectors.PIN_KEY), pin, p) == H(encrypted)
        assert crypto.pin_from_block(H(vectors.PIN_KEY), H(encrypted), p) == pin
    assert crypto.pin_from_block(H(vectors.PIN_KEY), bytes(8), "6217001234567895675") is None


def test_the_host_never_uses_the_terminals_crypto():
    for name in os.listdir(os.path.join(REPO, "sim", "host")):
        if name.endswith(".py"):
            with open(os.path.join(REPO, "sim", "host", name), encoding="utf-8") as f:
                source = f.read()
            assert (
                "hal.soft.des" not in source and "hal.soft.mac" not in source and "hal import" not in source
            ), name


def test_the_ledger_is_durable_and_holds_no_card_data(host, client, tmp_path):
    assert client.exchange(client.sale(100))[39] == "00"
    assert client.exchange(client.sale(200, card="credit", pin=None))[39] == "00"
    path = str(tmp_path / "ledger" / "host.db")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    dump = "\n".join(db.iterdump()).encode()
    raw = b"".join(open(p, "rb").read() for p in (path, path + "-wal") if os.path.exists(p))
    for name in ("debit", "credit"):
        for blob in (dump, raw):
            assert pan(name).encode() not in blob and track2(name).split("=")[1].encode() not in blob
    assert b"621700*********5675" in dump
    assert host.call(lambda a: a.db.execute("PRAGMA synchronous").fetchone()[0]) == 2  # FULL
    assert host.call(lambda a: a.ledger.balance(pan("debit"))) == 5_000_000 - 100
    keys = host.acquirer.keys[TID]
    for key in (keys.pik, keys.mak, H("0123456789ABCDEFFEDCBA9876543210")):
        assert key not in raw
    db.close()


def test_the_ledger_refuses_a_terminals_storage_directory(tmp_path):
    (tmp_path / "params.a").write_bytes(b"x")
    with pytest.raises(LedgerError):
        Ledger(str(tmp_path / "host.db"))
    Ledger(str(tmp_path / "own" / "host.db")).close()


def test_the_ledger_survives_a_restart(tmp_path):
    path = str(tmp_path / "l" / "host.db")
    h = Host(db=path)
    h.start()
    c = Client(h.port)
    c.sign_in()
    sale = c.sale(100)
    first = c.exchange(sale)
    h.stop()
    h = Host(db=path)
    h.start()
    try:
        c = Client(h.port)
        assert c.exchange(msg.echo(ACC, 1))[39] == "00"
        c.sign_in()  # working keys are in RAM only: a restarted host needs a sign-in
        c.trace = 1
        again = c.sale(100, trace=2)
        answer = c.exchange(again)  # the same request, remembered across the restart
        assert answer[37] == first[37] and answer[38] == first[38]
        assert h.call(lambda a: a.ledger.balance(pan("debit"))) == 5_000_000 - 100
    finally:
        h.stop()


def test_a_ledger_whose_hash_key_is_lost_is_refused_not_rekeyed(tmp_path):
    # A new key would leave every booked card hash unmatchable (a void of those sales: "another
    # card"): the ledger is refused with a line saying why. An empty ledger may take a new key.
    path = str(tmp_path / "l" / "host.db")
    h = Host(db=path)
    h.start()
    try:
        c = Client(h.port)
        c.sign_in()
        assert c.exchange(c.sale(100))[39] == "00"
    finally:
        h.stop()
    os.remove(path + ".hashkey")
    with pytest.raises(LedgerError) as e:
        Ledger(path)
    assert "hashkey is missing" in str(e.value)
    assert not os.path.exists(path + ".hashkey")  # nothing written
    empty = str(tmp_path / "e" / "host.db")
    Ledger(empty).close()
    os.remove(empty + ".hashkey")
    Ledger(empty).close()  # no booked transaction: a new key harms nothing
    assert os.path.exists(empty + ".hashkey")


def test_provisioning_files():
    prov = Provisioning()
    t = prov.terminal(TID)
    assert t.merchant_id == ACC.merchant_id and t.mac_algorithm == "x919" and len(t.tmk) == 16
    assert "0123456789" not in repr(t).upper()
    assert prov.terminal("99999999") is None and prov.terminal("../x") is None
    good = {"terminal_id": "10000003", "merchant_id": "898100012340003", "tmk": "AB" * 16}
    assert parse(good).mac_algorithm == "x919"
    bad = (("tmk", "AB" * 15), ("terminal_id", "1"), ("merchant_id", 5), ("mac_algorithm", "cbc"))
    for key, value in bad:
        with pytest.raises(ProvisioningError) as e:
            parse(dict(good, **{key: value}))
        assert "AB" not in str(e.value)


def test_the_trace_has_one_json_line_per_frame_both_ways(host, client, tmp_path):
    client.exchange(msg.echo(ACC, 1))
    host.stop()
    lines = (tmp_path / "trace.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["dir"] for r in records] == ["in", "out", "in", "out"]
    for r in records:
        assert sorted(r) == ["dir", "hex", "peer", "t"]
        assert r["peer"].startswith("127.0.0.1:") and r["hex"] == r["hex"].lower()
        frame = bytes.fromhex(r["hex"])
        assert int.from_bytes(frame[:2], "big") == len(frame) - 2
        decode(frame)
        assert r["t"].endswith("+00:00") and "T" in r["t"]
    assert decode(bytes.fromhex(records[3]["hex"])).mti == "0830"


def test_the_trace_shows_faulted_answers_as_sent(tmp_path):
    path = tmp_path / "t.jsonl"
    h = Host(trace=str(path))
    h.start()
    try:
        c = Client(h.port)
        c.sign_in()
        h.set_fault("duplicate")
        c.send(c.frame(c.sale(100)))
        first, second = c.read_frame(), c.read_frame()
        h.set_fault("no-answer")
        c.send(c.frame(c.sale(100)))
        h.wait_for(3)
    finally:
        h.stop()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["dir"] for r in records] == ["in", "out", "in", "out", "out", "in"]
    assert records[3]["hex"] == records[4]["hex"] == first.hex() == second.hex()
