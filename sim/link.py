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
