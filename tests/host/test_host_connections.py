# The host's connection bounds: every simulator terminal comes from one
# loopback address, so the host bounds the connections of one address (--max-per-peer) and of all
# (--max-connections) and, when full, closes the idlest (of that address, else of all), never the
# new one; out of file descriptors (EMFILE on accept) it closes its idlest connections and goes on.
# Other peers are other loopback addresses (127.0.0.x: the whole 127/8 is this machine's on Linux).
import resource
import socket
import subprocess
import sys

from firmware.host import messages as msg
from sim.host.server import MAX_PER_PEER, Host
from tests.host.host_client import ACC, Client
from tools.mpy_gate import REPO


def _connect(port, source):
    return socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))


def _closed(sock, within=5.0):
    """Whether the host closed sock (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _open(sock):
    """Whether sock is still open at the host's end (nothing to read, no EOF)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False
    finally:
        sock.setblocking(True)


def _sale(port, source="127.0.0.1", timeout=10.0):
    c = Client(port, source=source, timeout=timeout)
    try:
        assert c.sign_in()[39] == "00"
        assert c.exchange(c.sale(100))[39] == "00"
        assert c.exchange(msg.echo(ACC, c.next_trace()))[39] == "00"
    finally:
        c.close()


def test_one_address_over_its_limit_closes_its_own_idlest():
    host = Host(db=":memory:")
    host.start()
    other = _connect(host.port, "127.0.0.2")  # the idlest of all, but another peer
    mine = [_connect(host.port, "127.0.0.1") for _ in range(MAX_PER_PEER)]
    seller = Client(host.port)  # the limit + 1 from 127.0.0.1: taken, its idlest closed for it
    try:
        assert seller.sign_in()[39] == "00"
        assert seller.exchange(seller.sale(100))[39] == "00"
        assert _closed(mine[0])
        assert all(_open(s) for s in mine[1:]) and _open(other)
        _sale(host.port)  # and one more: the next idlest (not the seller, just active)
        assert _closed(mine[1]) and _open(mine[2]) and _open(other)
        assert seller.sign_in()[39] == "00"  # (that sale's sign-in replaced the terminal's keys)
        assert seller.exchange(seller.sale(100))[39] == "00"
    finally:
        seller.close()
        for s in [other, *mine]:
            s.close()
        host.stop()
    assert host.errors == []


def test_a_full_host_closes_the_idlest_of_all_never_the_new_one():
    host = Host(db=":memory:", max_connections=100)
    host.start()
    idle = [_connect(host.port, "127.0.0.{}".format(2 + i % 10)) for i in range(200)]  # 20 from each
    try:
        _sale(host.port)
        # each over 100 closed the idlest of all: the first 101 (the 101st for the sale)
        assert all(_closed(s) for s in idle[:101])
        assert all(_open(s) for s in idle[101:])
    finally:
        for s in idle:
            s.close()
        host.stop()
    assert host.errors == []


def test_many_peers_under_the_bounds_are_all_served():
    host = Host(db=":memory:")
    host.start()
    clients = [Client(host.port, source="127.0.0.{}".format(2 + i % 10)) for i in range(200)]
    try:
        for c in clients[::20]:
            assert c.sign_in()[39] == "00"
        for c in clients:
            assert c.exchange(msg.echo(ACC, c.next_trace()))[39] == "00"
        _sale(host.port)
    finally:
        for c in clients:
            c.close()
        host.stop()
    assert host.errors == []


# The host in a process whose descriptor limit is low: its idle connections take every descriptor.
CHILD = """\
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from sim.host.__main__ import main
sys.exit(main(sys.argv[2:]))
"""
FD_LIMIT = 48


def test_out_of_file_descriptors_the_host_closes_its_idlest_and_serves():
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] > 4 * FD_LIMIT  # this test's own sockets
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(FD_LIMIT), "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    idle = []
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        # twice as many as it has descriptors for; the sale's connection is accepted after them
        idle = [_connect(port, "127.0.0.{}".format(2 + i % 4)) for i in range(2 * FD_LIMIT)]
        _sale(port, timeout=5.0)
        _sale(port, timeout=5.0)
        assert _closed(idle[0])  # the idlest went first
        assert proc.poll() is None  # still serving
    finally:
        for s in idle:
            s.close()
        proc.terminate()
        proc.wait(10)
    err = proc.stderr.read()
    assert err.count("out of file descriptors") == 1, err  # said once
    assert err.count("\n") == 1, err  # and nothing else: no traceback, no log per retry


def test_the_command_line_bounds():
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.host", "--port", "0", "--max-per-peer", "2", "--max-connections", "4"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    socks, clients = [], []
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        a, b, other = _connect(port, "127.0.0.1"), _connect(port, "127.0.0.1"), _connect(port, "127.0.0.2")
        socks += [a, b, other]
        seller = Client(port)  # the third from 127.0.0.1: over 2 for it, its idlest (a) closed
        clients.append(seller)
        assert seller.sign_in()[39] == "00" and seller.exchange(seller.sale(100))[39] == "00"
        assert _closed(a) and _open(b) and _open(other)
        third = _connect(port, "127.0.0.3")  # b, other, seller, third: 4 in all
        socks.append(third)
        buyer = Client(port, source="127.0.0.4")  # over 4 in all: the idlest of all (b) closed
        clients.append(buyer)
        assert buyer.sign_in()[39] == "00" and buyer.exchange(buyer.sale(100))[39] == "00"
        assert _closed(b) and _open(other) and _open(third)
        assert seller.sign_in()[39] == "00" and seller.exchange(seller.sale(100))[39] == "00"
    finally:
        for s in socks:
            s.close()
        for c in clients:
            c.close()
        proc.terminate()
        proc.wait(10)
    for bad in ("--max-per-peer", "--max-connections"):
        run = subprocess.run(
            [sys.executable, "-m", "sim.host", bad, "0"], cwd=REPO, capture_output=True, text=True, timeout=30
        )
        assert run.returncode == 2 and run.stderr.startswith("host: ") and run.stderr.count("\n") == 1
