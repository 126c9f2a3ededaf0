# The simulator's host link: a real TCP socket, non-blocking, as an ESP32 socket with
# setblocking(False) behaves. CPython only; never imported by firmware/ or hal/.
import errno
import select
import socket

from hal.contracts import LINK_WIFI, Link, LinkError

_SEND_CHUNK = 4096  # bytes offered to the socket per write: a small device's TCP window


class TcpLink(Link):
    """Link over TCP/IP. open() starts a non-blocking connect to a numeric address; poll_open(),
    send()/flush() and recv() never wait (select with a zero timeout, EAGAIN means "not yet")."""

    lacks = {LINK_WIFI: "the PC's own network: nothing to join"}

    def __init__(self):
        self._sock = None
        self._poller = None
        self._open = False
        self._out = b""

    def online(self):
        return True  # the PC's network: a failure shows as a refused or failed connection

    def open(self, host, port):
        self.close()
        try:
            # Numeric addresses only: a name lookup would block the event loop.
            info = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
        except (OSError, UnicodeError) as exc:
            raise LinkError("bad host address: {}".format(type(exc).__name__)) from None
        family, kind, proto, _, address = info[0]
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            sock.connect(address)
        except BlockingIOError:
            pass  # EINPROGRESS: poll_open() tells how it ends
        except OSError as exc:
            sock.close()
            raise LinkError("cannot connect: {}".format(_reason(exc))) from None
        self._sock = sock
        self._poller = select.poll()
        self._poller.register(sock, select.POLLOUT)

    def poll_open(self):
        if self._open:
            return True
        if self._sock is None:
            raise LinkError("link not opened")
        if not self._poller.poll(0):
            return None
        err = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self.close()
            raise LinkError("cannot connect: {}".format(errno.errorcode.get(err, err)))
        self._open = True
        return True

    def send(self, data):
        self._check_open()
        self._out += bytes(data)
        self.flush()

    def flush(self):
        self._check_open()
        while self._out:
            try:
                n = self._sock.send(self._out[:_SEND_CHUNK])
            except BlockingIOError:
                break  # the socket's buffer is full: the rest goes on a later flush()
            except OSError as exc:
                self.close()
                raise LinkError("send failed: {}".format(_reason(exc))) from None
            self._out = self._out[n:]
        return len(self._out)

    def recv(self, max_bytes):
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self._check_open()
        try:
            data = self._sock.recv(max_bytes)
        except BlockingIOError:
            return b""
        except OSError as exc:
            self.close()
            raise LinkError("receive failed: {}".format(_reason(exc))) from None
        if not data:
            self.close()
            raise LinkError("host closed the connection")
        return data

    def close(self):
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._poller = None
        self._open = False
        self._out = b""

    def _check_open(self):
        if not self._open:
            raise LinkError("link not open")


def _reason(exc):
    return errno.errorcode.get(exc.errno, type(exc).__name__) if exc.errno else type(exc).__name__


class Route:
    """Where the simulator's links of one run connect, whatever the terminal's stored `host`
    parameter says: the run's host at (ip, port) (the embedded host, or --host). The scenario
    steps change it: `host down` (connections refused, as a host that is off), `link down` (no
    network: open() fails at once and online() is False), `host at IP:PORT` (the run's host
    answers only there: a connection to any other address is refused, so a scenario shows that a
    host address typed on the keypad is where the terminal goes). One Route outlives the boards of a run
    (a reboot gets a new link over the same route), as the acquirer and the network outlive a
    terminal's power cycle."""

    def __init__(self, ip, port):
        self.ip = ip
        self.port = port
        self.host_down = False
        self.link_down = False
        self.at = None  # (ip, port): the only address the run's host answers at (`host at`), or None: any
        self.sent = 0  # request frames handed to send() by every link of this route (a run's count)
        self._refuser = None

    def endpoint(self, asked=None):
        """(ip, port) to connect to now for the address the terminal asked for ((ip, port), from
        its `host` parameter): the run's host, or, while the host is down or when it answers only
        at another address (`at`), a port of 127.0.0.1 bound by nobody listening (a real refused
        connection)."""
        if not self.host_down and (self.at is None or asked == self.at):
            return self.ip, self.port
        if self._refuser is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))  # bound, never listening: a connect to it is refused
            self._refuser = sock
        return "127.0.0.1", self._refuser.getsockname()[1]

    def close(self):
        if self._refuser is not None:
            self._refuser.close()
            self._refuser = None


class RoutedTcpLink(TcpLink):
    """The simulator board's Link: a real TcpLink whose open() goes to the run's host (Route)
    instead of the address the firmware asks for, so the stored `host` parameter is never
    rewritten for a run (docs/SCENARIOS.md, "The host of a run")."""

    def __init__(self, route):
        super().__init__()
        self.route = route

    def online(self):
        return not self.route.link_down

    def open(self, host, port):
        if self.route.link_down:
            self.close()
            raise LinkError("network down")
        ip, port = self.route.endpoint((host, port))
        super().open(ip, port)

    def send(self, data):
        self.route.sent += 1  # the session sends each request with one send()
        super().send(data)
