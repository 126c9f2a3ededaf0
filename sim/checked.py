# A recording proxy around every device of a board: it lets each call through and fails the run when
# the firmware calls a capability its device did not declare. CPython only (the scenario runner).
from hal import contracts
from hal.contracts import Board, has

# Per contract, the methods that are a capability's (a card reader's arm() is checked per mode).
# Every contract of hal.contracts that declares CAPABILITIES must be a key here, and each of its
# capabilities must be some method's or listed in _NO_METHOD: guarded_contracts() derives the list
# from hal.contracts, and a contract added there without its row makes CheckedDevice refuse its
# devices (and tests/host/test_sim_conformance.py fail), never leaves it unguarded.
_CAPABILITY_METHODS = {
    contracts.Keypad: {"beep": contracts.CAP_BEEP},
    contracts.Display: {"pixels": contracts.CAP_PIXELS, "blit": contracts.CAP_BLIT},
    contracts.CardReader: {},  # arm(modes): each mode is a capability (CheckedDevice._guard_arm)
    contracts.SignaturePad: {
        "start": contracts.CAP_PEN,
        "calibrate_begin": contracts.CAP_CALIBRATE,
        "calibration": contracts.CAP_CALIBRATE,
        "set_calibration": contracts.CAP_CALIBRATE,
    },
    contracts.Clock: {"kept_time": contracts.CAP_RTC_KEPT_TIME},
    contracts.Link: {
        "wifi_status": contracts.LINK_WIFI,
        "ssid": contracts.LINK_WIFI,
        "scan": contracts.LINK_WIFI,
        "set_credentials": contracts.LINK_WIFI,
    },
    contracts.System: {
        "start_watchdog": contracts.SYS_WATCHDOG,
        "feed": contracts.SYS_WATCHDOG,
        "reset_after": contracts.SYS_RESET,
        "boot_count": contracts.SYS_BOOT_COUNT,
        "mark_booted_ok": contracts.SYS_BOOT_COUNT,
    },
    contracts.SecurityModule: {},
    contracts.PinEntry: {"begin_key_entry": contracts.CAP_KEY_ENTRY},
}
# Capabilities that are a property of the device, not a method to call: nothing to guard.
_NO_METHOD = {
    contracts.CardReader: contracts.CARD_MODES,  # guarded through arm()
    contracts.SecurityModule: ("tamper_resistant",),  # where the keys live, not something to do
}


def guarded_contracts():
    """Every contract class of hal.contracts that declares CAPABILITIES, in name order."""
    found = []
    for name in sorted(vars(contracts)):
        value = getattr(contracts, name)
        if isinstance(value, type) and issubclass(value, contracts.Device) and value.CAPABILITIES:
            found.append(value)
    return found


def capability_methods(contract):
    """{method name: capability} of a contract; LookupError naming what sim/checked.py lacks if the
    contract is not in its table or a capability of it has neither a method nor a _NO_METHOD entry."""
    if contract not in _CAPABILITY_METHODS:
        raise LookupError(
            "sim/checked.py: contract {} declares CAPABILITIES but has no row in _CAPABILITY_METHODS".format(
                contract.__name__
            )
        )
    table = _CAPABILITY_METHODS[contract]
    for capability in contract.CAPABILITIES:
        if capability not in table.values() and capability not in _NO_METHOD.get(contract, ()):
            raise LookupError(
                "sim/checked.py: capability {!r} of {} has no method in _CAPABILITY_METHODS".format(
                    capability, contract.__name__
                )
            )
    return table


class UndeclaredCapability(AssertionError):
    """The firmware called a capability its device did not declare (a bug: it must ask has() first)."""


class CheckedDevice:
    """Forwards everything to `device` (attributes read and set, test hooks included); a call of a
    capability's method the device did not declare raises UndeclaredCapability and is appended to
    `violations`, so a call the firmware contained still fails the run. `used` counts the calls of
    each declared capability (what the check actually saw)."""

    def __init__(self, device, violations):
        methods = {}
        for contract in guarded_contracts():
            if isinstance(device, contract):
                methods.update(capability_methods(contract))
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
