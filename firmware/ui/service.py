# The service menu (系统管理): set the date and time, the about screen, the stored-data tools, the
# link tools (Wi-Fi, the echo test), the Administration submenu (firmware/ui/admin.py).
# Main menu item 8 (ENTER 8 from idle), behind the administrator's password (operator 99,
# firmware/ui/password.py); it never runs a transaction. In a stored-data fault that needs it (lost
# counters, a damaged password table or device key, damaged keys) it opens without the password
# with only the items that recover from it (_fault_items) and About.

import binascii
import hashlib

from firmware import registry
from firmware.dates import civil, format_minute, unix_seconds
from firmware.ui.menu import MainMenuScreen
from firmware.ui.widgets import (
    DigitEntryScreen,
    ItemScreen,
    MenuScreen,
    center,
    render_scrolled,
    scroll_key,
    six_digits,
)
from firmware.version import BUILD_DATE, VERSION
from hal.contracts import DIGITS, KEY_CANCEL, KEY_ENTER, HalError


# The service menu: (catalog key, screen(term, key) or None while it is not built yet, guarded: False,
# every item stays open in a fault state). A screen is made as screen(term, key) and goes back with
# service_menu(term, key) (ServiceScreen.menu()).
def _service_items():
    return (
        ("svc_set_time", SetTimeScreen, False),
        ("svc_about", AboutScreen, False),
        ("svc_faults", FaultsScreen, False),
        ("svc_recover", RecoverScreen, False),
        ("svc_load_tmk", _load_master_key, False),
        ("svc_touch_cal", _touch_cal, False),
        ("svc_wifi", _wifi, False),
        ("svc_echo", _echo, False),
        ("svc_admin", _admin, False),
    )


# The items with screens of their own module, loaded when chosen (Terminal.flow) and dropped with
# this one back at idle (firmware.terminal.DROPPED_AT_IDLE).
def _load_master_key(term, key):
    return term.flow("firmware.ui.keyload").LoadMasterKeyScreen(term, key)


def _touch_cal(term, key):
    return term.flow("firmware.ui.touchcal").TouchCalScreen(term, key)


def _wifi(term, key):
    return term.flow("firmware.ui.wifi").WifiScreen(term, key)


def _echo(term, key):
    return term.flow("firmware.ui.echo").EchoScreen(term, key)


def _admin(term, key):
    # Parameters, the event log, the factory reset: a submenu (a menu holds at most nine items).
    return term.flow("firmware.ui.admin").open_admin_menu(term, key)


def _fault_items(term):
    """The service menu without the administrator's password: what recovers from the stored-data
    faults of now (Recover counters for lost counters; Load master key for a damaged password table,
    device key or keys) and About; empty when there is none."""
    items = []  # type: list
    if term.counters is None:
        items.append(("svc_recover", RecoverScreen, False))
    if term.passwords_damaged or term.fault == "keys_damaged":
        items.append(("svc_load_tmk", _load_master_key, False))
    if items:
        items.append(("svc_about", AboutScreen, False))
    return tuple(items)


def _trusted(term):
    """The full service menu may open: the administrator gave the password (or the board keeps
    none: no security module)."""
    return term.admin_ok or term.board.security is None


def _admin_in(term):
    term.admin_ok = True
    return ServiceMenuScreen(term)


def _main_menu_at_admin(term):
    return MainMenuScreen(term).at("menu_admin")


def open_service_menu(term, title_key):
    """Main menu item 8 (Admin): the service menu after the administrator's password; in a
    stored-data fault, its recovery items at once."""
    if _trusted(term) or _fault_items(term):
        return ServiceMenuScreen(term)
    password = term.flow("firmware.ui.password")
    return password.require_admin(term, title_key, _admin_in, _main_menu_at_admin)


def service_menu(term, key):
    """The service menu with the item `key` highlighted: where a service screen goes back to."""
    return ServiceMenuScreen(term).at(key)


class ServiceScreen(ItemScreen):
    """A service menu item's screen: back to the service menu at its item."""

    def menu(self):
        return service_menu(self.term, self.title_key)


class ServiceMenuScreen(MenuScreen):
    """The items of _service_items(); CANCEL goes back to the main menu at Admin."""

    title_key = "svc_title"

    def menu_items(self):
        if _trusted(self.term):
            return _service_items()
        return _fault_items(self.term) or (("svc_about", AboutScreen, False),)

    def back(self):
        self.term.go(_main_menu_at_admin(self.term))


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

    def menu(self):
        return service_menu(self.term, self.title_key)

    def accept(self):
        term = self.term
        tz = term.params.tz_minutes
        seconds = entered_time(self.digits, tz)
        if seconds is None:
            self.problem = "svc_time_invalid"
            return
        term.set_clock(seconds)
        lines = [term.t("svc_time_set"), format_minute(seconds, tz)]
        self.end(lines)

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(1, t("svc_time_prompt"))
        d.text(3, center(_filled(self.digits), cols))
        if self.problem:
            d.text(5, center(t(self.problem), cols))


class AboutScreen(ServiceScreen):
    """Version, build date, terminal id, the signing key's fingerprint and the keys' check values,
    a line a row; UP/DOWN scroll, ENTER shows the signing key as a QR code (firmware/ui/keyqr.py;
    when the signer has a key), any other key goes back."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        self.first = 0
        t = term.t
        lines = [
            t("svc_version", VERSION),
            t("svc_built", BUILD_DATE),
            t("svc_terminal", term.params.terminal_id or "--------"),
        ]
        signer = signer_lines(term)
        self.key_qr = len(signer) > 1  # the fingerprint was shown: the key can be
        self.lines = lines + signer + key_lines(term)

    def on_key(self, key):
        if key == KEY_ENTER and self.key_qr:
            term = self.term
            term.go(term.flow("firmware.ui.keyqr").KeyQrScreen(term, self))
            return True
        return scroll_key(self, key)

    def render(self, d, rows, cols):
        render_scrolled(self, d, rows, cols)


def fingerprint(public_key):
    """The first 8 bytes of SHA-256 of the 65-byte public key, as 4 groups of 4 hex digits
    ("1A2B 3C4D 5E6F 7081"): what the about screen shows, to compare with the host's copy by eye."""
    digest = hashlib.sha256(public_key).digest()
    hexed = binascii.hexlify(digest[:8]).decode().upper()
    return " ".join([hexed[i : i + 4] for i in range(0, 16, 4)])


def signer_lines(term):
    """The signing key's fingerprint for the about screen (a label that says ENTER shows the key as
    a QR code, then the fingerprint); that the board has no signer, or that its key cannot be used.
    The first call may make the key (the signer makes it at its first use): on a board without a
    secure element that takes a moment."""
    t = term.t
    signer = term.board.signer
    if signer is None:
        return [t("svc_no_signer")]
    try:
        public = signer.public_key()
    except HalError:
        return [t("svc_signer_fault")]
    return [t("svc_signer_key"), fingerprint(public)]


def kcv_line(label, value):
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
    lines = [kcv_line("TMK", tmk)]
    if keys is None:
        return lines + [t("svc_no_keys")]
    lines.append(kcv_line("PIK", keys["pin"]))
    lines.append(kcv_line("MAK", keys["mac"]))
    if keys["track"] is not None:
        lines.append(kcv_line("TDK", keys["track"]))
    return lines


class FaultsScreen(ServiceScreen):
    """The stored-data faults: the terminal's standing fault and warnings, then every damaged file
    kept as evidence (number and the file it was), newest first. UP/DOWN scroll; other keys go back."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
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
        return scroll_key(self, key)

    def render(self, d, rows, cols):
        render_scrolled(self, d, rows, cols)


class RecoverScreen(ServiceScreen):
    """Skip the trace numbers ahead of everything ever stored (firmware.counters.recover): the way
    out of lost counters. Always safe (it leaves a gap, never a reused number), so it takes two
    confirmations, not a password. CANCEL at either step backs out."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        self.confirmations = 0

    def on_key(self, key):
        term = self.term
        if key == KEY_CANCEL:
            self.back()
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
            lines = [t("svc_recovered"), t("svc_next_trace", six_digits(term.counters.trace))]
        except OSError:
            lines = [t("storage_failed")]
        self.end(lines)

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        counters = self.term.counters
        state = (
            t("svc_counters_lost") if counters is None else t("svc_next_trace", six_digits(counters.trace))
        )
        d.text(1, center(state, cols))
        d.text(3, center(t("svc_recover_what"), cols))
        prompt = "svc_confirm_again" if self.confirmations else "svc_confirm"
        d.text(5, center(t(prompt), cols))
