# A recording proxy around every device of a board: it lets each call through and fails the run when
# the firmware calls a capability its device did not declare. CPython only (the scenario runner).
from hal import contracts
from hal.contracts import Board, has

# Per contract, the methods that are a capability's (a card reader's arm() is checked per mode).
_CAPABILITY_METHODS = (
    (contracts.Keypad, {"beep": contracts.CAP_BEEP}),
    (contracts.Display, {"pixels": contracts.CAP_PIXELS, "blit": contracts.CAP_BLIT}),
    (
        contracts.SignaturePad,
        {
            "start": contracts.CAP_PEN,
            "calibrate_begin": contracts.CAP_CALIBRATE,
            "calibration": contracts.CAP_CALIBRATE,
            "set_calibration": contracts.CAP_CALIBRATE,
        },
    ),
    (contracts.Clock, {"kept_time": contracts.CAP_RTC_KEPT_TIME}),
)


class UndeclaredCapability(AssertionError):
    """The firmware called a capability its device did not declare (a bug: it must ask has() first)."""


class CheckedDevice:
    """Forwards everything to `device` (attributes read and set, test hooks included); a call of a
    capability's method the device did not declare raises UndeclaredCapability and is appended to
    `violations`, so a call the firmware contained still fails the run. `used` counts the calls of
    each declared capability (what the check actually saw)."""

    def __init__(self, device, violations):
        methods = {}
        for contract, table in _CAPABILITY_METHODS:
            if isinstance(device, contract):
                methods = table
        object.__setattr__(self, "_device", device)
        object.__setattr__(self, "_methods", methods)
        object.__setattr__(self, "_card_reader", isinstance(device, contracts.CardReader))
        object.__setattr__(self, "violations", violations)
        object.__setattr__(self, "used", {})

    def __getattr__(self, name):
        value = getattr(self._device, name)
        if name in self._methods:
            return self._guard(value, self._methods[name])
        if name == "arm" and self._card_reader:
            return self._guard_arm(value)
        return value

    def __setattr__(self, name, value):
        setattr(self._device, name, value)

    def _use(self, capability):
        if not has(self._device, capability):
            problem = "{}: the firmware used {!r}, which it did not declare ({})".format(
                type(self._device).__name__,
                capability,
                self._device.lacks.get(capability, "not declared at all"),
            )
            self.violations.append(problem)
            raise UndeclaredCapability(problem)
        self.used[capability] = self.used.get(capability, 0) + 1

    def _guard(self, method, capability):
        def call(*args, **kwargs):
            self._use(capability)
            return method(*args, **kwargs)

        return call

    def _guard_arm(self, method):
        def arm(modes=contracts.CARD_MODES):
            for mode in modes:
                self._use(mode)
            return method(modes)

        return arm


def unwrap(device):
    """The device behind a CheckedDevice (or the device itself)."""
    return device._device if isinstance(device, CheckedDevice) else device


def checked_board(board, violations, proxies=None):
    """A Board with every device of `board` behind a CheckedDevice recording into `violations`.
    proxies ({id(device): proxy}) keeps one proxy per device across boards (a reboot keeps its storage)."""
    if proxies is None:
        proxies = {}
    devices = {}
    for slot in Board.__slots__:
        device = unwrap(getattr(board, slot))
        if device is None:
            devices[slot] = None
            continue
        proxy = proxies.get(id(device))
        if proxy is None or unwrap(proxy) is not device:
            proxy = proxies[id(device)] = CheckedDevice(device, violations)
        devices[slot] = proxy
    return Board(**devices)
