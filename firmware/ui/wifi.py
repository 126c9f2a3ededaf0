# The Wi-Fi network (无线网络设置, service menu item 7): scan, pick, a password of digits; the record
# is firmware/wifi.py. Loaded when chosen; dropped with the service menu back at idle.

from firmware import wifi
from firmware.ui.service import ServiceScreen
from firmware.ui.widgets import MessageScreen, center
from hal.contracts import (
    DIGITS,
    KEY_CANCEL,
    KEY_CLEAR,
    KEY_DOWN,
    KEY_ENTER,
    KEY_UP,
    LINK_WIFI,
    WIFI_CONNECTED,
    WIFI_CONNECTING,
    WIFI_IDLE,
    WIFI_NO_AP,
    WIFI_NO_CREDENTIALS,
    WIFI_WRONG_PASSWORD,
    LinkError,
    has,
)

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


class WifiScreen(ServiceScreen):
    """Wi-Fi network (无线网络设置), on a link that declares LINK_WIFI: the network's name and the
    station's status, redrawn every second. ENTER scans and lists the networks in reach (UP/DOWN,
    ENTER picks one); then a password of digits only (shown as one * a digit, never the digits;
    none for an open network) and ENTER stores it (firmware/wifi.py) and joins. CLEAR on the
    status forgets the stored network: the board's provisioning file (/wifi.json, for a password
    with letters) applies again from the next boot. CANCEL goes back one step."""

    def __init__(self, term, title_key):
        super().__init__(term, title_key)
        self.link = term.link if has(term.link, LINK_WIFI) else None
        self.step = _STATUS
        self.networks = []
        self.selected = 0
        self.password = ""
        self.problem = None
        self.stored = wifi.stored_ssid(term.storage) if self.link is not None else None

    def leave(self):
        self.password = ""

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
        self.title(d, cols)
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
