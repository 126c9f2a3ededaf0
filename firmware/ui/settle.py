# Main menu item 4, Settlement (结算): the supervisor's password, the totals (sales, voids,
# refunds: count and sum; net; the domestic and foreign halves F48 carries; in-doubt ones left out
# and listed), confirm, then the exchanges (firmware/online_settle.py: the sweep, the 0500, the
# batch upload, its end, the closing) and the settlement report (结算单), which Reprint item 3 shows
# again. At boot, an unfinished settlement asks to be continued before anything else. Loaded when
# chosen (Terminal.flow), dropped back at idle.

from firmware import settle as S
from firmware.host.session import CONNECTING, RECEIVING, SENDING
from firmware.money import format_fen
from firmware.online import COMPLETED, REVERSAL, SIGN_IN
from firmware.ui.idle import IdleScreen
from firmware.ui.menu import MainMenuScreen
from firmware.ui.slip import SlipScreen
from firmware.ui.widgets import MessageScreen, Screen, center, six_digits
from hal.contracts import KEY_CANCEL, KEY_ENTER
from hal.record import Damaged

_STATE_KEYS = {CONNECTING: "auth_connecting", SENDING: "auth_sending", RECEIVING: "auth_receiving"}
_PHASE_KEYS = {
    SIGN_IN: "auth_signing_in",
    REVERSAL: "auth_reversing",
    "audit": "auth_reversing",
    "settle": "stl_sending",
    "upload": "stl_uploading",
    "upload_end": "stl_ending",
}
_KIND_KEYS = ("kind_sale", "kind_void", "kind_refund")


# What the exchanges need no more once the supervisor's password was given (Terminal.drop): its
# screens and the operators' table. Dropped before the settlement record is first written: it
# runs on the heap a sale filled, with the batch's index grown to its size (bench/README.md).
_PASSWORD_MODULES = ("firmware.ui.password", "firmware.operators")


def _menu(term):
    return MainMenuScreen(term).at("menu_settle")


def open_settle(term, title_key):
    """Main menu 4: refused without a journal; an unfinished settlement is continued; an empty
    batch sends nothing and says so, unless work is still open (a failed reversal, a settled
    batch's refund not confirmed or upload waiting): then, after the supervisor's password, the
    sweep alone (SweepingScreen: no 0500); else the supervisor's password, then the totals."""
    t = term.t
    if term.journal is None or term.counters is None:
        return MessageScreen(term, title_key, [t(term.fault or "storage_failed")], _menu(term))
    if term.settling:
        return ResumeScreen(term)
    if term.journal.batch.count == 0:
        if not term.flow("firmware.online_settle").open_work(term):
            return MessageScreen(term, title_key, [t("stl_empty")], _menu(term))

        def sweep(term):
            return SweepingScreen(term)

        return term.flow("firmware.ui.password").require_supervisor(term, title_key, sweep, _menu)

    def then(term):
        return totals_screen(term)

    return term.flow("firmware.ui.password").require_supervisor(term, title_key, then, _menu)


def totals_screen(term):
    t = term.t
    try:
        totals = S.settle_totals(term.journal.batch.transactions())
    except Damaged:
        return MessageScreen(term, "menu_settle", [t("qry_unreadable")], _menu(term))
    except OSError:
        return MessageScreen(term, "menu_settle", [t("storage_failed")], _menu(term))
    f48, k, doubt, ndoubt = totals
    pairs = [("", t("stl_totals")), (t("slip_batch"), six_digits(term.counters.batch))]
    pairs += _kind_pairs(t, k)
    pairs += _half_pairs(t, f48)
    pairs += _doubt_pairs(t, doubt, ndoubt)
    pairs += _bad_pairs(t, term.journal.batch.damaged_records)
    pairs.append(("", t("stl_confirm")))
    return ConfirmScreen(term, pairs)


def _kind_pairs(t, k):
    out = []
    for i in range(3):
        out.append((t(_KIND_KEYS[i]) + " " + t("qry_count", k[2 * i]), format_fen(k[2 * i + 1])))
    net = k[1] - k[3] - k[5]
    out.append((t("stl_net"), ("-" if net < 0 else "") + format_fen(abs(net))))
    return out


def _half_pairs(t, f48):
    out = []
    for at, key in ((0, "stl_domestic"), (4, "stl_foreign")):
        out.append(("", t(key)))
        out.append((t("stl_debit", f48[at]), format_fen(f48[at + 1])))
        out.append((t("stl_credit", f48[at + 2]), format_fen(f48[at + 3])))
    return out


def _bad_pairs(t, bad):
    """Records of the batch that did not read at boot (left out of the totals): said, never
    dropped silently."""
    return [("", t("stl_unreadable", bad))] if bad else []


def _traces_pairs(t, key, traces, n):
    if not n:
        return []
    out = [("", t(key, n))]
    for trace in traces:
        out.append((t("slip_trace"), six_digits(trace)))
    return out


def _doubt_pairs(t, doubt, ndoubt):
    if not ndoubt:
        return []
    out = [("", t("stl_in_doubt", ndoubt))]
    for trace in doubt:
        out.append((t("slip_trace"), six_digits(trace)))
    return out


class ConfirmScreen(SlipScreen):
    """The totals, scrolled with UP/DOWN: ENTER settles, CANCEL goes back to the menu."""

    def __init__(self, term, pairs):
        SlipScreen.__init__(self, term, "menu_settle", pairs, _menu)

    def on_key(self, key):
        term = self.term
        if key == KEY_ENTER:
            term.go(start(term))
            return True
        return SlipScreen.on_key(self, key)


def start(term):
    """Confirmed: the settlement record written (the sweep next), sales refused from here on."""
    term.drop(_PASSWORD_MODULES)
    try:
        state = S.State(term.storage)
        state.write(**S.blank(term.counters.batch, term.operator_id(), term.clock.time()))
        state.write(step=S.SWEEP)
    except (OSError, Damaged):
        return MessageScreen(term, "menu_settle", [term.t("storage_failed")], _menu(term))
    term.settling = True
    return SettlingScreen(term, state)


class ResumeScreen(Screen):
    """ "The last settlement did not finish: continue?" ENTER continues it where it stopped;
    CANCEL goes to idle (sales stay refused until it is finished)."""

    title_key = "menu_settle"
    times_out = False

    def on_key(self, key):
        term = self.term
        if key == KEY_CANCEL:
            term.go(IdleScreen(term))
            return True
        if key != KEY_ENTER:
            return False
        try:
            state = S.State(term.storage)
        except (OSError, Damaged):
            term.go(MessageScreen(term, "menu_settle", [term.t("storage_failed")], IdleScreen(term)))
            return True
        if not state.unfinished():  # unreadable at boot, readable now, or nothing left
            term.settling = False
            term.go(IdleScreen(term))
            return True
        if state.step not in S.UNFINISHED:  # the record was lost: from the sweep, current batch
            term.go(start(term))
            return True
        term.go(SettlingScreen(term, state))
        return True

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        d.text(2, center(t("stl_unfinished"), cols))
        d.text(3, center(t("stl_continue"), cols))
        d.text(rows - 1, center(t("stl_continue_hint"), cols))


class SettlingScreen(Screen):
    """Runs a Settlement (firmware/online_settle.py): the phase, connecting / sending / receiving
    with the seconds left, the items uploaded. CANCEL works while nothing has been sent (the
    settlement stays unfinished)."""

    title_key = "menu_settle"
    times_out = False

    def __init__(self, term, state):
        super().__init__(term)
        self.state = state
        self.online = None

    def enter(self):
        Settlement = self.term.flow("firmware.online_settle").Settlement
        self.online = Settlement(self.term, self.state)

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
        return True

    def on_key(self, key):
        if key == KEY_CANCEL:
            return self.online is not None and self.online.cancel()
        return False

    def _finish(self):
        term = self.term
        online = self.online
        self.online = None
        if online.outcome == COMPLETED:
            term.go(ReportScreen(term, self.state.rec, IdleScreen(term), online.notices))
            return
        t = term.t
        lines = [t(online.message)]
        if online.code:
            key, args = term.flow("firmware.host.messages").response_message(online.code)
            lines.append(t(key, *args))
        if term.settling:
            lines.append(t("stl_unfinished"))
        term.go(MessageScreen(term, "menu_settle", lines, IdleScreen(term)))

    def render(self, d, rows, cols):
        t = self.term.t
        self.title(d, cols)
        online = self.online
        if online is None:
            return
        phase = _PHASE_KEYS.get(online.phase)
        if phase:
            d.text(2, center(t(phase), cols))
        if online.phase == "upload":
            d.text(3, center(str(self.state.rec["sent"]), cols))
        state = _STATE_KEYS.get(online.session.state)
        if state:
            d.text(4, center(t(state), cols))
            d.text(5, center(t("auth_countdown", online.remaining_s()), cols))
        d.text(rows - 1, center(t("auth_cancel_hint"), cols))


class SweepingScreen(SettlingScreen):
    """An empty batch's sweep (firmware/online_settle.py Sweep), shown as a settlement's is; then
    what it sent, what still fails, and that the batch is empty (nothing settled)."""

    def __init__(self, term):
        SettlingScreen.__init__(self, term, None)

    def enter(self):
        self.term.drop(_PASSWORD_MODULES)
        self.online = self.term.flow("firmware.online_settle").Sweep(self.term)

    def _finish(self):
        term = self.term
        pairs = swept_pairs(term, self.online)
        self.online = None
        term.go(SlipScreen(term, "menu_settle", pairs, IdleScreen))


def swept_pairs(term, sweep):
    """What an empty batch's sweep did: why it stopped (when it did), what it sent (reversals
    answered, refunds confirmed, uploads done), what still fails (the failed reversals still in the
    audit, the refunds not confirmed, the uploads not done), then "Batch empty"."""
    t = term.t
    pairs = [("", t("stl_swept"))]
    if sweep.outcome != COMPLETED:
        pairs.append(("", t(sweep.message)))
        if sweep.code:
            key, args = term.flow("firmware.host.messages").response_message(sweep.code)
            pairs.append(("", t(key, *args)))
    for key, n in zip(("stl_rev_done", "stl_ref_done", "stl_sig_done"), sweep.sent):
        if n:
            pairs.append(("", t(key, n)))
    rev = [item["trace"] for item in term.journal.failed_reversals()]
    if rev:
        pairs.append(("", t("reversal_gave_up")))
        for trace in rev[: S.LISTED_MAX]:
            pairs.append((t("slip_trace"), six_digits(trace)))
    left = sweep.swept_fields()
    pairs += _traces_pairs(t, "stl_ref_unconfirmed", left["ref"], left["nref"])
    pairs += _traces_pairs(t, "stl_sig_not_sent", left["sig"], left["nsig"])
    for key in sweep.notices:
        if key != "reversal_gave_up" or not rev:
            pairs.append(("", t(key)))
    pairs.append(("", t("stl_empty")))
    return pairs


def report_pairs(term, rec, duplicate=False):
    """The settlement report of a finished settlement record (or of the report its batch's archive
    keeps: the same names): totals, balanced or not, what the upload sent and what failed, the
    failed reversals, what the sweep could not do (refunds not confirmed, signatures not
    uploaded), records that did not read, operator, time."""
    t = term.t
    dates = term.flow("firmware.dates")
    pairs = [("", t("rpt_settlement"))]
    if duplicate:
        pairs.append(("", t("slip_duplicate")))
    pairs.append((t("slip_batch"), six_digits(rec["batch"])))
    pairs.append((t("slip_operator"), rec["op"]))
    pairs.append((t("stl_time"), dates.format_minute(rec["time"], term.params.tz_minutes)))
    pairs += _kind_pairs(t, rec["k"])
    pairs += _half_pairs(t, rec["t"])
    result = rec["result"]
    for i, key in ((0, "stl_domestic"), (1, "stl_foreign")):
        word = "stl_balanced" if result[i : i + 1] == "1" else "stl_unbalanced"
        pairs.append((t(key), t(word)))
    if "2" in result:
        pairs.append((t("stl_uploaded"), str(rec["sent"])))
        pairs.append((t("stl_not_uploaded"), str(rec["nfail"])))
        for trace in rec["fail"]:
            pairs.append((t("slip_trace"), six_digits(trace)))
        if rec["stopped"]:
            pairs.append(("", t("stl_upload_stopped")))
    pairs += _doubt_pairs(t, rec["doubt"], rec["ndoubt"])
    if rec["rev"]:
        pairs.append(("", t("reversal_gave_up")))
        for trace in rec["rev"]:
            pairs.append((t("slip_trace"), six_digits(trace)))
    pairs += _traces_pairs(t, "stl_ref_unconfirmed", rec.get("ref", []), rec.get("nref", 0))
    pairs += _traces_pairs(t, "stl_sig_not_sent", rec.get("sig", []), rec.get("nsig", 0))
    pairs += _bad_pairs(t, rec.get("bad", 0))
    return pairs


class ReportScreen(SlipScreen):
    """The settlement report, scrolled; any other key goes on to `then`."""

    def __init__(self, term, rec, then, notices=(), duplicate=False):
        pairs = report_pairs(term, rec, duplicate)
        for key in notices:
            pairs.append(("", term.t(key)))
        SlipScreen.__init__(self, term, "menu_settle", pairs, lambda term: then)


class OlderReportScreen(ReportScreen):
    """Reprint 3's report of a settled batch: as ReportScreen, and 1 shows the report of the batch
    archived before it (`older`, a batch number; 0: none)."""

    def __init__(self, term, rec, back, older):
        notices = ("stl_older_hint",) if older else ()
        ReportScreen.__init__(self, term, rec, back, notices, True)
        self.older = older
        self.back_screen = back

    def on_key(self, key):
        if key == "1" and self.older:
            self.term.go(archived_report(self.term, self.back_screen, self.older))
            return True
        return ReportScreen.on_key(self, key)


def archived_report(term, back, batch=None):
    """The report kept in the archive of `batch` (the newest when None) on an OlderReportScreen,
    or None when that archive keeps none. OSError when storage fails."""
    j = term.journal.batch
    rec = j.report(batch)
    if rec is None:
        return None
    archives = j.archives()
    before = [b for b in archives if b < rec["batch"]]
    older = 0
    for b in reversed(before):  # the newest earlier archive that keeps a report
        if j.report(b) is not None:
            older = b
            break
    return OlderReportScreen(term, rec, back, older)


def last_report(term, back):
    """Reprint 3: the last settlement's report again (stamped 重打印 / DUPLICATE), from its batch's
    archive (1: the batch's before it), or from the settlement record (an archive written without
    its report), or why not."""
    t = term.t
    try:
        state = S.State(term.storage)
        screen = archived_report(term, back) if term.journal is not None else None
    except (OSError, Damaged):
        return MessageScreen(term, "rpt_settlement", [t("storage_failed")], back)
    if screen is not None:
        return screen
    if state.step != S.DONE:
        return MessageScreen(term, "rpt_settlement", [t("stl_no_report")], back)
    return ReportScreen(term, state.rec, back, (), True)
