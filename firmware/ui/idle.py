# The idle screen: merchant name, date and time, batch, link and sign-in state, faults; ENTER or
# FUNC opens the main menu. Loaded at boot.

from firmware.batch import WARN_PERCENT
from firmware.dates import format_minute
from firmware.journal import needs_sign_in
from firmware.ui.menu import MainMenuScreen
from firmware.ui.widgets import Screen, can_go_online, center, device_fault_text, six_digits
from hal.contracts import (
    CARD_INSERT,
    CARD_SCAN,
    CARD_SWIPE,
    CARD_TAP,
    KEY_CANCEL,
    KEY_ENTER,
    KEY_FUNC,
    HalError,
)

# The catalog names of the card reader's parts, for the idle screen's fault line.
_SOURCE_KEYS = {
    CARD_SWIPE: "cardsrc_swipe",
    CARD_INSERT: "cardsrc_insert",
    CARD_TAP: "cardsrc_tap",
    CARD_SCAN: "cardsrc_scan",
}


def batch_nearly_full(term):
    """True from WARN_PERCENT of the batch journal's capacity (count or space): settle soon."""
    journal = term.journal
    if journal is None:
        return False
    try:
        return journal.batch.fill_percent(term.params.batch_size) >= WARN_PERCENT
    except OSError:
        return False  # a failing storage shows as its fault when a transaction tries it


class IdleScreen(Screen):
    """Merchant name, date and time, batch, link state; ENTER or FUNC opens the main menu.
    Its once-a-second check allocates nothing (tests/portable/test_idle_loop.py): the status is
    read into a list kept for it, the date and sign-in state are worked out once a minute."""

    times_out = False

    def __init__(self, term):
        super().__init__(term)
        # [date and time text, link online, dead card modes, failed device, signed in]: what is
        # shown, and the scratch list on_second() reads the status into to compare with it.
        self._shown = [None, None, None, None, None]
        self._now = [None, None, None, None, None]
        # The minute [_from, _until) and time zone the text and the sign-in state are for.
        self._from = self._until = 0
        self._tz = None
        self._minute_text = ""
        self._signed = None
        self._batch_full = False

    def enter(self):
        self.term.back_at_idle()
        # Worked out when the idle screen is entered (at boot, after every flow), not at each
        # render: the storage's free space may cost a file system walk.
        self._batch_full = batch_nearly_full(self.term)

    def _status(self, into):
        """Read the status into the 5-slot list `into`."""
        term = self.term
        link = term.link
        try:  # term.use() would allocate a bound method every second
            into[1] = link.online() is True
        except HalError:
            term.device_failed("dev_link")
            into[1] = False
        else:
            term.device_ok("dev_link")
        into[2] = term.card_reader.dead_modes()  # a dead part (the scanner) fails alone: shown here
        into[3] = term.device_fault()
        self._each_minute()
        into[4] = self._signed
        # never a 2000-01-01 date from an RTC that lost its power
        into[0] = self._minute_text if term.clock_valid else term.t("clock_not_set")

    def _each_minute(self):
        """The date and time shown and the sign-in state, worked out when the minute turns:
        on_second asks every second, and formatting the time each time was 528 of the 672 bytes an
        idle second allocated (bench/memory.py); the key set the sign-in asks for is a new dict.
        The wall clock is read every second (a clock set from outside shows at once): on
        MicroPython its Unix seconds are a long int (over 2**30), the one allocation left there."""
        term = self.term
        seconds = term.clock.time()
        tz = term.params.tz_minutes
        # Compared, not divided: arithmetic on a long int allocates, a comparison does not.
        if self._from <= seconds < self._until and tz == self._tz:
            return
        self._from = seconds - seconds % 60  # this minute, [_from, _until)
        self._until = self._from + 60
        self._tz = tz
        self._minute_text = format_minute(seconds, tz)
        # A terminal that cannot go online says nothing about a sign-in.
        self._signed = None if not can_go_online(term) else not needs_sign_in(term)

    def on_key(self, key):
        if key in (KEY_ENTER, KEY_FUNC):
            self.term.go(MainMenuScreen(self.term))
            return True
        return key == KEY_CANCEL

    def on_second(self):
        now = self._now
        self._status(now)
        return now != self._shown

    def render(self, d, rows, cols):
        term = self.term
        t = term.t
        self._until = 0  # worked out again: the sign-in state may have changed (a flow ended)
        self._status(self._shown)
        now, online, dead, failed, signed = self._shown
        batch = "------" if term.counters is None else six_digits(term.counters.batch)
        lines = [
            center(term.params.merchant_name, cols),
            center(now, cols),
            center(t("idle_batch", batch), cols),
            center(t("op_current", term.operator_id()), cols),
            center(t("idle_online" if online else "idle_offline"), cols),
        ]
        if signed is not None:
            lines.append(center(t("idle_signed_in" if signed else "idle_sign_in_due"), cols))
        if term.fault:
            lines.append(center(t(term.fault), cols))
        if failed:
            lines.append(center(device_fault_text(term, failed), cols))
        if term.params.damaged:
            lines.append(center(t("params_damaged"), cols))
        if self._batch_full:
            lines.append(center(t("idle_batch_full"), cols))
        if dead:
            names = ",".join([t(_SOURCE_KEYS[mode]) for mode in dead])
            lines.append(center(t("card_source_dead", names), cols))
        for i in range(len(lines)):
            d.text(i, lines[i])
        d.text(rows - 1, center(t("idle_hint"), cols))
