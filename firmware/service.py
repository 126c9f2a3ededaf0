# The service menu (系统管理): set the date and time, the about screen, the stored-data tools, the
# link tools (Wi-Fi, the echo test).
# Main menu item 8 (ENTER 8 from idle), reachable in a fault state too; it never runs a transaction.
# TODO(operators): put it behind the system administrator's password (operator 99).

import binascii

from firmware import registry, touchcal, wifi
from firmware.dates import civil, format_minute, unix_seconds
from firmware.screens import DigitEntryScreen, MenuScreen, MessageScreen, Screen, center
from firmware.version import BUILD_DATE, VERSION
from hal.contracts import (
    CAP_BLIT,
    CAP_CALIBRATE,
    CAP_KEY_ENTRY,
    CAP_PIXELS,
    DIGITS,
    KEY_CANCEL,
    KEY_CLEAR,
    KEY_DOWN,
    KEY_ENTER,
    KEY_PART,
    KEY_UP,
    LINK_WIFI,
    PIN_DIGITS,
    PIN_ENTER,
    SIG_RAW,
    WIFI_CONNECTED,
    WIFI_CONNECTING,
    WIFI_IDLE,
    WIFI_NO_AP,
    WIFI_NO_CREDENTIALS,
    WIFI_WRONG_PASSWORD,
    HalError,
    LinkError,
    has,
)


# The service menu: (catalog key, screen class or None while it is not built yet, guarded: False,
# every item stays open in a fault state). A screen is made as screen(term, key) and goes back with
# term.go(service_menu(term, key)).
def _service_items():
    return (
        ("svc_set_time", SetTimeScreen, False),
        ("svc_about", AboutScreen, False),
        ("svc_faults", FaultsScreen, False),
        ("svc_recover", RecoverScreen, False),
        ("svc_load_tmk", LoadMasterKeyScreen, False),
        ("svc_touch_cal", TouchCalScreen, False),
        ("svc_wifi", WifiScreen, False),
        ("svc_echo", EchoScreen, False),
    )


def _menu_at(menu, key):
    """menu with the item `key` highlighted."""
    for i in range(len(menu.items)):
        if menu.items[i][0] == key:
            menu.selected = i
    return menu


def open_service_menu(term, title_key):
    """Main menu item 8 (Admin): the service menu."""
    return ServiceMenuScreen(term)


def service_menu(term, key):
    """The service menu with the item `key` highlighted: where a service screen goes back to."""
    return _menu_at(ServiceMenuScreen(term), key)


class ServiceMenuScreen(MenuScreen):
    """The items of _service_items(); CANCEL goes back to the main menu at Admin."""

    title_key = "svc_title"

    def menu_items(self):
        return _service_items()

    def back(self):
        self.term.go(_menu_at(MenuScreen(self.term), "menu_admin"))


_ENTRY_DIGITS = 12  # YYYYMMDDHHMM
_TEMPLATE = "____-__-__ __:__"


def entered_time(digits, tz_minutes):
    """Unix seconds of a YYYYMMDDHHMM entry (local time in the zone tz_minutes), or None unless it
    is a real date and time with the year 2000..2099."""
    if len(digits) != _ENTRY_DIGITS:
        return None
    for ch in digits:
        if ch not in DIGITS:
            return None
    fields = (int(digits[:4]), int(digits[4:6]), int(digits[6:8]), int(digits[8:10]), int(digits[10:]))
    year, month, day, hour, minute = fields
    if not 2000 <= year <= 2099 or not 1 <= month <= 12:
        return None
    seconds = unix_seconds(year, month, day, hour, minute, 0, tz_minutes)
    # Out-of-range fields roll over (Feb 30 -> Mar 2, 24:00 -> the next day): not a real time.
    if civil(seconds, tz_minutes)[:5] != fields:
        return None
    return seconds


def _filled(digits):
    """The entry so far in the template: "2026-11-2_ __:__"."""
    out = ""
    i = 0
    for ch in _TEMPLATE:
        if ch == "_" and i < len(digits):
            out += digits[i]
            i += 1
        else:
            out += ch
    return out


class SetTimeScreen(DigitEntryScreen):
    """Digits YYYYMMDDHHMM in the terminal's zone fill the template; CLEAR deletes the last one,
    CANCEL backs out, ENTER sets the clock (which makes it trusted) if the entry is a real time."""

    def take_digit(self, key):
        return len(self.digits) < _ENTRY_DIGITS

    def back(self):
        self.term.go(service_menu(self.term, self.title_key))

    def accept(self):
        term = self.term
        tz = term.params.tz_minutes
        seconds = entered_time(self.digits, tz)
        if seconds is None:
            self.problem = "svc_time_invalid"
            return
        term.set_clock(seconds)
        lines = [term.t("svc_time_set"), format_minute(seconds, tz)]
        term.go(MessageScreen(term, self.title_key, lines, service_menu(term, self.title_key)))

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        d.text(1, t("svc_time_prompt"))
        d.text(3, center(_filled(self.digits), cols))
        if self.problem:
            d.text(5, center(t(self.problem), cols))


class AboutScreen(MessageScreen):
    """Version, build date, terminal id and the keys' check values; any key goes back."""

    def __init__(self, term, title_key):
        t = term.t
        lines = [
            t("svc_version", VERSION),
            t("svc_built", BUILD_DATE),
            t("svc_terminal", term.params.terminal_id or "--------"),
        ]
        super().__init__(term, title_key, lines + key_lines(term), service_menu(term, title_key))


def _kcv(label, value):
    return label + " " + binascii.hexlify(value).decode().upper()


def key_lines(term):
    """The security module's check values (never a key) for the about screen: the TMK's, then
    those of the working keys of the last sign-in. Nothing on a board without a module."""
    sec = term.board.security
    if sec is None:
        return []
    t = term.t
    try:
        tmk = sec.tmk_check_value()
        keys = sec.key_set()
    except HalError:
        return [t("svc_key_fault")]
    if tmk is None:
        return [t("svc_no_tmk")]
    lines = [_kcv("TMK", tmk)]
    if keys is None:
        return lines + [t("svc_no_keys")]
    lines.append(_kcv("PIK", keys["pin"]))
    lines.append(_kcv("MAK", keys["mac"]))
    if keys["track"] is not None:
        lines.append(_kcv("TDK", keys["track"]))
    return lines


class FaultsScreen(Screen):
    """The stored-data faults: the terminal's standing fault and warnings, then every damaged file
    kept as evidence (number and the file it was), newest first. UP/DOWN scroll; other keys go back."""

    def __init__(self, term, title_key):
        super().__init__(term)
        self.title_key = title_key
        self.first = 0
        t = term.t
        lines = []
        if term.fault:
            lines.append(t(term.fault))
        if term.params.damaged:
            lines.append(t("params_damaged"))
        kept = registry.faults(term.storage)
        for i in range(len(kept) - 1, -1, -1):
            number, name = kept[i]
            lines.append("#{} {}".format(number, name))
        if not lines:
            lines.append(t("svc_no_faults"))
        self.lines = lines

    def on_key(self, key):
        if key == KEY_UP and self.first > 0:
            self.first -= 1
        elif key == KEY_DOWN and self.first < len(self.lines) - 1:
            self.first += 1
        elif key in (KEY_UP, KEY_DOWN):
            return False
        else:
            self.term.go(service_menu(self.term, self.title_key))
            return True
        self.term.redraw()
        return True

    def render(self, d, rows, cols):
        d.text(0, center(self.term.t(self.title_key), cols))
        for row in range(1, rows):
            i = self.first + row - 1
            if i < len(self.lines):
                d.text(row, self.lines[i])


class RecoverScreen(Screen):
    """Skip the trace numbers ahead of everything ever stored (firmware.counters.recover): the way
    out of lost counters. Always safe (it leaves a gap, never a reused number), so it takes two
    confirmations, not a password. CANCEL at either step backs out."""

    def __init__(self, term, title_key):
        super().__init__(term)
        self.title_key = title_key
        self.confirmations = 0

    def on_key(self, key):
        term = self.term
        if key == KEY_CANCEL:
            term.go(service_menu(term, self.title_key))
        elif key == KEY_ENTER:
            self.confirmations += 1
            if self.confirmations == 2:
                self.recover()
            else:
                term.redraw()
        else:
            return False
        return True

    def recover(self):
        term = self.term
        t = term.t
        try:
            term.recover_counters()
            lines = [t("svc_recovered"), t("svc_next_trace", _six(term.counters.trace))]
        except OSError:
            lines = [t("storage_failed")]
        term.go(MessageScreen(term, self.title_key, lines, service_menu(term, self.title_key)))

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        counters = self.term.counters
        state = t("svc_counters_lost") if counters is None else t("svc_next_trace", _six(counters.trace))
        d.text(1, center(state, cols))
        d.text(3, center(t("svc_recover_what"), cols))
        prompt = "svc_confirm_again" if self.confirmations else "svc_confirm"
        d.text(5, center(t(prompt), cols))


def _six(n):
    s = str(n)
    return "0" * (6 - len(s)) + s


class LoadMasterKeyScreen(Screen):
    """Key loading (装载主密钥): the field engineer types the TMK as 2 or 3 components of 32 hex
    digits on the PIN entry's key-entry mode. The components never pass through here: this screen
    only starts the entry, shows how many digits were typed, and at the end the check value."""

    def __init__(self, term, title_key):
        super().__init__(term)
        self.title_key = title_key
        self.parts = 0  # 2 or 3 once the entry started
        self.done = 0  # components entered
        self.digits = 0

    def _pin_entry(self):
        pin_entry = self.term.pin_entry
        return pin_entry if has(pin_entry, CAP_KEY_ENTRY) else None

    def on_key(self, key):
        term = self.term
        if key == KEY_CANCEL:
            term.go(service_menu(term, self.title_key))
            return True
        if self.parts or key not in ("2", "3"):
            return False
        pin_entry = self._pin_entry()
        if pin_entry is None:
            self._finish([term.t("svc_no_key_entry")])
            return True
        term.use("dev_pin_entry", pin_entry.begin_key_entry, int(key))
        if pin_entry.active():
            self.parts = int(key)
            term.redraw()
        return True

    def on_pin(self, event):
        kind, value = event
        t = self.term.t
        if kind == PIN_DIGITS:
            self.digits = value
        elif kind == KEY_PART:
            self.done = value
            self.digits = 0
        elif kind == PIN_ENTER:
            self._finish([t("svc_tmk_loaded"), _kcv("KCV", value)])
            return
        else:  # cancelled or timed out: the security module's TMK is unchanged
            self._finish([t("svc_tmk_cancelled")])
            return
        self.term.redraw()

    def _finish(self, lines):
        term = self.term
        self.parts = 0
        term.go(MessageScreen(term, self.title_key, lines, service_menu(term, self.title_key)))

    def leave(self):
        pin_entry = self.term.pin_entry
        if self.parts and pin_entry is not None and pin_entry.active():
            pin_entry.cancel()  # left in the middle (a timeout to idle): nothing typed survives

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        if not self.parts:
            d.text(2, center(t("svc_tmk_parts"), cols))
            return
        d.text(2, center(t("svc_tmk_part", self.done + 1, self.parts), cols))
        d.text(3, center(t("svc_tmk_digits", self.digits), cols))
        d.text(5, center(t("svc_tmk_hex"), cols))


def _cross():
    """A 15x15 cross, 2 bytes a row (MONO_HLSB): the calibration target, centred on pixel (7, 7)."""
    rows = bytearray(30)
    for r in range(15):
        if r == 7:
            rows[2 * r] = 0xFF
            rows[2 * r + 1] = 0xFE
        else:
            rows[2 * r] = 0x01
    return bytes(rows)


_CROSS = _cross()


class TouchCalScreen(Screen):
    """Touch calibration (触摸屏校准): three crosses drawn one after another where the display has
    pixels; each tap's raw reading from the signature pad (SIG_RAW) is paired with its cross; the
    pad's calibration of the three is stored (firmware/touchcal.py, given back to the pad at every
    boot) and used at once. CANCEL backs out with the calibration in force unchanged."""

    def __init__(self, term, title_key):
        super().__init__(term)
        self.title_key = title_key
        self.samples = []
        self.problem = None
        self.pad = term.signature_pad if has(term.signature_pad, CAP_CALIBRATE) else None
        d = term.display
        w, h = d.pixels() if has(d, CAP_PIXELS) else (240, 320)
        self.targets = ((w // 8, h // 8), (w - w // 8, h // 2), (w // 2, h - h // 8))

    def enter(self):
        if self.pad is not None:
            self.term.use("dev_signature_pad", self.pad.calibrate_begin)

    def leave(self):
        if self.pad is not None:
            self.term.use("dev_signature_pad", self.pad.stop)

    def on_key(self, key):
        if key == KEY_CANCEL or self.pad is None:
            self.term.go(service_menu(self.term, self.title_key))
            return True
        return False

    def on_signature(self, event):
        kind, raw = event
        if kind != SIG_RAW or self.pad is None:
            return
        x, y = self.targets[len(self.samples)]
        self.samples.append((raw[0], raw[1], x, y))
        self.problem = None
        if len(self.samples) == 3:
            self.finish()
        self.term.redraw()

    def finish(self):
        term = self.term
        try:
            cal = self.pad.calibration(self.samples)
        except ValueError:  # the three taps on one line (a slip): again from the first cross
            self.samples = []
            self.problem = "svc_cal_failed"
            return
        try:
            touchcal.store(term.storage, cal)
        except OSError:
            self._done("storage_failed")
            return
        term.use("dev_signature_pad", self.pad.set_calibration, cal)
        self._done("svc_cal_done")

    def _done(self, key):
        term = self.term
        term.go(MessageScreen(term, self.title_key, [term.t(key)], service_menu(term, self.title_key)))

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        if self.pad is None:
            d.text(2, center(t("svc_no_touch"), cols))
            return
        n = len(self.samples)
        x, y = self.targets[n]
        d.text(2, center(t("svc_cal_tap", n + 1), cols))
        if self.problem:
            d.text(4, center(t(self.problem), cols))
        if has(d, CAP_BLIT):
            d.blit(_CROSS, x - 7, y - 7, 15, 15)
        else:
            d.text(3, center("({}, {})".format(x, y), cols))


# The link's wifi_status() words -> catalog keys (anything else: "wifi_failed").
_WIFI_TEXT = {
    WIFI_CONNECTED: "wifi_connected",
    WIFI_CONNECTING: "wifi_connecting",
    WIFI_IDLE: "wifi_idle",
    WIFI_WRONG_PASSWORD: "wifi_wrong_password",
    WIFI_NO_AP: "wifi_no_ap",
    WIFI_NO_CREDENTIALS: "wifi_no_network",
}
_WPA_MIN = 8  # a WPA2 passphrase has 8 to 63 characters; 0 is an open network
_WIFI_PASSWORD_DIGITS = 63

# WifiScreen's steps.
_STATUS = 0
_SCAN_ASKED = 1  # "scanning" goes on the screen first: the scan blocks the loop (about 2 s)
_SCANNING = 2
_PICK = 3
_PASSWORD = 4


class WifiScreen(Screen):
    """Wi-Fi network (无线网络设置), on a link that declares LINK_WIFI: the network's name and the
    station's status, redrawn every second. ENTER scans and lists the networks in reach (UP/DOWN,
    ENTER picks one); then a password of digits only (shown as one * a digit, never the digits;
    none for an open network) and ENTER stores it (firmware/wifi.py) and joins. CLEAR on the
    status forgets the stored network: the board's provisioning file (/wifi.json, for a password
    with letters) applies again from the next boot. CANCEL goes back one step."""

    def __init__(self, term, title_key):
        super().__init__(term)
        self.title_key = title_key
        self.link = term.link if has(term.link, LINK_WIFI) else None
        self.step = _STATUS
        self.networks = []
        self.selected = 0
        self.password = ""
        self.problem = None
        self.stored = wifi.stored_ssid(term.storage) if self.link is not None else None

    def leave(self):
        self.password = ""

    def back(self):
        self.term.go(service_menu(self.term, self.title_key))

    def _show(self, step):
        self.step = step
        self.problem = None
        self.term.redraw()

    def on_second(self):
        return self.step == _STATUS and self.link is not None  # joining goes on: show its progress

    def tick(self):
        if self.step == _SCAN_ASKED:
            self.step = _SCANNING  # drawn this pass; scanned at the next
            return True
        if self.step == _SCANNING:
            self.networks = self.term.use("dev_link", self._scan) or []
            self.selected = 0
            self.step = _PICK
            return True
        return False

    def _scan(self):
        try:
            return self.link.scan()
        except LinkError:
            self.problem = "wifi_scan_failed"
            return []

    def on_key(self, key):
        if self.link is None:
            self.back()
            return True
        step = self.step
        if step == _STATUS:
            return self._on_status_key(key)
        if step == _PICK:
            return self._on_pick_key(key)
        if step == _PASSWORD:
            return self._on_password_key(key)
        return False  # scanning: keys wait

    def _on_status_key(self, key):
        if key == KEY_CANCEL:
            self.back()
        elif key == KEY_ENTER:
            self._show(_SCAN_ASKED)
        elif key == KEY_CLEAR and self.stored is not None:
            self._save(None, None, "wifi_forgotten")
        else:
            return False
        return True

    def _on_pick_key(self, key):
        n = len(self.networks)
        if key == KEY_CANCEL:
            self._show(_STATUS)
        elif key == KEY_ENTER and not n:
            self._show(_SCAN_ASKED)
        elif key == KEY_ENTER:
            self.password = ""
            self._show(_PASSWORD)
        elif key in (KEY_UP, KEY_DOWN) and n:
            self.selected = (self.selected + (1 if key == KEY_DOWN else -1)) % n
            self.term.redraw()
        else:
            return False
        return True

    def _on_password_key(self, key):
        if key in DIGITS and len(key) == 1:
            if len(self.password) >= _WIFI_PASSWORD_DIGITS:
                return False
            self.password += key
            self.problem = None
        elif key == KEY_CLEAR:
            if not self.password:
                return False
            self.password = self.password[:-1]
        elif key == KEY_CANCEL:
            self.password = ""
            self._show(_PICK)
            return True
        elif key == KEY_ENTER:
            if 0 < len(self.password) < _WPA_MIN:
                self.problem = "wifi_password_short"
            else:
                ssid, password = self.networks[self.selected], self.password
                self.password = ""
                self._save(ssid, password, "wifi_saved")
                return True
        else:
            return False
        self.term.redraw()
        return True

    def _save(self, ssid, password, done_key):
        """Store the choice (ssid None: forget it), hand it to the link, say how it went."""
        term = self.term
        try:
            wifi.store(term.storage, ssid, password)
        except OSError:
            done_key = "storage_failed"
        else:
            if ssid is not None:
                term.use("dev_link", self.link.set_credentials, ssid, password)
        then = WifiScreen(term, self.title_key)
        term.go(MessageScreen(term, self.title_key, [term.t(done_key)], then))

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        if self.link is None:
            d.text(2, center(t("wifi_not_here"), cols))
            return
        step = self.step
        if step == _STATUS:
            self._render_status(d, rows, cols)
        elif step in (_SCAN_ASKED, _SCANNING):
            d.text(2, center(t("wifi_scanning"), cols))
        elif step == _PICK:
            self._render_pick(d, rows, cols)
        else:
            d.text(1, center(self.networks[self.selected], cols))
            d.text(2, center(t("wifi_password"), cols))
            d.text(3, center("*" * len(self.password), cols))  # never the digits
            d.text(5, center(t(self.problem or "wifi_password_hint"), cols))

    def _render_status(self, d, rows, cols):
        t = self.term.t
        link = self.link
        ssid = self.term.use("dev_link", link.ssid)
        status = self.term.use("dev_link", link.wifi_status)
        d.text(2, center(t("wifi_network", ssid) if ssid else t("wifi_no_network"), cols))
        if ssid:
            d.text(3, center(t(_WIFI_TEXT.get(status, "wifi_failed")), cols))
        d.text(5, center(t("wifi_choose"), cols))
        if self.stored is not None:
            d.text(6, center(t("wifi_forget_hint"), cols))

    def _render_pick(self, d, rows, cols):
        t = self.term.t
        networks = self.networks
        if not networks:
            d.text(2, center(t(self.problem or "wifi_none_found"), cols))
            d.text(4, center(t("wifi_rescan"), cols))
            return
        visible = rows - 1
        first = 0 if self.selected < visible else self.selected - visible + 1
        for row in range(visible):
            i = first + row
            if i >= len(networks):
                break
            d.text(row + 1, networks[i], i == self.selected)


class EchoScreen(Screen):
    """The echo test (回响测试, firmware.online.Echo): connecting / sending / waiting with the
    seconds left, then "Link OK" and the round trip, or why it failed. Needs no sign-in and uses no
    trace number. CANCEL stops it before it is sent; any key on the result goes back."""

    times_out = False  # the session's own timeout ends it

    def __init__(self, term, title_key):
        super().__init__(term)
        self.title_key = title_key
        self.echo = None

    def enter(self):
        # Loaded here, not with this module: the service menu's other screens do not need the host
        # modules (Terminal.flow; back at idle they are dropped with this module).
        Echo = self.term.flow("firmware.online").Echo
        self.echo = Echo(self.term)  # failed at once (no host parameter ...): the next tick says so

    def tick(self):
        echo = self.echo
        if echo is None:
            return False
        moved = echo.step()
        if echo.outcome is not None:
            self._finish()
            return True
        return moved

    def on_second(self):
        return self.echo is not None  # the countdown

    def on_key(self, key):
        if key == KEY_CANCEL and self.echo is not None:
            if self.echo.cancel():
                self._finish()
            return True
        return False

    def _finish(self):
        term = self.term
        t = term.t
        echo = self.echo
        self.echo = None
        from firmware.online import APPROVED  # loaded by enter()

        if echo.outcome == APPROVED:
            lines = [t("echo_ok"), t("echo_round_trip", echo.round_trip_ms)]
        else:
            lines = [t(echo.message)]
            if echo.code is not None:
                from firmware.host.messages import response_message

                key, args = response_message(echo.code)
                lines.append(t(key, *args))
        term.go(MessageScreen(term, self.title_key, lines, service_menu(term, self.title_key)))

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        echo = self.echo
        if echo is None:
            return
        state = _ECHO_STATES.get(echo.session.state)
        if state:
            d.text(3, center(t(state), cols))
            d.text(4, center(t("auth_countdown", echo.remaining_s()), cols))
        d.text(rows - 1, center(t("auth_cancel_hint"), cols))


# firmware.host.session's states (its names, not imported: see EchoScreen.enter) -> catalog keys.
_ECHO_STATES = {"connecting": "auth_connecting", "sending": "auth_sending", "receiving": "auth_receiving"}
