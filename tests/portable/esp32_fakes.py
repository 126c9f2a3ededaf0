# Fake ESP32 port modules for the board's tests (portable: CPython and MicroPython): esp32.NVS, a
# recording machine module, network.WLAN, and socket/select modules that behave like MicroPython's
# non-blocking lwIP sockets (EINPROGRESS, EAGAIN through OSError's errno, POLLHUP on a refusal).
import errno

from hal.contracts import SIG_CLEAR, SIG_CONFIRM
from hal.drivers.xpt2046 import calibration

ESP_ERR_NVS_NOT_FOUND = 0x1102
ESP_ERR_NVS_INVALID_LENGTH = 0x110C
ESP_ERR_NVS_KEY_TOO_LONG = 0x1109


class NvsCut(Exception):
    """The power failed at an NVS operation (the fake's cut_at)."""


class FakeNVS:
    """One namespace as ESP-IDF keeps it: each set_blob/erase_key lands whole or not at all (the
    new entry is written before the old one is erased); `entries` is what flash holds. cut_at(n):
    the n-th write operation from now does not happen and raises NvsCut. ops counts them."""

    def __init__(self, entries=None):
        self.entries = {} if entries is None else entries
        self.ops = 0
        self.commits = 0
        self._cut = None

    def _op(self):
        self.ops += 1
        if self._cut is not None:
            self._cut -= 1
            if self._cut == 0:
                self._cut = None
                raise NvsCut()

    def cut_at(self, n):
        self._cut = n

    def _check_key(self, key):
        if type(key) is not str or len(key) > 15:
            raise OSError(-ESP_ERR_NVS_KEY_TOO_LONG, "ESP_ERR_NVS_KEY_TOO_LONG")

    def set_blob(self, key, value):
        self._check_key(key)
        self._op()
        self.entries[key] = bytes(value)

    def get_blob(self, key, buffer):
        self._check_key(key)
        if key not in self.entries:
            raise OSError(-ESP_ERR_NVS_NOT_FOUND, "ESP_ERR_NVS_NOT_FOUND")
        value = self.entries[key]
        if len(value) > len(buffer):
            raise OSError(-ESP_ERR_NVS_INVALID_LENGTH, "ESP_ERR_NVS_INVALID_LENGTH")
        buffer[: len(value)] = value
        return len(value)

    def erase_key(self, key):
        self._check_key(key)
        if key not in self.entries:
            raise OSError(-ESP_ERR_NVS_NOT_FOUND, "ESP_ERR_NVS_NOT_FOUND")
        self._op()
        del self.entries[key]

    def commit(self):
        self.commits += 1


# ---- machine -------------------------------------------------------------------------------
class FakePin:
    IN = 1
    OUT = 3

    def __init__(self, machine, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.mode = mode
        self.level = 1 if value is None else value
        machine.pins.append(self)

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0
        return None

    def __call__(self, v=None):
        return self.value(v)


class FakeBus:
    """SPI, I2C or UART: records how it was made and what was written; reads give nothing
    (zeros from SPI, OSError from I2C: no device answers, as on a bare board)."""

    def __init__(self, kind, id, kwargs):
        self.kind = kind
        self.id = id
        self.kwargs = kwargs
        self.written = []
        self.latches = {}  # I2C: address -> the port byte of a PCF8574 there

    def init(self, **kw):
        self.kwargs.update(kw)

    def write(self, data):
        self.written.append(bytes(data))

    def write_readinto(self, out, into):
        for i in range(len(into)):
            into[i] = 0

    def writeto(self, address, data):
        if address not in self.latches:
            raise OSError(errno.ENODEV, "no device at {}".format(address))
        self.latches[address] = data[-1]

    def readfrom_into(self, address, buf):
        if address not in self.latches:
            raise OSError(errno.ENODEV, "no device at {}".format(address))
        buf[0] = self.latches[address]  # a PCF8574 with no key down reads back its latch

    def any(self):
        return 0

    def readinto(self, buf, n=-1):
        return None  # timeout=0 and nothing arrived


class FakeRTC:
    def __init__(self, machine):
        self._machine = machine

    def memory(self, data=None):
        if data is None:
            return self._machine.rtc_memory
        self._machine.rtc_memory = bytes(data)
        return None

    def datetime(self, value=None):
        if value is not None:
            self._machine.rtc_datetime = value
        return self._machine.rtc_datetime


class FakeWDT:
    def __init__(self, machine, timeout):
        machine.wdt_timeout = timeout
        self._machine = machine

    def feed(self):
        self._machine.feeds += 1


class FakeMachine:
    """A recording machine module. rtc_memory survives reset() (a new FakeMachine(after=old) is
    the board after its reset); power_on=True makes reset_cause() a power-on."""

    PWRON_RESET = 1
    HARD_RESET = 2
    WDT_RESET = 3
    SOFT_RESET = 5

    def __init__(self, after=None, cause=None):
        self.pins = []
        self.buses = []
        self.i2c_expanders = (0x20,)  # the keypad's PCF8574 answers; no PN532 does
        self.rtc_memory = after.rtc_memory if after is not None else b""
        self.rtc_datetime = (2000, 1, 1, 5, 0, 0, 0, 0)
        self.cause = cause if cause is not None else (self.SOFT_RESET if after else self.PWRON_RESET)
        self.wdt_timeout = None
        self.feeds = 0
        self.resets = 0
        machine = self

        class Pin(FakePin):
            def __init__(self, id, mode=-1, pull=-1, value=None):
                FakePin.__init__(self, machine, id, mode, pull, value)

        self.Pin = Pin

    def _bus(self, kind, id, kwargs):
        bus = FakeBus(kind, id, kwargs)
        self.buses.append(bus)
        return bus

    def SPI(self, id, **kw):
        return self._bus("SPI", id, kw)

    def I2C(self, id, **kw):
        bus = self._bus("I2C", id, kw)
        for address in self.i2c_expanders:
            bus.latches[address] = 0xFF
        return bus

    def UART(self, id, **kw):
        return self._bus("UART", id, kw)

    def RTC(self):
        return FakeRTC(self)

    def WDT(self, timeout):
        return FakeWDT(self, timeout)

    def reset(self):
        self.resets += 1

    def reset_cause(self):
        return self.cause


# ---- network, socket, select -----------------------------------------------------------------
class FakeWLAN:
    def __init__(self, network, interface):
        self._network = network
        self.interface = interface
        self.is_active = False
        self.joined = None
        self.connected = False  # joined (and given an address) once connect() was called
        self.code = network.STAT_GOT_IP
        self.trying = False  # connect() called and not disconnect(): the station keeps trying to join
        self.scans = 0
        self.disconnects = 0
        self.scan_fails = False

    def active(self, on=None):
        if on is not None:
            self.is_active = bool(on)
        return self.is_active

    def connect(self, ssid, key):
        self.joined = (ssid, key)
        self.connected = True
        self.trying = True

    def disconnect(self):
        self.connected = False
        self.trying = False
        self.disconnects += 1

    def scan(self):
        """The networks in network.air, as the esp32 port gives them: (ssid bytes, bssid,
        channel, RSSI, security, hidden). Like the ESP-IDF, it refuses while the station is
        still trying to join ("STA is connecting, scan are not allowed!")."""
        assert self.is_active, "scan() on an inactive interface"
        if self.scan_fails or (self.trying and not self.connected):
            raise OSError(-1, "Wifi Internal Error")
        self.scans += 1
        return list(self._network.air)

    def isconnected(self):
        return self.connected

    def status(self):
        return self.code


class FakeNetwork:
    """The network module: STAT_* as the esp32 port numbers them."""

    STA_IF = 0
    STAT_IDLE = 1000
    STAT_CONNECTING = 1001
    STAT_GOT_IP = 1010
    STAT_NO_AP_FOUND = 201
    STAT_WRONG_PASSWORD = 202
    STAT_BEACON_TIMEOUT = 200
    STAT_ASSOC_FAIL = 203
    STAT_HANDSHAKE_TIMEOUT = 204

    def __init__(self, air=()):
        self.wlans = []
        self.air = list(air)  # what a scan finds

    def WLAN(self, interface):
        wlan = FakeWLAN(self, interface)
        self.wlans.append(wlan)
        return wlan


class FakeSocket:
    """A non-blocking lwIP TCP socket to FakeSocketModule's network: the connection completes
    after `polls_to_open` polls (refused ones fail then); send() takes at most `window` bytes of
    what the host has not read yet; the echo host answers on the module's tick()."""

    def __init__(self, module):
        self.m = module
        self.blocking = True
        self.state = "new"
        self.peer = None
        self.to_host = bytearray()
        self.from_host = bytearray()
        self.countdown = 0
        module.sockets.append(self)

    def setblocking(self, flag):
        self.blocking = flag

    def connect(self, addr):
        assert not self.blocking, "a blocking connect would stall the event loop"
        assert self.state == "new"
        self.peer = addr
        self.state = "connecting"
        self.countdown = self.m.polls_to_open
        raise OSError(errno.EINPROGRESS, "EINPROGRESS")

    def _step(self):
        if self.state == "connecting":
            if self.countdown > 0:
                self.countdown -= 1
                return
            self.state = "open" if self.peer in self.m.listening else "refused"

    def send(self, data):
        if self.state != "open":
            raise OSError(errno.ENOTCONN if self.state != "refused" else errno.ECONNREFUSED, "")
        room = self.m.window - len(self.to_host)
        if room <= 0:
            raise OSError(errno.EAGAIN, "EAGAIN")
        chunk = bytes(data[:room])
        self.to_host.extend(chunk)
        return len(chunk)

    def recv(self, n):
        if self.state != "open":
            raise OSError(errno.ENOTCONN, "")
        if not self.from_host:
            if self.m.host_closed:
                return b""
            raise OSError(errno.EAGAIN, "EAGAIN")
        out = bytes(self.from_host[:n])
        self.from_host = self.from_host[n:]
        return out

    def close(self):
        self.state = "closed"


class FakePoll:
    def __init__(self, select):
        self.select = select
        self.registered = {}

    def register(self, obj, mask):
        self.registered[id(obj)] = (obj, mask)

    def modify(self, obj, mask):
        self.registered[id(obj)] = (obj, mask)

    def poll(self, timeout=-1):
        assert timeout == 0, "a poll that waits would stall the event loop"
        out = []
        for obj, mask in self.registered.values():
            obj._step()
            events = 0
            if obj.state == "refused":
                events = self.select.POLLERR | self.select.POLLHUP
            elif obj.state == "open":
                events = self.select.POLLOUT & mask
                if obj.from_host:
                    events |= self.select.POLLIN & mask
            if events:
                out.append((obj, events, None))  # MicroPython: "don't assume that its size is 2"
        return out


class FakeSelect:
    POLLIN = 1
    POLLOUT = 4
    POLLERR = 8
    POLLHUP = 16

    def poll(self):
        return FakePoll(self)


class FakeSocketModule:
    """socket: getaddrinfo for numeric addresses only, echo hosts at `listening` addresses.
    tick() is the network moving: each host echoes what it has read."""

    AF_INET = 2
    SOCK_STREAM = 1

    def __init__(self, listening, polls_to_open=2, window=1460):
        self.listening = listening
        self.polls_to_open = polls_to_open
        self.window = window
        self.sockets = []
        self.host_closed = False

    def getaddrinfo(self, host, port, af=0, type=0):
        for part in host.split("."):
            int(part)  # a name would need a (blocking) lookup: the fake refuses it
        return [(self.AF_INET, self.SOCK_STREAM, 0, "", (host, port))]

    def socket(self, af=2, type=1):
        return FakeSocket(self)

    def tick(self):
        for sock in self.sockets:
            if sock.state == "open" and sock.to_host:
                sock.from_host.extend(sock.to_host)
                sock.to_host = bytearray()


# ---- the touch controller and the hand on it ---------------------------------------------
class TouchChip:
    """An XPT2046 on its bus (portable stand-in for tests/host/test_xpt2046's): each time its chip
    select goes low it takes the next scripted screen point (None: nothing touches) and answers
    each conversion with the raw reading of that point, raw = 100 + 8 * pixel on both plates."""

    def __init__(self, raw=None):
        self.script = []
        self.point = None
        self.level = 1
        self.raw = raw if raw is not None else (lambda x, y: (100 + 8 * x, 100 + 8 * y))

    def value(self, v=None):  # the chip-select pin
        if v is None:
            return self.level
        if self.level and not v:
            self.point = self.script.pop(0) if self.script else None
        self.level = 1 if v else 0
        return None

    def init(self, baudrate=None, **kw):
        assert baudrate is None or baudrate <= 2_500_000

    def write_readinto(self, out, into):
        channel = (out[0] >> 4) & 7
        if self.point is None:
            value = {5: 0, 1: 4095, 3: 0, 4: 4095}[channel]
        else:
            rx, ry = self.raw(*self.point)
            value = {5: rx, 1: ry, 3: 600, 4: 3000}[channel]
        word = value << 3
        into[0], into[1], into[2] = 0, word >> 8, word & 0xFF


EXACT_CAL = calibration(((100, 100, 0, 0), (100 + 8 * 239, 100, 239, 0), (100, 100 + 8 * 319, 0, 319)))


class SignerHand:
    """The signer's hand on the touch pad: it presses the chip's plates, point by point. chip: the
    one chip it presses, or chips: {id(pad): chip} for several pads."""

    def __init__(self, chip=None, chips=None):
        self._chip = chip
        self._chips = chips

    def chip_of(self, pad):
        return self._chip if self._chips is None else self._chips[id(pad)]

    def active(self, pad):
        return pad.area is not None

    def draw(self, pad, strokes):
        if pad.area is None:
            return False
        x0, y0, width, height = pad.area
        for stroke in strokes:
            for x, y in stroke:
                if not (0 <= x < width and 0 <= y < height):
                    raise ValueError("outside the signing area")
        for stroke in strokes:
            for x, y in stroke:
                self.chip_of(pad).script.append((x0 + x, y0 + y))
            self.chip_of(pad).script += [None, None]  # lifted: two untouched samples make a pen-up
        return True

    def _tap(self, pad, kind):
        if pad.area is None:
            return False
        for button in pad.buttons:
            if button[0] == kind:
                middle = (button[1] + button[3] // 2, button[2] + button[4] // 2)
                self.chip_of(pad).script += [middle, None, None]
        return True

    def tap(self, pad, x, y):
        self.chip_of(pad).script += [(x, y), None, None]

    def confirm(self, pad):
        return self._tap(pad, SIG_CONFIRM)

    def clear(self, pad):
        return self._tap(pad, SIG_CLEAR)
