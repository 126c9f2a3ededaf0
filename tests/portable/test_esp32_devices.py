# The ESP32 board's own devices against fake port modules (tests/portable/esp32_fakes.py): the NVS
# key store, the system device (watchdog, reset, boot count in RTC memory), the Wi-Fi link, the
# touch signature pad and the card parts. Runs on CPython and MicroPython. No board was used.
from hal.cards import CardPart, CardSources
from hal.contracts import (
    CARD_SCAN,
    CARD_TAP,
    SIG_CLEAR,
    SIG_CONFIRM,
    SIG_PEN_UP,
    SIG_POINT,
    SIG_RAW,
    SYS_WATCHDOG,
    CardEvent,
    HalError,
    LinkError,
    declared,
    has,
)
from hal.drivers.touch_pad import TouchSignaturePad
from hal.drivers.xpt2046 import PEN_DOWN, PEN_MOVE, PEN_UP, XPT2046
from hal.esp32.nvs_keystore import NvsKeyStore, slot
from hal.esp32.system import MIN_TIMEOUT_MS, Esp32System, count_image, read_count
from hal.esp32.wifi_link import (
    STATUS_CONNECTED,
    STATUS_NO_CREDENTIALS,
    STATUS_WRONG_PASSWORD,
    WifiLink,
    numeric_ip,
    parse_credentials,
)
from hal.soft.keystore import encode_key
from tests.portable import conformance
from tests.portable.conformance import raises
from tests.portable.esp32_fakes import (
    EXACT_CAL,
    FakeMachine,
    FakeNetwork,
    FakeNVS,
    FakeSelect,
    FakeSocketModule,
    NvsCut,
    SignerHand,
    TouchChip,
)


# ---- key store in NVS ----------------------------------------------------------------------
def test_nvs_key_store_conformance():
    conformance.check_key_store(lambda: NvsKeyStore(FakeNVS()))


def test_nvs_keys_fit_nvs_and_hold_the_record_format():
    nvs = FakeNVS()
    ks = NvsKeyStore(nvs)
    ks.save("a" * 24, b"\x01" * 16)
    assert len(slot("a" * 24)) == 15 and slot("a" * 24) != slot("a" * 23)
    assert nvs.entries[slot("a" * 24)] == encode_key("a" * 24, b"\x01" * 16)
    assert sorted(nvs.entries.keys()) == sorted(["names", slot("a" * 24)])
    assert nvs.commits >= 2  # every change committed


def test_a_damaged_nvs_key_is_a_fault_and_kept():
    nvs = FakeNVS()
    ks = NvsKeyStore(nvs)
    ks.save("tmk", b"\x05" * 16)
    key = slot("tmk")
    good = nvs.entries[key]
    damaged = [good[:n] for n in range(len(good))]  # truncated at every length (empty included)
    for i in range(0, len(good), 3):  # bytes flipped all along
        damaged.append(good[:i] + bytes([good[i] ^ 0x20]) + good[i + 1 :])
    damaged.append(good + b"x")  # longer than written
    damaged.append(b"\x00" * 3000)  # more than any key record: does not fit the buffer
    for bad in damaged:
        nvs.entries[key] = bad
        raises(HalError, ks.load, "tmk")
        assert nvs.entries[key] == bad  # never replaced behind the caller's back
        assert "tmk" in ks.names()  # listed: it is there, damaged
    ks.save("other", b"\x06" * 16)
    nvs.entries[key] = nvs.entries[slot("other")]  # another key's record in this slot
    raises(HalError, ks.load, "tmk")
    ks.save("tmk", b"\x07" * 16)  # the owner's decision: a new key over the damaged one
    assert ks.load("tmk") == b"\x07" * 16


def test_a_damaged_nvs_index_refuses_changes_but_keys_still_load():
    nvs = FakeNVS()
    ks = NvsKeyStore(nvs)
    ks.save("tmk", b"\x05" * 16)
    index = nvs.entries["names"]
    for bad in (index[:-1], index[:10], b"", index.replace(b"tmk", b"TMK")):
        nvs.entries["names"] = bad
        raises(HalError, ks.names)
        raises(HalError, ks.save, "new", b"\x01")
        assert nvs.entries["names"] == bad and slot("new") not in nvs.entries
        assert ks.load("tmk") == b"\x05" * 16


def test_nvs_key_store_survives_a_cut_at_every_operation():
    old, new = b"\x11" * 16, b"\x22" * 16
    for flow in ("save new name", "replace", "delete"):
        n = 1
        while True:
            nvs = FakeNVS()
            ks = NvsKeyStore(nvs)
            ks.save("keep", b"\x33" * 16)
            if flow != "save new name":
                ks.save("tmk", old)
            nvs.cut_at(n)
            try:
                if flow == "delete":
                    ks.delete("tmk")
                else:
                    ks.save("tmk", new)
                done = True
            except NvsCut:
                done = False
            nvs.cut_at(None)
            after = NvsKeyStore(nvs)  # a restart
            got = after.load("tmk")
            allowed = ()  # type: tuple
            if flow == "save new name":
                allowed = (new,) if done else (None, new)
            elif flow == "replace":
                allowed = (new,) if done else (old, new)
            else:
                allowed = (None,) if done else (old, None)
            assert got in allowed, (flow, n, got)
            assert after.load("keep") == b"\x33" * 16
            assert after.names() == (["keep", "tmk"] if got is not None else ["keep"]), (flow, n)
            if done:
                break
            n += 1


def test_nvs_key_store_refuses_a_name_past_its_index_and_stays_readable():
    ks = NvsKeyStore(FakeNVS())
    n = 0
    while True:
        name = "key-{}-".format(n) + "x" * 14
        try:
            ks.save(name, b"\x01")
        except HalError:
            break
        n += 1
        assert n < 1000, "the index never filled"
    assert n > 100 and len(ks.names()) == n and ks.load(name) is None
    assert ks.load("key-0-" + "x" * 14) == b"\x01"


# ---- system device -------------------------------------------------------------------------
def _seen(system):
    m = system.machine
    return (m.wdt_timeout, m.feeds, system.reset_ms if m.resets else None)


class TimedSystem(Esp32System):
    """Esp32System with its sleep recorded (reset_after waits, then machine.reset())."""

    def __init__(self, machine, safe_mode=False):
        self.reset_ms = None
        Esp32System.__init__(self, machine, self._sleep, safe_mode)

    def _sleep(self, ms):
        self.reset_ms = ms


def test_system_conformance():
    conformance.check_system(lambda: TimedSystem(FakeMachine()), _seen)
    conformance.check_system(lambda: TimedSystem(FakeMachine(), safe_mode=True), _seen)


def test_safe_mode_never_starts_the_watchdog():
    machine = FakeMachine()
    system = TimedSystem(machine, safe_mode=True)
    assert not has(system, SYS_WATCHDOG) and declared(system) == []
    raises(NotImplementedError, system.start_watchdog, 8000)
    system.feed()
    assert machine.wdt_timeout is None and machine.feeds == 0


def test_watchdog_timeout_is_checked():
    system = TimedSystem(FakeMachine())
    raises(ValueError, system.start_watchdog, MIN_TIMEOUT_MS - 1)
    raises(ValueError, system.start_watchdog, True)
    system.start_watchdog(8000)
    raises(HalError, system.start_watchdog, 8000)  # one watchdog; it cannot be restarted or stopped


def test_boot_count_survives_resets_in_rtc_memory():
    m1 = FakeMachine()  # power-on: RTC memory holds nothing of ours
    s1 = TimedSystem(m1)
    assert s1.boot_count() == 0 and read_count(m1.rtc_memory) == 1  # this boot counted at power-on
    m2 = FakeMachine(after=m1, cause=FakeMachine.WDT_RESET)  # it hung: the watchdog reset it
    s2 = TimedSystem(m2)
    assert s2.boot_count() == 1
    m3 = FakeMachine(after=m2)
    s3 = TimedSystem(m3)
    assert s3.boot_count() == 2
    s3.mark_booted_ok()
    assert s3.boot_count() == 0 and read_count(m3.rtc_memory) == 0
    assert TimedSystem(FakeMachine(after=m3)).boot_count() == 0
    m4 = FakeMachine(after=m2, cause=FakeMachine.PWRON_RESET)  # power-on: whatever RTC memory holds
    assert TimedSystem(m4).boot_count() == 0
    m5 = FakeMachine(after=m2)
    safe = TimedSystem(m5, safe_mode=True)  # a service boot is not counted
    assert safe.boot_count() == 2 and read_count(m5.rtc_memory) == 2


def test_rtc_memory_garbage_reads_as_no_count():
    assert read_count(b"") == 0 and read_count(b"\xff" * 16) == 0
    assert read_count(count_image(7)) == 7
    image = count_image(7)
    assert read_count(image[:4] + bytes([image[4] ^ 1])) == 0  # the check byte disagrees
    assert read_count(b"QPC" + image[3:]) == 0


# ---- Wi-Fi link ----------------------------------------------------------------------------
ECHO = ("10.0.0.2", 5000)
REFUSED = ("10.0.0.3", 5000)


def _link(sockets, credentials=("shop", "secret-pass")):
    network = FakeNetwork()
    link = WifiLink(network.WLAN(network.STA_IF), network, sockets, FakeSelect(), credentials)
    link.join()
    return link


def test_wifi_link_conformance():
    for window, polls in ((1460, 2), (100, 0), (8192, 5)):
        sockets = FakeSocketModule([ECHO], polls_to_open=polls, window=window)
        make = lambda sockets=sockets: _link(sockets)  # noqa: E731 - bound to this pass's network
        conformance.check_link(make, ECHO, wait=sockets.tick, refused=REFUSED, polls=20000)


def test_wifi_joins_with_the_provisioned_credentials_and_reports_status():
    sockets = FakeSocketModule([ECHO])
    link = _link(sockets)
    assert link.wlan.is_active and link.wlan.joined == ("shop", "secret-pass")
    assert link.status() == STATUS_CONNECTED
    link.wlan.code = FakeNetwork.STAT_WRONG_PASSWORD
    assert link.status() == STATUS_WRONG_PASSWORD
    bare = _link(sockets, credentials=None)
    assert bare.wlan.joined is None and not bare.wlan.is_active
    assert bare.status() == STATUS_NO_CREDENTIALS


def test_wifi_link_offline_and_lost():
    sockets = FakeSocketModule([ECHO], polls_to_open=0)
    link = _link(sockets)
    link.wlan.connected = False
    assert link.online() is False
    raises(LinkError, link.open, ECHO[0], ECHO[1])
    link.wlan.connected = True
    link.open(ECHO[0], ECHO[1])
    assert link.poll_open() is True
    link.wlan.connected = False  # the network drops with the stream open
    raises(LinkError, link.send, b"x")
    raises(LinkError, link.recv, 4)  # closed by the failure


def test_wifi_link_host_closing_is_an_error_and_names_are_refused():
    sockets = FakeSocketModule([ECHO], polls_to_open=0)
    link = _link(sockets)
    raises(LinkError, link.open, "host.example", 5000)  # a lookup would block
    assert sockets.sockets == []
    link.open(ECHO[0], ECHO[1])
    assert link.poll_open() is True
    sockets.host_closed = True
    raises(LinkError, link.recv, 10)
    raises(LinkError, link.send, b"x")


def test_credentials_and_addresses_are_validated():
    assert parse_credentials({"ssid": "shop", "password": "pw"}) == ("shop", "pw")
    assert parse_credentials({"ssid": "open-net"}) == ("open-net", "")
    for bad in (None, [], {}, {"ssid": ""}, {"ssid": "x" * 33}, {"ssid": "a", "password": 1}):
        assert parse_credentials(bad) is None
    assert parse_credentials({"ssid": "a", "password": "p" * 65}) is None
    assert numeric_ip("192.168.1.20") and not numeric_ip("192.168.1") and not numeric_ip("256.1.1.1")
    assert not numeric_ip("a.b.c.d") and not numeric_ip("1..2.3") and not numeric_ip(None)


# ---- touch signature pad -------------------------------------------------------------------
class ScriptedTouch:
    """Stands for a calibrated XPT2046: each poll() gives the next scripted (event, x, y) or None."""

    def __init__(self, script):
        self.script = list(script)
        self.x = self.y = 0

    def poll(self):
        if not self.script:
            return None
        step = self.script.pop(0)
        if step is None:
            return None
        event, self.x, self.y = step
        return event


def _events(pad, n):
    return [pad.poll() for _ in range(n)]


def test_touch_pad_reports_ink_as_the_pen_moves():
    touch = ScriptedTouch(
        [
            (PEN_DOWN, 10, 130),
            (PEN_MOVE, 12, 131),
            None,
            (PEN_MOVE, 300, 500),  # off the area: held at its edge
            (PEN_MOVE, 239, 279),  # the same edge point: not news
            (PEN_UP, 239, 279),
        ]
    )
    pad = TouchSignaturePad(touch)
    assert declared(pad) == []
    assert pad.poll() is None  # not capturing: the touch is not even read
    assert len(touch.script) == 6
    pad.start(0, 120, 240, 160)
    assert _events(pad, 7) == [
        (SIG_POINT, (10, 10)),
        (SIG_POINT, (12, 11)),
        None,
        (SIG_POINT, (239, 159)),
        None,
        (SIG_PEN_UP, None),
        None,
    ]


def test_touch_pad_buttons_and_stray_touches():
    touch = ScriptedTouch(
        [
            (PEN_DOWN, 20, 300),  # clear button
            (PEN_UP, 25, 305),
            (PEN_DOWN, 200, 300),  # confirm button, lifted on the clear one: nothing
            (PEN_MOVE, 60, 300),
            (PEN_UP, 60, 300),
            (PEN_DOWN, 200, 10),  # above the area, no button: nothing
            (PEN_MOVE, 100, 150),  # sliding into the area does not ink
            (PEN_UP, 100, 150),
            (PEN_DOWN, 200, 290),
            (PEN_UP, 200, 290),
        ]
    )
    pad = TouchSignaturePad(touch)
    pad.start(0, 120, 240, 160)
    got = [e for e in _events(pad, 12) if e is not None]
    assert got == [(SIG_CLEAR, None), (SIG_CONFIRM, None)]


def test_touch_pad_capture_starts_empty_with_the_pen_already_down():
    touch = ScriptedTouch([(PEN_DOWN, 10, 130), (PEN_MOVE, 11, 130)])
    pad = TouchSignaturePad(touch)
    pad.start(0, 120, 240, 160)
    assert pad.poll() == (SIG_POINT, (10, 10))
    pad.stop()
    assert pad.poll() is None
    pad.start(0, 120, 240, 160)  # the pen is still down from before: it draws nothing
    assert _events(pad, 3) == [None, None, None]
    raises(ValueError, pad.start, 0, 0, 0, 10)


def test_touch_pad_conformance_over_the_xpt2046_driver():
    chips = {}
    made = []

    def make():
        chip = TouchChip()
        pad = TouchSignaturePad(XPT2046(chip, chip, cal=EXACT_CAL))
        chips[id(pad)] = chip
        made.append(pad)  # kept: an id() stays unique while its pad lives
        return pad

    conformance.check_signature_pad(make, hand=SignerHand(chips=chips), polls=4)
    assert len(made) == 2


def test_touch_calibration_fixes_a_panel_mounted_turned():
    # The plates lie turned and mirrored against the pixels: raw X grows along the screen's y,
    # raw Y shrinks along its x. The default calibration puts a tap far from where it was.
    chip = TouchChip(raw=lambda x, y: (300 + (y * 3500) // 319, 3800 - (x * 3450) // 239))
    pad = TouchSignaturePad(XPT2046(chip, chip))
    hand = SignerHand(chip)
    pad.start(0, 0, 240, 320)
    hand.tap(pad, 30, 40)
    kind, point = [e for e in _events(pad, 4) if e is not None][0]
    assert kind == SIG_POINT and abs(point[0] - 30) + abs(point[1] - 40) > 50
    pad.calibrate_begin()
    samples = []
    for x, y in ((24, 32), (216, 160), (120, 288)):
        hand.tap(pad, x, y)
        raws = [e for e in _events(pad, 4) if e is not None]
        assert len(raws) == 1 and raws[0][0] == SIG_RAW
        samples.append(raws[0][1] + (x, y))
    pad.set_calibration(pad.calibration(samples))
    pad.start(0, 0, 240, 320)
    for x, y in ((30, 40), (200, 300), (120, 160)):
        hand.tap(pad, x, y)
        kind, point = [e for e in _events(pad, 4) if e is not None][0]
        assert kind == SIG_POINT and abs(point[0] - x) <= 1 and abs(point[1] - y) <= 1, (x, y, point)


# ---- card parts ----------------------------------------------------------------------------
class Part:
    def __init__(self, fail=False):
        self.fail = fail
        self.armed = False
        self.reads = []

    def arm(self):
        self.armed = True

    def disarm(self):
        self.armed = False

    def poll(self):
        return self.reads.pop(0) if self.armed and self.reads else None


def test_a_card_part_that_does_not_start_is_a_dead_part_not_a_dead_board():
    scanner = Part()
    tries = []

    def build_reader():
        tries.append(1)
        raise HalError("PN532 not answering on I2C")

    reader = CardSources(CardPart(CARD_TAP, build_reader), CardPart(CARD_SCAN, lambda: scanner))
    assert declared(reader) == []
    reader.arm((CARD_TAP, CARD_SCAN))
    assert reader.dead_modes() == (CARD_TAP,) and len(tries) == 1
    read = CardEvent(CARD_SCAN, "6222")
    scanner.reads.append(read)
    assert reader.poll() is read
    reader.arm((CARD_TAP,))  # tried again at the next arm
    assert len(tries) == 2 and not scanner.armed
    raises(ValueError, CardPart(CARD_SCAN, lambda: scanner).arm, (CARD_TAP,))
