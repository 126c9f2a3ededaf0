# The sale flow after the card is read: PIN entry when the card needs one, authorising (the host
# session with its countdown), the signature when approved (firmware/ui/esign.py), the result.
# Never shows a full PAN or a PIN digit; the card's track 2 is taken only when the request is built
# and dropped on every other way out.

from firmware.card import PIN_NONE, PIN_OPTIONAL, pin_rule
from firmware.errors import FlowUnavailable
from firmware.host.messages import response_message
from firmware.host.session import CONNECTING, RECEIVING, SENDING
from firmware.journal import APPROVED, DECLINED, IN_DOUBT, NOT_DONE, NOT_SENT, REVERSED
from firmware.money import format_fen
from firmware.online import APPROVED as ONLINE_APPROVED
from firmware.online import COMPLETED, REVERSAL, SIGN_IN, Online, Sale, needs_sign_in
from firmware.online import DECLINED as ONLINE_DECLINED
from firmware.ui.idle import IdleScreen
from firmware.ui.widgets import MessageScreen, Screen, center, six_digits
from hal.contracts import KEY_CANCEL, PIN_DIGITS, PIN_ENTER, PIN_TIMEOUT

_STATE_KEYS = {CONNECTING: "auth_connecting", SENDING: "auth_sending", RECEIVING: "auth_receiving"}
_PHASE_KEYS = {SIGN_IN: "auth_signing_in", REVERSAL: "auth_reversing"}


def _drop(card):
    if card is not None:
        card.take_track2()


def card_read(term, title_key, fen, card, make=Sale):
    """The card screen read a usable card: PIN entry when it needs one, else authorising. A board
    without a security module (or whose journal cannot be trusted) does not go online. make(fen,
    card, pin_block): the request (a Sale; a void gives its own)."""
    if term.board.security is None or term.journal is None:
        _drop(card)
        lines = [term.t("card_number"), card.masked_pan, format_fen(fen), term.t("not_available")]
        term.go(MessageScreen(term, title_key, lines, IdleScreen(term)))
        return
    has_pad = term.pin_entry is not None
    rule = pin_rule(card.service_code, card.mode, fen, term.params.no_pin_limit_fen, has_pad)
    if rule == PIN_NONE:
        term.go(AuthorisingScreen(term, title_key, make(fen, card)))
    elif term.pin_entry is None:
        _drop(card)
        term.go(MessageScreen(term, title_key, [term.t("pinentry_no_pad")], IdleScreen(term)))
    elif needs_sign_in(term):
        # The PIN block is encrypted under the PIN key of a sign-in: sign in (and send a pending
        # reversal) before the PIN is asked for.
        pin = PinScreen(term, title_key, fen, card, rule, make)
        term.go(AuthorisingScreen(term, title_key, None, pin))
    else:
        term.go(PinScreen(term, title_key, fen, card, rule, make))


class PinScreen(Screen):
    """The cardholder types the PIN on the PIN entry (it owns the keypad meanwhile): the screen sees
    the digit count and the ending only. ENTER goes on to authorising with the PIN block; CANCEL
    ("PIN entry cancelled") or the entry's timeout ("PIN entry timed out") ends the sale (nothing
    was sent)."""

    times_out = False  # the PIN entry times out by itself

    def __init__(self, term, title_key, fen, card, rule, make=Sale):
        super().__init__(term)
        self.title_key = title_key
        self.fen = fen
        self.card = card
        self.rule = rule
        self.make = make
        self.digits = 0
        self._handed = False

    def enter(self):
        term = self.term
        pin_entry = term.pin_entry
        allow_empty = self.rule == PIN_OPTIONAL
        term.use("dev_pin_entry", pin_entry.begin, self.card.pan_for_pin_entry(), 4, 12, allow_empty)
        if not pin_entry.active():
            self._end("dev_pin_entry")

    def leave(self):
        pin_entry = self.term.pin_entry
        if pin_entry.active():
            pin_entry.cancel()  # left in the middle (a device fault): nothing typed survives
        if not self._handed:
            _drop(self.card)

    def on_pin(self, event):
        kind, value = event
        if kind == PIN_DIGITS:
            self.digits = value
            self.term.redraw()
        elif kind == PIN_ENTER:
            self._handed = True
            self.term.go(AuthorisingScreen(self.term, self.title_key, self.make(self.fen, self.card, value)))
        elif kind == PIN_TIMEOUT:  # the PIN entry's own timeout: nobody typed for too long
            self._end("pinentry_timed_out")
        else:  # PIN_CANCEL
            self._end("pinentry_cancelled")

    def _end(self, key):
        term = self.term
        term.go(MessageScreen(term, self.title_key, [term.t(key)], IdleScreen(term)))

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        d.text(1, center(format_fen(self.fen), cols))
        d.text(2, center(self.card.masked_pan, cols))
        d.text(4, center(t("pinentry_prompt"), cols))
        d.text(5, center("*" * self.digits, cols))
        if self.rule == PIN_OPTIONAL:
            d.text(7, center(t("pinentry_optional"), cols))


class AuthorisingScreen(Screen):
    """Runs an Online transaction: connecting / sending / receiving with the seconds left, for the
    sign-in, the pending reversal and the request in turn. CANCEL works while nothing has been sent.
    `then`: for a sign-in alone (sale None), the screen to go on to once it succeeded; `back`: where
    the result of a failure goes (the idle screen when None)."""

    times_out = False  # the session's own timeout ends it

    def __init__(self, term, title_key, sale=None, then=None, back=None):
        super().__init__(term)
        self.title_key = title_key
        self.sale = sale
        self.then = then
        self.back = back
        self.online = None

    def enter(self):
        self.online = Online(self.term, self.sale)

    def leave(self):
        if self.sale is not None:
            _drop(self.sale.card)

    def tick(self):
        online = self.online
        if online is None:
            return False
        moved = online.step()
        if online.outcome is not None:
            self._finish()
            return True
        return moved

    def on_second(self):
        return True  # the countdown

    def on_key(self, key):
        if key == KEY_CANCEL:
            return self.online is not None and self.online.cancel()
        return False

    def _finish(self):
        term = self.term
        online = self.online
        self.online = None
        if online.outcome == COMPLETED and self.then is not None and not online.notices:
            term.go(self.then)
            return
        then = self.then if online.outcome == COMPLETED else self.back
        if online.outcome != COMPLETED and self.then is not None:
            _drop(getattr(self.then, "card", None))  # the PIN screen that will not come
        result = ResultScreen.of_online(term, self.title_key, online, then)
        if not term.clock_valid:  # the sign-in that would have set it failed
            result.lines.append(term.t("clock_not_set"))
            result.lines.append(term.t("clock_set_hint"))
        if online.outcome == ONLINE_APPROVED and online.record is not None:
            # The cardholder signs at once (电子签名), then the signatures upload, then the result.
            try:
                esign = term.flow("firmware.ui.esign")
            except FlowUnavailable:
                result.lines.append(term.t("esign_not_kept"))
            else:
                term.go(esign.capture(term, online.record, result))
                return
        term.go(result)

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        if self.sale is not None:
            d.text(1, center(format_fen(self.sale.amount), cols))
        online = self.online
        if online is None:
            return
        phase = _PHASE_KEYS.get(online.phase)
        if phase:
            d.text(3, center(t(phase), cols))
        state = _STATE_KEYS.get(online.session.state)
        if state:
            d.text(4, center(t(state), cols))
            d.text(5, center(t("auth_countdown", online.remaining_s()), cols))
        d.text(rows - 1, center(t("auth_cancel_hint"), cols))


class ResultScreen(Screen):
    """The result: approved with trace, RRN and auth code; declined with the response code's
    message; or why it failed. Leaving it marks the transaction's result as shown (a reboot before
    that shows it again)."""

    def __init__(self, term, title_key, lines, then=None, recorded=False):
        super().__init__(term)
        self.title_key = title_key
        self.lines = lines
        self.then = then
        self._recorded = recorded

    @classmethod
    def of_online(cls, term, title_key, online, then=None):
        t = term.t
        record = online.record
        if (online.outcome == ONLINE_APPROVED or online.outcome == ONLINE_DECLINED) and record is not None:
            lines = _record_lines(term, record)
        elif online.outcome == COMPLETED:
            lines = [t("signed_in")]
        else:
            lines = [t(online.message or "storage_failed")]
            if online.code is not None and online.message != "txn_not_recorded":
                key, args = response_message(online.code)
                lines.append(t(key, *args))
            if record is not None:
                lines.append(t("result_trace", six_digits(record["trace"])))
        for key in online.notices:
            lines.append(t(key))
        return cls(term, title_key, lines, then, record is not None)

    @classmethod
    def of_record(cls, term, record, again=False):
        lines = _record_lines(term, record)
        if again:
            lines.insert(0, term.t("result_again"))
        title = _TITLES.get(record.get("kind"), "menu_sale")
        return cls(term, title, lines, None, True)

    def on_key(self, key):
        term = self.term
        term.go(self.then if self.then is not None else IdleScreen(term))
        return True

    def leave(self):
        journal = self.term.journal
        if self._recorded and journal is not None:
            try:
                journal.mark_shown()
            except OSError:
                pass  # shown again after the next reboot: harmless

    def render(self, d, rows, cols):
        t = self.term.t
        d.text(0, center(t(self.title_key), cols))
        for i in range(len(self.lines)):
            d.text(i + 1, center(self.lines[i], cols))
        if len(self.lines) < rows - 1:  # an approved sale with two notices needs the last row too
            d.text(rows - 1, center(t("press_any_key"), cols))


_TITLES = {"void": "menu_void", "refund": "menu_refund"}
# A refund's declines that mean something of their own (the host's refund rule, docs/HOST.md)
_REFUND_CODES = ("35", "51", "12")


def _record_lines(term, record):
    t = term.t
    state = record["state"]
    refund = record.get("kind") == "refund"
    if refund and state == DECLINED and record["code"] in _REFUND_CODES:
        lines = [t("refund_rc_" + record["code"])]
    elif state == APPROVED or state == DECLINED:
        key, args = response_message(record["code"])
        lines = [t(key, *args)]
    elif state == IN_DOUBT and refund:
        lines = [t("refund_unconfirmed")]  # no reversal: resent card-less (the settlement's sweep)
    elif state == NOT_DONE:
        lines = [t("refund_not_done")]
    elif state == IN_DOUBT:
        lines = [t("result_in_doubt")]
    elif state == REVERSED:
        lines = [t("result_reversed")]
    elif state == NOT_SENT:
        lines = [t("result_not_sent")]
    else:
        lines = [t("result_in_doubt")]
    lines.append(format_fen(record["amount"]))
    lines.append(record["card"])
    lines.append(t("result_trace", six_digits(record["trace"])))
    # Every slip shows the operator: a record written before operators were kept has none, and
    # its sale was "01"'s (nobody signed in).
    lines.append(t("result_operator", record.get("op") or "01"))
    if state == APPROVED:
        lines.append(t("result_rrn", record["rrn"]))
        if record["auth"]:
            lines.append(t("result_auth", record["auth"]))
    return lines
