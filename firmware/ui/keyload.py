# Key loading (装载主密钥, service menu item 5): the TMK typed as components on the PIN entry's
# key-entry mode. Loaded when chosen; dropped with the service menu back at idle.

from firmware.ui.service import ServiceScreen, kcv_line
from firmware.ui.widgets import center
from hal.contracts import CAP_KEY_ENTRY, KEY_CANCEL, KEY_PART, PIN_DIGITS, PIN_ENTER, has


class LoadMasterKeyScreen(ServiceScreen):
    """Key loading (装载主密钥): the field engineer types the TMK as 2 or 3 components of 32 hex
    digits on the PIN entry's key-entry mode. The components never pass through here: this screen
    only starts the entry, shows how many digits were typed, and at the end the check value."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        self.parts = 0  # 2 or 3 once the entry started
        self.done = 0  # components entered
        self.digits = 0

    def _pin_entry(self):
        pin_entry = self.term.pin_entry
        return pin_entry if has(pin_entry, CAP_KEY_ENTRY) else None

    def on_key(self, key):
        term = self.term
        if key == KEY_CANCEL:
            self.back()
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
            lines = [t("svc_tmk_loaded"), kcv_line("KCV", value)]
            if self.term.passwords_damaged:
                lines.append(t("pwd_must_change"))
                self._reset_passwords()
            self._finish(lines)
            return
        else:  # cancelled or timed out: the security module's TMK is unchanged
            self._finish([t("svc_tmk_cancelled")])
            return
        self.term.redraw()

    def _reset_passwords(self):
        """The recovery of a damaged password table or device key: the factory passwords back,
        their change forced at the first use (docs/SECURITY.md)."""
        term = self.term
        try:
            term.flow("firmware.operators").reset(term)
        except OSError:
            return
        term.passwords_damaged = False
        if term.fault == "pwd_damaged":
            term.fault = None

    def _finish(self, lines):
        self.parts = 0
        self.end(lines)

    def leave(self):
        pin_entry = self.term.pin_entry
        if self.parts and pin_entry is not None and pin_entry.active():
            pin_entry.cancel()  # left in the middle (a timeout to idle): nothing typed survives

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        if not self.parts:
            d.text(2, center(t("svc_tmk_parts"), cols))
            return
        d.text(2, center(t("svc_tmk_part", self.done + 1, self.parts), cols))
        d.text(3, center(t("svc_tmk_digits", self.digits), cols))
        d.text(5, center(t("svc_tmk_hex"), cols))
