# The domain's named failures. Each carries the catalog key of the message the screen shows,
# so the UI turns any of them into a clear message; none ever carries card data.


class PosError(Exception):
    """Base of every domain failure; `key` names its message in firmware.strings."""

    key = "error"

    def __init__(self, detail=""):
        super().__init__(detail or self.key)
        self.detail = detail


class BadCardData(PosError):
    """The card read could not be used (unreadable track, bad number, bad expiry)."""

    key = "card_unreadable"

    def __init__(self, key="card_unreadable", detail=""):
        super().__init__(detail or key)
        self.key = key


class CardExpired(BadCardData):
    def __init__(self):
        super().__init__("card_expired")


class ClockNotSet(PosError):
    """The wall clock is not trusted (it did not keep time through a power-off and reads before the
    build date): nothing that depends on the date may run until the service menu sets it."""

    key = "clock_not_set"


class StoredDataCorrupt(PosError):
    """A record on storage is damaged and has no usable copy: its files are kept as evidence
    (firmware.store), never silently reset."""

    key = "storage_corrupt"


class FlowUnavailable(PosError):
    """A flow's modules, loaded at its first use (the service menu, the sale), could not be loaded:
    a .mpy file missing or of another MicroPython, or no heap left for it. The flow is refused with
    a message; the terminal stays up (Terminal.flow records where it failed in last_crash)."""

    key = "flow_unavailable"
