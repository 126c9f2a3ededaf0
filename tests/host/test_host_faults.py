# The host simulator's faults (each acts on the answer of a request the host processed and booked),
# the control API's fates, and hostile input: oversized, truncated, slow, idle, random and mutated
# frames get an error answer or a closed connection, and the host serves the others all along.
import socket
import sqlite3
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware.host import messages as msg
from firmware.host.codec import ProtocolError, decode, frame_size, mac_input
from sim.host.acquirer import OPENING_BALANCE
from sim.host.server import FaultPlan, Host
from tests.host.host_client import ACC, Client, pan
from tools.mpy_gate import REPO

RUNS = {}


@pytest.fixture
def host():
    h = Host(db=":memory:", frame_s=0.5)
    h.start()
    yield h
    h.stop()
    assert h.errors == []


@pytest.fixture
def c(host):
    client = Client(host.port)
    client.sign_in()
    host.wait_for(1)
    yield client
    client.close()


def balance(host):
    return host.call(lambda a: a.ledger.balance(pan("debit")))


def _fates(host, n=1):
    return [f.fate for f in host.wait_for(n)]


def test_no_answer_withholds_the_answer_but_books_the_sale(host, c):
    host.set_fault("no-answer")
    sale = c.sale(1000)
    c.send(c.frame(sale))
    f = host.wait_for(1)[0]
    assert (f.fate, f.mti, f.kind, f.trace, f.code) == ("withheld", "0200", "sale", msg.trace_of(sale), "00")
    assert balance(host) == OPENING_BALANCE - 1000  # booked as on a host whose answer was lost
    # the connection still works and the next thing on it is the echo's answer, not the sale's
    assert c.exchange(msg.echo(ACC, 1))[39] == "00"
    assert _fates(host) == ["answered"]  # a fault count of 1: the echo is not financial anyway
    assert c.exchange(msg.reversal(sale, msg.REVERSE_NO_ANSWER))[39] == "00"
    assert balance(host) == OPENING_BALANCE


def test_late_holds_the_answer_until_released(host, c):
    host.set_fault("late", late_ms=60_000)
    sale = c.sale(1000)
    c.send(c.frame(sale))
    assert _fates(host) == ["late"]
    host.release_late()
    answer = decode(c.read_frame())
    assert answer[39] == "00" and answer[11] == sale[11]
    host.set_fault("late", late_ms=1)
    assert c.exchange(c.sale(1000))[39] == "00"  # a short late_ms answers by itself


def test_drop_closes_the_connection(host, c):
    host.set_fault("drop")
    c.send(c.frame(c.sale(1000)))
    assert _fates(host) == ["dropped"]
    assert c.read_frame() == b""
    assert balance(host) == OPENING_BALANCE - 1000
    again = Client(host.port)
    assert again.exchange(msg.echo(ACC, 1))[39] == "00"


def test_garbage_is_a_whole_frame_that_does_not_decode(host, c):
    host.set_fault("garbage", seed=7)
    c.send(c.frame(c.sale(1000)))
    assert _fates(host) == ["garbled"]
    frame = c.read_frame()
    with pytest.raises(ProtocolError):
        decode(frame)
    assert balance(host) == OPENING_BALANCE - 1000


def test_bad_mac_answer(host, c):
    host.set_fault("bad-mac")
    c.send(c.frame(c.sale(1000)))
    assert _fates(host) == ["bad_mac"]
    frame = c.read_frame()
    answer = decode(frame)
    assert answer[39] == "00" and answer[64] != c.mac(mac_input(frame))
    # bad-mac only hits answers with F64: the echo passes it by and the fault is still armed
    assert c.exchange(msg.echo(ACC, 1))[39] == "00"
    host.set_fault("bad-mac", on="0830")
    assert c.exchange(msg.echo(ACC, 1))[39] == "00"


def test_duplicate_sends_the_answer_twice(host, c):
    host.set_fault("duplicate")
    c.send(c.frame(c.sale(1000)))
    assert _fates(host) == ["duplicated"]
    first, second = c.read_frame(), c.read_frame()
    assert first == second and decode(first)[39] == "00"
    assert balance(host) == OPENING_BALANCE - 1000


def test_count_zero_rate_seed_and_the_mti_filter(host, c):
    host.set_fault("no-answer", count=2)
    for _ in range(3):
        c.send(c.frame(c.sale(10)))
    assert _fates(host, 3) == ["withheld", "withheld", "answered"]
    c.read_frame()
    host.set_fault("duplicate", on="0220")
    assert c.exchange(c.sale(10))[39] == "00"
    assert _fates(host) == ["answered"]
    host.set_fault("no-answer", count=0, on=("0200",))
    for _ in range(3):
        c.send(c.frame(c.sale(10)))
    assert _fates(host, 3) == ["withheld"] * 3
    host.clear_faults()
    assert c.exchange(c.sale(10))[39] == "00"
    assert _fates(host) == ["answered"]
    # the same seed picks the same requests
    picks = []
    for _ in range(2):
        plan = FaultPlan("drop", rate=0.5, seed=42)
        picks.append([plan.decide(_Sale()) for _ in range(40)])
    assert picks[0] == picks[1] and 5 < picks[0].count("drop") < 35
    with pytest.raises(ValueError):
        host.set_fault("explode")
    with pytest.raises(ValueError):
        host.set_fault("drop", on="sale")


class _Sale:
    mti = "0200"
    kind = "sale"
    answer = b""


def test_the_command_line_fault(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.host", "--fault", "drop", "--fault-count", "1", "--db", ":memory:"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        c = Client(port)
        c.sign_in()
        c.send(c.frame(c.sale(100)))
        assert c.read_frame() == b""
        c = Client(port)
        c.sign_in()
        assert c.exchange(c.sale(100))[39] == "00"
    finally:
        proc.terminate()
        proc.wait(10)


# ---- hostile input ----------------------------------------------------------------------------
def _raw(host, data, shut=True):
    """Send data on a new connection (then end it); every frame the host sent back, and whether it
    closed the connection."""
    s = socket.create_connection(("127.0.0.1", host.port), timeout=10)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    frames = []
    while got:
        size = frame_size(got[:2])
        frames.append(got[:size])
        got = got[size:]
    return frames


def test_a_locked_ledger_fails_that_request_only(tmp_path):
    path = str(tmp_path / "l" / "host.db")
    h = Host(db=path, busy_s=0.05)
    h.start()
    try:
        c = Client(h.port)
        c.sign_in()
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the file
        c.send(c.frame(c.sale(100)))
        assert c.read_frame() == b""  # no answer it could not make durable: closed
        assert h.errors == ["OperationalError"]
        other.execute("ROLLBACK")
        other.close()
        c = Client(h.port)
        c.sign_in()
        assert c.exchange(c.sale(100))[39] == "00"
        h.errors.clear()
    finally:
        h.stop()


def test_oversized_and_truncated_frames_close_that_connection_only(host, c):
    assert _raw(host, b"\xff\xff" + bytes(100), shut=False) == []
    assert _fates(host) == ["closed"]
    assert _raw(host, c.frame(c.sale(10))[:30]) == []
    assert _fates(host) == ["closed"]
    assert _raw(host, b"\x00\x05hello", shut=False) == []  # shorter than any message
    assert c.exchange(msg.echo(ACC, 1))[39] == "00"


def test_a_frame_that_does_not_decode_gets_30(host, c):
    frame = bytearray(c.frame(msg.echo(ACC, 1)))
    frame[15] |= 0x80  # a secondary bitmap: refused
    answers = _raw(host, bytes(frame))
    assert [decode(a)[39] for a in answers] == ["30"] and decode(answers[0]).mti == "0830"
    assert _fates(host) == ["rejected"]
    answer_mti = bytearray(c.frame(msg.echo(ACC, 1)))
    answer_mti[13:15] = b"\x08\x30"  # an answer sent to the host: not a request, closed
    assert _raw(host, bytes(answer_mti)) == []


def test_a_slow_sender_is_closed_and_blocks_no_one(host, c):
    s = socket.create_connection(("127.0.0.1", host.port), timeout=10)
    s.sendall(c.frame(msg.echo(ACC, 1))[:10])  # then nothing: the host's frame_s (0.5 s) runs out
    assert c.exchange(msg.echo(ACC, 1))[39] == "00"  # meanwhile others are served
    assert s.recv(100) == b""
    s.close()


def test_many_idle_connections_block_no_one(host, c):
    # from other addresses than c's: one address's idlest connection would be closed at 64 (c)
    sources = [("127.0.0.{}".format(2 + i % 8), 0) for i in range(200)]
    idle = [socket.create_connection(("127.0.0.1", host.port), timeout=10, source_address=s) for s in sources]
    try:
        assert c.exchange(c.sale(10))[39] == "00"
        other = Client(host.port)
        assert other.exchange(msg.echo(ACC, 1))[39] == "00"
    finally:
        for s in idle:
            s.close()


def _count(name):
    RUNS[name] = RUNS.get(name, 0) + 1


@pytest.fixture(scope="module")
def fuzz_host():
    h = Host(db=":memory:", frame_s=0.5)
    h.start()
    c = Client(h.port)
    c.sign_in()
    yield h, c
    c.close()
    h.stop()


def _still_serves(h, c):
    assert c.exchange(msg.echo(ACC, 1))[39] == "00"
    assert h.errors == []  # nothing raised inside the host either


def _check_answers(frames):
    for frame in frames:
        decode(frame)  # whatever the host sends back is a whole frame that decodes
        assert decode(frame).get(39) is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_random_bytes_against_the_running_host(fuzz_host, data):
    _count("random bytes")
    h, c = fuzz_host
    _check_answers(_raw(h, data))
    _still_serves(h, c)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.integers(0, 3),
    edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 400),
    fix_length=st.booleans(),
)
def test_mutated_frames_against_the_running_host(fuzz_host, which, edits, cut, fix_length):
    _count("mutated frames")
    h, c = fuzz_host
    trace = 500000 + RUNS["mutated frames"]
    sale = c.sale(1, card="credit", pin=None, trace=trace)
    base = [
        c.frame(sale),
        c.frame(msg.echo(ACC, 1)),
        c.frame(msg.reversal(sale, msg.REVERSE_NO_ANSWER)),
        c.frame(msg.settlement(ACC, trace, 1, 1, 1, 0, 0)),
    ][which]
    frame = bytearray(base[: max(cut, 2)])
    for at, value in edits:
        if at < len(frame):
            frame[at] = value
    if fix_length and len(frame) >= 2:
        frame[0:2] = (len(frame) - 2).to_bytes(2, "big")
    _check_answers(_raw(h, bytes(frame)))
    _still_serves(h, c)


def test_fuzz_counts(capsys):
    with capsys.disabled():
        for name in ("random bytes", "mutated frames"):
            print("\nhost under {}: {} hypothesis examples".format(name, RUNS.get(name, 0)))
    assert RUNS.get("random bytes", 0) >= 100 and RUNS.get("mutated frames", 0) >= 200
