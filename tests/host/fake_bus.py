# Fake buses and pins for the driver tests: an SPI bus that hands each transfer to the one device
# whose chip select is low, and pins that tell their device when they change. The devices
# themselves (a panel, a touch controller) are written from their datasheets in the tests.


class Pin:
    """An output or input pin. value(v) drives it (listeners hear it); value() reads it."""

    def __init__(self, level=1, name=""):
        self.level = level
        self.name = name
        self.listeners = []

    def value(self, v=None):
        if v is None:
            return self.level
        v = 1 if v else 0
        old, self.level = self.level, v
        for listen in self.listeners:
            listen(self, old, v)
        return None

    def __call__(self, v=None):
        return self.value(v)


class SPIDevice:
    """Base of a fake SPI device: cs is its chip-select Pin (active low)."""

    def __init__(self, cs):
        self.cs = cs
        self.max_baudrate = None
        cs.listeners.append(self._cs_changed)

    def _cs_changed(self, pin, old, new):
        if old and not new:
            self.select()
        elif new and not old:
            self.deselect()

    def select(self):
        pass

    def deselect(self):
        pass

    def transfer(self, out):
        """Bytes clocked out to the device; return as many bytes clocked back in."""
        raise NotImplementedError


class SPI:
    """A shared SPI bus: every transfer goes to the single selected device."""

    def __init__(self):
        self.devices = []
        self.baudrate = 1_000_000
        self.inits = 0
        self.sent = 0  # bytes written, to every device

    def init(self, baudrate=None, **kw):
        if baudrate is not None:
            self.baudrate = baudrate
        self.inits += 1

    def _device(self):
        chosen = [d for d in self.devices if not d.cs.level]
        assert len(chosen) == 1, "exactly one chip select must be low, got {}".format(len(chosen))
        d = chosen[0]
        assert d.max_baudrate is None or self.baudrate <= d.max_baudrate, "bus too fast for {}".format(
            type(d).__name__
        )
        return d

    def write(self, data):
        self.sent += len(data)
        self._device().transfer(bytes(data))

    def read(self, n, write=0):
        return self._device().transfer(bytes([write]) * n)

    def readinto(self, buf, write=0):
        got = self._device().transfer(bytes([write]) * len(buf))
        buf[:] = got

    def write_readinto(self, out, into):
        assert len(out) == len(into)
        into[:] = self._device().transfer(bytes(out))
