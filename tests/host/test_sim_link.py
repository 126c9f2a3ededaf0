# The simulator's TCP link against a real echo server on 127.0.0.1 (an ephemeral port), through
# the same Link conformance check as every other link: non-blocking, start-then-poll.
import socket
import socketserver
import threading
import time

import pytest

from hal.contracts import LinkError
from sim.link import Route, RoutedTcpLink, TcpLink
from tests.portable import conformance


class _Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


@pytest.fixture
def echo_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address
    finally:
        server.shutdown()
        server.server_close()


def _refused_port():
    """A port on 127.0.0.1 where nothing listens (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tcp_link_conformance(echo_server):
    host, port = echo_server
    conformance.check_link(
        TcpLink,
        (host, port),
        wait=lambda: time.sleep(0.001),
        refused=("127.0.0.1", _refused_port()),
    )


def test_tcp_link_reports_the_host_closing(echo_server):
    class CloseAtOnce(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.close()

    server = socketserver.TCPServer(("127.0.0.1", 0), CloseAtOnce)
    threading.Thread(target=server.handle_request, daemon=True).start()
    link = TcpLink()
    try:
        link.open(*server.server_address)
        for _ in range(5000):
            if link.poll_open():
                break
            time.sleep(0.001)
        with pytest.raises(LinkError):
            for _ in range(5000):
                link.recv(10)  # b"" until the close arrives, then LinkError
                time.sleep(0.001)
        with pytest.raises(LinkError):
            link.send(b"x")  # the stream is closed now
    finally:
        link.close()
        server.server_close()


def test_tcp_link_refuses_a_name_that_would_need_a_lookup():
    with pytest.raises(LinkError):
        TcpLink().open("host.example", 5000)  # a DNS lookup would block the event loop


def test_routed_tcp_link_conformance_whatever_address_the_firmware_asks_for(echo_server):
    # The simulator board's link: the stored host parameter says 10.9.9.9:8583; the run's route
    # takes every connection to the echo server (sim/board.py, docs/SCENARIOS.md).
    route = Route(*echo_server)
    conformance.check_link(lambda: RoutedTcpLink(route), ("10.9.9.9", 8583), wait=lambda: time.sleep(0.001))
    assert route.sent > 0


def test_routed_tcp_link_host_down_refuses_and_link_down_is_offline(echo_server):
    route = Route(*echo_server)
    link = RoutedTcpLink(route)
    try:
        route.host_down = True
        link.open("127.0.0.1", 8583)
        with pytest.raises(LinkError):
            for _ in range(5000):
                assert link.poll_open() is None
                time.sleep(0.001)
            raise AssertionError("never refused")  # noqa: TRY301 - reached only if it never fails
        route.host_down = False
        route.link_down = True
        assert link.online() is False
        with pytest.raises(LinkError):
            link.open("127.0.0.1", 8583)
        route.link_down = False
        assert link.online() is True
        link.open("127.0.0.1", 8583)
        for _ in range(5000):
            if link.poll_open():
                break
            time.sleep(0.001)
        assert link.poll_open() is True
    finally:
        link.close()
        route.close()


def test_routed_tcp_link_host_at_refuses_every_other_address(echo_server):
    # `host at IP:PORT`: the run's host answers only at that address (the terminal's host
    # parameter), any other is refused; the connection still goes to the run's host.
    route = Route(*echo_server)
    route.at = ("10.0.0.5", 9000)
    link = RoutedTcpLink(route)
    try:
        link.open("127.0.0.1", 8583)
        with pytest.raises(LinkError):
            for _ in range(5000):
                assert link.poll_open() is None
                time.sleep(0.001)
            raise AssertionError("never refused")  # noqa: TRY301 - reached only if it never fails
        link.open("10.0.0.5", 9000)
        for _ in range(5000):
            if link.poll_open():
                break
            time.sleep(0.001)
        assert link.poll_open() is True
    finally:
        link.close()
        route.close()
