# The host link over Wi-Fi: the station interface (network.WLAN) joined with the provisioned
# credentials, and a non-blocking TCP socket as the Link contract. Never blocks (no name lookup, no
# blocking connect or read), never logs what it carries; never imports network, socket or select:
# the board module passes them in.
#
# MicroPython's socket after setblocking(False): connect() raises OSError(EINPROGRESS), poll()
# says POLLOUT once connected and POLLERR/POLLHUP if the connection failed, send() takes what fits
# (OSError(EAGAIN) when nothing does), recv() raises OSError(EAGAIN) when nothing came and gives
# b"" when the host closed.

import errno

from hal.contracts import (
    LINK_WIFI,
    WIFI_CONNECTED,
    WIFI_CONNECTING,
    WIFI_FAILED,
    WIFI_IDLE,
    WIFI_NO_AP,
    WIFI_NO_CREDENTIALS,
    WIFI_PASSWORD_MAX,
    WIFI_SSID_MAX,
    WIFI_WRONG_PASSWORD,
    Link,
    LinkError,
)

# network.WLAN.status() words for the service screen (network.STAT_* values, which the board's
# network module supplies: they differ between ports). The words are the contract's.
STATUS_NO_CREDENTIALS = WIFI_NO_CREDENTIALS
STATUS_IDLE = WIFI_IDLE
STATUS_CONNECTING = WIFI_CONNECTING
STATUS_CONNECTED = WIFI_CONNECTED
STATUS_WRONG_PASSWORD = WIFI_WRONG_PASSWORD
STATUS_NO_AP = WIFI_NO_AP
STATUS_FAILED = WIFI_FAILED

_EAGAIN = (errno.EAGAIN, getattr(errno, "EWOULDBLOCK", errno.EAGAIN))
_SSID_MAX = WIFI_SSID_MAX
_PASSWORD_MAX = WIFI_PASSWORD_MAX


def parse_credentials(record):
    """(ssid, password) from a provisioning record (a dict read from wifi.json), or None if it is
    not one: ssid 1 to 32 characters, password 0 (an open network) to 64."""
    if type(record) is not dict:
        return None
    ssid = record.get("ssid")
    password = record.get("password", "")
    if type(ssid) is not str or not 0 < len(ssid) <= _SSID_MAX:
        return None
    if type(password) is not str or len(password) > _PASSWORD_MAX:
        return None
    return ssid, password


def numeric_ip(host):
    """True if host is a dotted-quad IPv4 address (the only kind open() takes: no lookup)."""
    if type(host) is not str:
        return False
    parts = host.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not 0 < len(part) <= 3 or [c for c in part if not "0" <= c <= "9"] or int(part) > 255:
            return False
    return True


class WifiLink(Link):
    """wlan: network.WLAN(network.STA_IF); network, socket, select: the port's modules;
    credentials: (ssid, password) or None (never online until provisioned). join() starts joining
    the network (the ESP32 does it in the background and rejoins after a drop); status() is a word
    for the service screen. Capability LINK_WIFI: the service menu shows the status, scans and
    sets the credentials (set_credentials() replaces the provisioned ones and joins again)."""

    capabilities = (LINK_WIFI,)

    def __init__(self, wlan, network, socket, select, credentials=None):
        self.wlan = wlan
        self._network = network
        self._socket = socket
        self._select = select
        self.credentials = credentials
        self._sock = None
        self._poller = None
        self._open = False
        self._out = bytearray()
        self._sent = 0  # bytes of _out already handed to the socket

    # ---- Wi-Fi ---------------------------------------------------------------------------------
    def join(self):
        """Start joining the provisioned network; returns at once. Nothing without credentials."""
        if self.credentials is None:
            return
        self.wlan.active(True)
        self.wlan.connect(self.credentials[0], self.credentials[1])

    def wifi_status(self):
        return self.status()

    def ssid(self):
        return None if self.credentials is None else self.credentials[0]

    def scan(self):
        wlan = self.wlan
        wlan.active(True)
        rejoin = self.credentials is not None and not wlan.isconnected()
        if rejoin:
            wlan.disconnect()  # the ESP32 refuses to scan while the station is still trying to join
        try:
            found = wlan.scan()  # blocks ~2 s: (ssid, bssid, channel, RSSI, security, hidden)
        except OSError as exc:
            raise LinkError("scan failed ({})".format(exc.args[0] if exc.args else "?"))
        finally:
            if rejoin:
                self.join()
        ranked = []
        for entry in found:
            try:
                name = bytes(entry[0]).decode()
            except (UnicodeError, ValueError):
                continue  # a name that is not UTF-8 cannot be typed or shown
            if name and len(name) <= _SSID_MAX and not (len(entry) > 5 and entry[5]):
                ranked.append((entry[3], name))
        ranked.sort(key=lambda pair: -pair[0])
        names = []
        for _rssi, name in ranked:
            if name not in names:  # several access points of one network: the strongest one's place
                names.append(name)
        return names

    def set_credentials(self, ssid, password):
        credentials = parse_credentials({"ssid": ssid, "password": password})
        if credentials is None:
            raise ValueError("not a Wi-Fi network name and password")
        self.close()
        if self.wlan.active():
            try:
                self.wlan.disconnect()  # from the old network, if it had joined one
            except OSError:
                pass  # not connected: nothing to leave
        self.credentials = credentials
        self.join()

    def status(self):
        """The station's state as a WIFI_* word (also wifi_status(), the contract's name)."""
        if self.credentials is None:
            return STATUS_NO_CREDENTIALS
        net = self._network
        code = self.wlan.status()
        if code == net.STAT_GOT_IP:
            return STATUS_CONNECTED
        if code == net.STAT_CONNECTING:
            return STATUS_CONNECTING
        if code == net.STAT_WRONG_PASSWORD:
            return STATUS_WRONG_PASSWORD
        if code == net.STAT_NO_AP_FOUND:
            return STATUS_NO_AP
        if code == net.STAT_IDLE:
            return STATUS_IDLE
        return STATUS_FAILED

    # ---- Link ----------------------------------------------------------------------------------
    def online(self):
        return bool(self.wlan.isconnected())

    def open(self, host, port):
        self.close()
        if not self.online():
            raise LinkError("Wi-Fi not connected")
        if not numeric_ip(host) or type(port) is not int or not 0 < port < 65536:
            raise LinkError("the host is not a numeric IP address and port")
        sk = self._socket
        try:
            addr = sk.getaddrinfo(host, port, 0, sk.SOCK_STREAM)[0][-1]  # numeric: no lookup
            sock = sk.socket(sk.AF_INET, sk.SOCK_STREAM)
        except OSError as exc:
            raise LinkError("no socket ({})".format(exc.args[0] if exc.args else "?"))
        self._sock = sock
        try:
            sock.setblocking(False)
            sock.connect(addr)
        except OSError as exc:
            if not exc.args or exc.args[0] != errno.EINPROGRESS:
                self.close()
                raise LinkError("connect failed ({})".format(exc.args[0] if exc.args else "?"))
        poller = self._select.poll()
        poller.register(sock, self._select.POLLOUT)
        self._poller = poller

    def poll_open(self):
        if self._sock is None:
            raise LinkError("link not opened")
        if self._open:
            return True
        sel = self._select
        for entry in self._poller.poll(0):
            events = entry[1]  # (obj, event, ...): MicroPython may add elements after these two
            if events & (sel.POLLERR | sel.POLLHUP):
                self.close()
                raise LinkError("connection failed")
            if events & sel.POLLOUT:
                self._open = True
                self._poller.modify(self._sock, sel.POLLIN)
                return True
        return None

    def _stream(self):
        if not self._open:
            raise LinkError("link not open")
        if not self.online():
            self.close()
            raise LinkError("Wi-Fi lost")
        return self._sock

    def _broken(self, exc):
        self.close()
        return LinkError("link broke ({})".format(exc.args[0] if exc.args else "?"))

    def send(self, data):
        self._stream()
        self._out.extend(data)
        self.flush()

    def flush(self):
        sock = self._stream()
        while self._sent < len(self._out):
            try:
                n = sock.send(memoryview(self._out)[self._sent :])
            except OSError as exc:
                if exc.args and exc.args[0] in _EAGAIN:
                    break
                raise self._broken(exc)
            if not n:
                break
            self._sent += n
        left = len(self._out) - self._sent
        if not left:
            self._out = bytearray()
            self._sent = 0
        return left

    def recv(self, max_bytes):
        if type(max_bytes) is not int or max_bytes < 1:
            raise ValueError("recv takes at least one byte")
        sock = self._stream()
        try:
            data = sock.recv(max_bytes)
        except OSError as exc:
            if exc.args and exc.args[0] in _EAGAIN:
                return b""
            raise self._broken(exc)
        if not data:
            self.close()
            raise LinkError("the host closed the connection")
        return data

    def close(self):
        sock = self._sock
        self._sock = None
        self._poller = None
        self._open = False
        self._out = bytearray()
        self._sent = 0
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass  # closing a socket the network already dropped
