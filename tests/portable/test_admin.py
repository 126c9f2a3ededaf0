# The Administration submenu (firmware/ui/admin.py, firmware/admin.py): every menu opened by its
# digit, the parameter editor (each form, each bad value's message), the identity lock, the factory
# reset and a power cut at every storage operation of a parameter save. Runs on both runtimes.
from firmware import admin, events, operators, strings
from firmware import journal as J
from firmware import params as P
from firmware.dates import format_minute
from firmware.params import Params
from firmware.terminal import Terminal
from firmware.ui.admin import host_of
from firmware.ui.menu import MainMenuScreen
from firmware.ui.service import ServiceMenuScreen
from firmware.ui.widgets import MenuScreen, MessageScreen
from hal.contracts import text_cells
from tests.portable.campaign import power_cut_campaign
from tests.portable.drive import ADMIN_KEYS, ADMIN_PASSWORD, boot, press, screen
from tests.portable.drive import open_admin as open_service_menu
from tests.portable.online_kit import Rig
from virtual.storage import TEAR_MODES, PowerCut


def open_admin(board, term):
    """From wherever the terminal is to the Administration submenu (service menu item 9, after
    the administrator's password where the board keeps one)."""
    term.go_idle()
    term.settle()
    open_service_menu(board, term)
    press(board, term, "9")
    assert term.t("svc_admin") in board.display.lines()[0], screen(board)


def edit(board, term, name):
    """From idle to the editor of the parameter `name` (its row in the list, then ENTER)."""
    open_admin(board, term)
    press(board, term, "1")
    for _ in range(P.names().index(name)):
        press(board, term, "DOWN")
    press(board, term, "ENTER")


def stored(board):
    return Params.load(board.storage)


# ---- the table --------------------------------------------------------------------------------
def test_every_parameter_has_a_form_whose_ranges_are_its_checks():
    fields = P._FIELDS
    for name in P.FORMS:
        assert name in fields, name
    for name in fields:
        form = P.form(name)
        kind = form[0]
        assert kind in ("shown", "digits", "number", "amount", "yesno", "choice", "host"), name
        assert P.valid(name, P.default(name)), name
        if kind in ("number", "amount"):
            lo, hi = form[1], form[2]
            assert P.valid(name, lo) and P.valid(name, hi), name
            assert not P.valid(name, lo - 1) and not P.valid(name, hi + 1), name
        elif kind == "digits":
            assert not P.valid(name, "1" * (form[1] - 1)) and not P.valid(name, "1" * (form[1] + 1)), name
        elif kind == "choice":
            for value in form[1]:
                assert P.valid(name, value), name
        elif kind == "yesno":
            assert P.valid(name, True) and P.valid(name, False), name
    assert sorted(P.names()) == sorted(fields)
    assert P.names()[:4] == ["merchant_name", "merchant_id", "terminal_id", "host"]


def test_a_row_without_a_form_is_a_yes_no_if_it_is_a_flag_else_shown():
    fields = P._FIELDS
    try:
        fields["flag_for_test"] = (False, lambda v: v is True or v is False, False)
        fields["text_for_test"] = ("x", lambda v: v == "x", False)
        assert P.form("flag_for_test") == ("yesno",)
        assert P.form("text_for_test") == ("shown",)
        assert P.names()[-2:] == ["flag_for_test", "text_for_test"]
    finally:
        del fields["flag_for_test"]
        del fields["text_for_test"]


# ---- the menus --------------------------------------------------------------------------------
def _title(board):
    return board.display.lines()[0].strip()


def test_every_item_of_every_menu_opens_by_its_digit():
    board, term = boot()
    menus = (
        ("main", MainMenuScreen, ("ENTER",)),
        ("service", ServiceMenuScreen, ("ENTER", "8")),
        ("admin", None, ("ENTER", "8", "9")),
        ("reprint", None, ("ENTER", "5")),
        ("query", None, ("ENTER", "6")),
        ("operators", None, ("ENTER", "7")),
        ("manage operators", None, ("ENTER", "7", "4")),
    )
    for which, cls, path in menus:
        press(board, term, *path)
        menu = term.screen
        assert isinstance(menu, MenuScreen), which
        items = menu.items
        assert 0 < len(items) <= 9, which
        for i in range(len(items)):
            term.go_idle()
            term.settle()
            press(board, term, *path)
            assert type(term.screen).__name__ == type(menu).__name__, which
            press(board, term, str(i + 1))
            assert type(term.screen).__name__ != type(menu).__name__, (which, i)
            assert _title(board) == term.t(items[i][0]), (which, i, screen(board))
        term.go_idle()
        term.settle()
        if cls is not None:
            assert type(menu).__name__ == cls.__name__


def test_the_submenu_holds_parameters_event_log_and_factory_reset_and_goes_back():
    board, term = boot()
    open_admin(board, term)
    s = screen(board)
    assert "1 Parameters" in s and "2 Event log" in s and "3 Factory reset" in s
    press(board, term, "CANCEL")
    assert "Admin" in _title(board) and board.display.inverse() == [9]
    board, term = boot("zh")
    press(board, term, "ENTER", "8")
    assert "9 管理" in screen(board)


# ---- the editor, form by form -----------------------------------------------------------------
def test_the_list_shows_each_value_and_the_merchant_name_is_read_only():
    board, term = boot(merchant="钱记小店")
    open_admin(board, term)
    press(board, term, "1")
    s = screen(board)
    assert "Merchant name" in s and "钱记小店" in board.display.lines()[-1]
    press(board, term, "DOWN", "DOWN")
    assert "10000001" in board.display.lines()[-1]
    press(board, term, "UP", "UP", "ENTER")
    assert "Set at provisioning" in screen(board)
    press(board, term, "ENTER")  # back to the list at the same row
    assert board.display.inverse() == [1] and "Merchant name" in board.display.lines()[1]


def test_digits_form_terminal_id_must_be_eight_digits():
    board, term = boot()
    edit(board, term, "terminal_id")
    assert "Terminal ID" in _title(board) and "Now 10000001" in screen(board)
    assert "Type 8 digits" in screen(board)
    press(board, term, *"1234567")
    press(board, term, "ENTER")
    assert "Must be 8 digits" in screen(board)
    press(board, term, "8", "9")  # the ninth digit is not taken
    assert "12345678" in screen(board) and "123456789" not in screen(board)
    press(board, term, "ENTER")
    assert "Saved" in screen(board) and "12345678" in screen(board)
    assert term.params.terminal_id == "12345678" and stored(board).terminal_id == "12345678"
    press(board, term, "ENTER")  # back to the list at the terminal id
    assert "12345678" in board.display.lines()[-1]


def test_digits_form_merchant_number_and_cancel_changes_nothing():
    board, term = boot()
    edit(board, term, "merchant_id")
    press(board, term, *"12345")
    press(board, term, "ENTER")
    assert "Must be 15 digits" in screen(board)
    press(board, term, "CANCEL")
    assert "Parameters" in _title(board)
    assert stored(board).merchant_id == "898100012340001"
    edit(board, term, "merchant_id")
    press(board, term, *"123456789012345")
    press(board, term, "ENTER")
    assert stored(board).merchant_id == "123456789012345"


def test_tpdu_must_start_with_60():
    board, term = boot()
    edit(board, term, "tpdu")
    press(board, term, *"7000030000")
    press(board, term, "ENTER")
    assert "TPDU starts with 60" in screen(board)
    assert stored(board).tpdu == "6000030000"
    for _ in range(10):
        press(board, term, "CLEAR")
    press(board, term, *"6000050000")
    press(board, term, "ENTER")
    assert "Saved" in screen(board) and stored(board).tpdu == "6000050000"


def test_number_form_host_timeout_in_its_range():
    board, term = boot()
    edit(board, term, "host_timeout_s")
    s = screen(board)
    assert "Now 30" in s and "Min 5" in s and "Max 120" in s
    press(board, term, "ENTER")
    assert "Type a value" in screen(board)
    press(board, term, "4", "ENTER")
    assert "Out of range" in screen(board)
    press(board, term, "CLEAR", "2", "0", "0", "0")  # a fourth digit is not taken
    assert "200" in screen(board) and "2000" not in screen(board)
    press(board, term, "ENTER")
    assert "Out of range" in screen(board)
    press(board, term, "CLEAR", "CLEAR", "CLEAR", "4", "5", "ENTER")
    assert "Saved" in screen(board) and stored(board).host_timeout_s == 45


def test_amount_form_maximum_amount_in_yuan_and_fen():
    board, term = boot()
    edit(board, term, "max_amount")
    s = screen(board)
    assert "Now ¥100,000.00" in s and "Min ¥0.01" in s and "Max\n   ¥9,999,999,999.99" in s
    press(board, term, "0")  # no leading zero: the amount shifts in from the right
    press(board, term, "1", "2", "3", "4", "5")
    assert "¥123.45" in screen(board)
    press(board, term, "ENTER")
    assert "Saved" in screen(board) and "¥123.45" in screen(board)
    assert stored(board).max_amount == 12345
    edit(board, term, "max_amount")
    press(board, term, "ENTER")  # nothing typed: zero, below the minimum
    assert "Out of range" in screen(board) and stored(board).max_amount == 12345


def test_amount_form_no_pin_limit_may_be_zero():
    board, term = boot()
    edit(board, term, "no_pin_limit_fen")
    assert "Now ¥1,000.00" in screen(board) and "Min ¥0.00" in screen(board)
    press(board, term, "ENTER")
    assert "Saved" in screen(board) and stored(board).no_pin_limit_fen == 0


def test_choice_forms_language_and_mac_algorithm():
    board, term = boot()
    edit(board, term, "language")
    s = screen(board)
    assert "1 中文" in s and "2 English" in s and board.display.inverse() == [4]
    press(board, term, "3")  # no third choice: refused, nothing changes
    assert "Language" in _title(board)
    press(board, term, "1")
    assert "已保存" in screen(board) and stored(board).language == "zh"
    edit(board, term, "mac_algorithm")
    assert "1 X9.19" in screen(board) and "2 ECB" in screen(board)
    press(board, term, "2")
    assert stored(board).mac_algorithm == "ecb"


def test_yes_no_form_daily_sign_in():
    board, term = boot()
    edit(board, term, "sign_in_daily")
    assert "Now Yes" in screen(board) and "1 Yes" in screen(board) and "2 No" in screen(board)
    press(board, term, "2")
    assert "Saved" in screen(board) and stored(board).sign_in_daily is False


def test_host_form_four_octets_and_a_port():
    board, term = boot()
    edit(board, term, "host")
    s = screen(board)
    assert "Now 127.0.0.1:8583" in s and "IP address" in s and "Port" in s
    press(board, term, "1", "0", "ENTER")  # ENTER ends a short octet
    press(board, term, "0", "0", "0")  # three digits end one by themselves
    press(board, term, "0", "ENTER", "5", "ENTER")
    assert "10.000.0.5" in screen(board)
    press(board, term, *"9000")
    press(board, term, "ENTER")
    assert "Saved" in screen(board) and "10.0.0.5:9000" in screen(board)
    assert stored(board).host == "10.0.0.5:9000"


def test_host_form_refuses_bad_octets_ports_and_empty_parts():
    board, term = boot()
    edit(board, term, "host")
    press(board, term, "ENTER")
    assert "Type this part" in screen(board)
    press(board, term, "3", "0", "0")
    assert "Each part 0 to 255" in screen(board)
    press(board, term, "CLEAR", "CLEAR", "CLEAR", "2", "5", "1", "2", "ENTER", "3", "ENTER", "4", "ENTER")
    press(board, term, "ENTER")
    assert "Type this part" in screen(board)  # the port is empty
    press(board, term, "0", "ENTER")
    assert "Port 1 to 65535" in screen(board)
    press(board, term, "CLEAR", *"70000")
    press(board, term, "ENTER")
    assert "Port 1 to 65535" in screen(board)
    assert stored(board).host == "127.0.0.1:8583"
    # CLEAR on an empty part goes back into the part before it
    for _ in range(6):
        press(board, term, "CLEAR")
    press(board, term, "9", "ENTER", *"8583")
    press(board, term, "ENTER")
    assert stored(board).host == "251.2.3.9:8583"
    assert host_of(["1", "2", "3", "4", "0"]) == (None, "param_port")
    assert host_of(["010", "0", "0", "1", "08583"]) == ("10.0.0.1:8583", None)


def test_the_editor_speaks_chinese():
    board, term = boot("zh")
    edit(board, term, "terminal_id")
    assert "终端号" in screen(board) and "请输入8位数字" in screen(board)
    press(board, term, "1", "ENTER")
    assert "须为8位数字" in screen(board)


def test_a_save_that_storage_refuses_changes_nothing():
    board, term = boot()
    edit(board, term, "host_timeout_s")
    press(board, term, "4", "5")
    board.storage.capacity = 0  # a full file system: every write fails
    press(board, term, "ENTER")
    assert "Not saved" in screen(board) and "Storage failing" in screen(board)
    assert term.params.host_timeout_s == 30


# ---- the identity lock ------------------------------------------------------------------------
def test_the_batch_check_names_what_it_holds():
    rig = Rig()
    journal = rig.term.journal
    batch = rig.term.counters.batch
    assert journal.batch_busy(batch) is None and admin.identity_lock(rig.term) is None
    assert "Approved" in rig.sale(100)
    rig.press("ENTER")
    assert journal.batch_busy(batch) == "busy_batch"
    assert journal.batch_busy(batch + 1) is None  # a sale of an earlier batch: settled
    rig = Rig()
    rig.host.plan = ["ok", "silent"]
    rig.sale(100)
    rig.wait(31)
    assert rig.term.journal.batch_busy(batch) == "busy_reversal"


def test_an_approved_sale_keeps_the_batch_busy_after_a_declined_one():
    # The last transaction declined, an earlier one approved: the batch still holds money.
    rig = Rig()
    batch = rig.term.counters.batch
    rig.host.plan = ["ok", "ok", "code:05"]  # the sign-in, a sale approved, the next declined
    assert "Approved" in rig.sale(100)
    rig.press("ENTER")
    assert "Do not honour" in rig.sale(200)
    rig.press("ENTER")
    assert rig.term.journal.last["state"] == J.DECLINED
    assert rig.term.journal.batch_busy(batch) == "busy_batch"
    assert admin.identity_lock(rig.term) == "busy_batch"
    assert rig.term.journal.batch_busy(batch + 1) is None  # another batch's: not this one


def test_a_declined_sale_leaves_the_batch_empty():
    rig = Rig()
    rig.host.plan = ["ok", "code:05"]  # the sign-in, then the sale declined
    assert "Do not honour" in rig.sale(100)
    rig.press("ENTER")
    assert rig.term.journal.last["state"] == J.DECLINED
    assert admin.identity_lock(rig.term) is None


def _rig_edit(rig, name):
    rig.press(*ADMIN_KEYS)
    rig.press("9", "1")
    for _ in range(P.names().index(name)):
        rig.press("DOWN")
    rig.press("ENTER")


def test_identity_parameters_are_refused_with_the_reason_while_the_batch_holds_a_sale():
    rig = Rig()
    assert "Approved" in rig.sale(100)
    rig.press("ENTER")
    for name in ("merchant_id", "terminal_id", "host", "mac_algorithm"):
        _rig_edit(rig, name)
        s = rig.screen()
        assert "Identity locked" in s and "Batch has sales" in s, (name, s)
        rig.term.go_idle()
        rig.term.settle()
    _rig_edit(rig, "host_timeout_s")  # not identity: changes
    rig.press("4", "5", "ENTER")
    assert "Saved" in rig.screen() and Params.load(rig.storage).host_timeout_s == 45


def test_identity_parameters_are_refused_while_a_reversal_is_pending():
    rig = Rig()
    rig.host.plan = ["ok", "silent"]
    rig.sale(100)
    rig.wait(31)
    rig.press("ENTER")
    assert rig.term.journal.pending_reversal() is not None
    _rig_edit(rig, "terminal_id")
    assert "Identity locked" in rig.screen() and "Reversal pending" in rig.screen()
    # and the lock is checked again when the value is saved
    term = rig.term
    assert admin.set_param(term, "terminal_id", "12345678") == "busy_reversal"
    assert term.params.terminal_id == "10000001"
    assert admin.set_param(term, "terminal_id", "1234") == "param_bad"


def test_a_lost_identity_is_kept_in_memory_until_every_part_is_set_again():
    board, term = boot()
    p = term.params
    p._lose_identity()
    term.fault = "params_identity_lost"
    assert admin.set_param(term, "terminal_id", "12345678") == "param_kept"
    assert admin.set_param(term, "merchant_id", "123456789012345") == "param_kept"
    assert admin.set_param(term, "host", "10.0.0.5:9000") == "param_kept"
    assert term.fault == "params_identity_lost"
    assert admin.set_param(term, "mac_algorithm", "x919") is None
    assert term.fault is None and not p.identity_lost
    again = stored(board)
    assert again.terminal_id == "12345678" and again.host == "10.0.0.5:9000" and not again.identity_lost


# ---- the factory reset ------------------------------------------------------------------------
def _files(storage):
    out = {}
    for name in storage.list():
        out[name] = storage.read(name)
    return out


def test_factory_reset_takes_two_confirmations_and_keeps_identity_counters_and_journal():
    rig = Rig()
    rig.host.plan = ["ok", "code:05"]
    rig.sale(100)  # signed in, one declined sale: trace numbers used, the batch empty
    rig.press("ENTER")
    term = rig.term
    for name, value in (("terminal_id", "12345678"), ("host_timeout_s", 45), ("max_amount", 500)):
        assert admin.set_param(term, name, value) is None
    assert admin.set_param(term, "sign_in_daily", False) is None
    ops = operators.table(term)
    ops.set_password("01", "2468")
    assert ops.operator_ids() == ["01"] and ops.ops[operators.ADMIN][0] != ""
    trace = term.counters.trace
    before = _files(rig.storage)
    keys_before = _files(rig.key_store.storage)
    rig.press(*ADMIN_KEYS)
    rig.press("9", "3")
    s = rig.screen()
    assert "Params to defaults" in s and "No operators" in s and "ENTER to continue" in s
    rig.press("ENTER")
    assert "ENTER again to do it" in rig.screen()
    assert Params.load(rig.storage).host_timeout_s == 45
    rig.press("ENTER")
    assert "恢复出厂设置" in rig.screen()  # the language is back to its default too
    assert "请修改出厂密码" in rig.screen()
    p = Params.load(rig.storage)
    assert p.host_timeout_s == 30 and p.max_amount == 10000000 and p.sign_in_daily is True
    assert p.terminal_id == "12345678" and p.merchant_id == "898100012340001"
    assert p.language == "zh" and p.merchant_name == "QianPOS Demo Shop"
    ops = operators.table(term)  # operators cleared, the factory passwords with their change forced
    assert ops.operator_ids() == [] and ops.ops[operators.ADMIN] == ["", 1]
    assert ops.ops[operators.SUPERVISOR] == ["", 1]
    codes = [e[2] for e in events.entries(rig.storage)]
    assert codes[:2] == ["factory_reset", "pwd_factory"]
    after = _files(rig.storage)
    for name in before:  # never the counters, the provisioned marker, the journal or audit
        if name.startswith(("counters", "provisioned", "txn", "reversal", "hoststate", "audit")):
            assert after.get(name) == before[name], name
    assert _files(rig.key_store.storage) == keys_before  # nor the keys
    assert term.counters.trace == trace
    rig.press("ENTER")  # out to the idle screen: the administrator's password is the factory one
    assert type(term.screen).__name__ == "IdleScreen" and not term.admin_ok
    rig.press("ENTER", "8", *ADMIN_PASSWORD)
    rig.press("ENTER")
    assert "密码错误" in rig.screen()
    rig.term.go_idle()
    rig.term.settle()
    rig.host.plan = []
    assert admin.set_param(term, "language", "en") is None
    assert "Approved" in rig.sale(100)
    assert rig.term.journal.last["trace"] == trace  # the next trace: the one before plus one


def test_factory_reset_cancel_changes_nothing():
    board, term = boot()
    assert admin.set_param(term, "host_timeout_s", 45) is None
    press(board, term, "ENTER", "8", "9", "3", "ENTER", "CANCEL")
    assert "Administration" in _title(board)
    assert stored(board).host_timeout_s == 45


def test_factory_reset_is_refused_with_a_pending_reversal():
    rig = Rig()
    rig.host.plan = ["ok", "silent"]
    rig.sale(100)
    rig.wait(31)
    rig.press("ENTER")
    assert admin.set_param(rig.term, "host_timeout_s", 45) is None
    rig.press(*ADMIN_KEYS)
    rig.press("9", "3")
    s = rig.screen()
    assert "Reset refused" in s and "Reversal pending" in s
    assert type(rig.term.screen) is MessageScreen
    assert admin.factory_reset(rig.term) == "busy_reversal"
    assert Params.load(rig.storage).host_timeout_s == 45


def test_factory_reset_is_refused_while_the_batch_holds_a_sale():
    rig = Rig()
    rig.sale(100)
    rig.press("ENTER")
    rig.press(*ADMIN_KEYS)
    rig.press("9", "3")
    assert "Reset refused" in rig.screen() and "Batch has sales" in rig.screen()


# ---- a power cut at every storage operation of a parameter save --------------------------------
def _cut_save(n, tear):
    """The host address saved from the editor with the power cut at its n-th storage operation,
    then a reboot: the address is the old one or the new one, never damaged, never lost; the
    terminal boots without a fault. False when the save did fewer than n operations."""
    board, term = boot()
    edit(board, term, "host")
    press(board, term, "1", "0", "ENTER", "0", "ENTER", "0", "ENTER", "5", "ENTER", *"9000")
    board.storage.cut_at(n, tear)
    where = "cut {} {}".format(n, tear)
    try:
        press(board, term, "ENTER")
    except PowerCut:
        board.storage.power_on()
        again = Terminal(board)
        again.settle()
        p = again.params
        assert p.host in ("127.0.0.1:8583", "10.0.0.5:9000"), where
        assert not p.damaged and not p.identity_lost and again.fault is None, where
        return True
    board.storage.cut_at(None)
    assert stored(board).host == "10.0.0.5:9000", where
    return False


def test_a_power_cut_at_every_storage_operation_of_a_parameter_save():
    runs = power_cut_campaign(_cut_save)
    assert runs >= 2 * len(TEAR_MODES), runs


def test_the_tpdu_parameter_goes_on_every_frame():
    rig = Rig(tpdu="6000050001")
    assert "Approved" in rig.sale(100)
    assert [m.tpdu for m in rig.host.received] == [b"\x60\x00\x05\x00\x01"] * 2  # sign-in, sale


# ---- the event log ----------------------------------------------------------------------------
def test_each_parameter_change_is_logged_by_name_never_by_value_and_shown_newest_first():
    board, term = boot()
    edit(board, term, "host")
    press(board, term, "1", "0", "ENTER", "0", "ENTER", "0", "ENTER", "5", "ENTER", *"9000")
    press(board, term, "ENTER")
    edit(board, term, "host_timeout_s")
    press(board, term, "4", "5", "ENTER")
    edit(board, term, "host_timeout_s")
    press(board, term, "CANCEL")  # nothing saved: nothing logged
    entries = events.entries(board.storage)
    assert [e[2:] for e in entries] == [["param_change", "host_timeout_s"], ["param_change", "host"]]
    for name in board.storage.list():
        data = board.storage.read(name)
        if name.startswith("events"):
            assert b"9000" not in data and b"10.0.0.5" not in data and b"45" not in data, name
    open_admin(board, term)
    press(board, term, "2")
    lines = board.display.lines()
    assert "Event log" in lines[0]
    assert lines[2] == "Set Host timeout (s)" and lines[4] == "Set Host address"
    assert lines[1].startswith(format_minute(board.clock.time(), 480)[:10])
    press(board, term, "DOWN")
    assert board.display.lines()[1] == "Set Host timeout (s)"
    press(board, term, "UP", "UP")  # the top: UP beeps, nothing moves
    assert board.display.lines()[2] == "Set Host timeout (s)"
    press(board, term, "CANCEL")
    assert "Administration" in _title(board) and board.display.inverse() == [2]


def test_every_parameter_label_and_its_log_line_fit_the_screen():
    for language in ("en", "zh"):
        board, term = boot(language)
        for name in P.names():
            for text in (term.t("pn_" + name), term.t("ev_param_change", term.t("pn_" + name))):
                assert "pn_" not in text and text_cells(text) <= 20, (language, text)


def test_every_event_code_has_its_label():
    for code in events.CODES:
        for language in ("en", "zh"):
            assert strings.text("ev_" + code, language, "x") != "ev_" + code, (code, language)


def test_an_empty_event_log_says_so_and_a_factory_reset_is_logged():
    board, term = boot("zh")
    open_admin(board, term)
    press(board, term, "2")
    assert "无事件记录" in screen(board)
    press(board, term, "ENTER")
    press(board, term, "3", "ENTER", "ENTER")
    assert "已恢复出厂设置" in screen(board)
    assert [e[2:] for e in events.entries(board.storage)] == [["factory_reset", ""], ["pwd_factory", ""]]
    open_admin(board, term)
    press(board, term, "2")
    assert board.display.lines()[2] == "恢复出厂设置"


def test_an_event_without_a_trusted_clock_shows_the_uptime():
    board, term = boot()
    term.clock_valid = False
    assert admin.set_param(term, "host_timeout_s", 45) is None
    open_admin(board, term)
    press(board, term, "2")
    assert board.display.lines()[1].startswith("Uptime ")


def test_a_row_added_to_the_table_is_edited_with_no_new_screen_code():
    # A new row with its form and nothing else: listed, typed in its form, refused by its own check.
    fields = P._FIELDS
    fields["odd_for_test"] = (1, lambda v: type(v) is int and v % 2 == 1, False)
    P.FORMS["odd_for_test"] = ("number", 1, 9)
    try:
        board, term = boot()
        edit(board, term, "odd_for_test")
        assert "pn_odd_for_test" in _title(board) and "Now 1" in screen(board)
        press(board, term, "4", "ENTER")
        assert "Value not allowed" in screen(board)
        press(board, term, "CLEAR", "7", "ENTER")
        assert "Saved" in screen(board) and term.params.odd_for_test == 7
        assert Params.load(board.storage).odd_for_test == 7
    finally:
        del fields["odd_for_test"]
        del P.FORMS["odd_for_test"]


def test_the_longest_host_address_shows_whole():
    board, term = boot()
    assert admin.set_param(term, "host", "255.255.255.255:65535") is None
    open_admin(board, term)
    press(board, term, "1", "DOWN", "DOWN", "DOWN")
    lines = board.display.lines()
    assert lines[-2] + lines[-1].strip() == "255.255.255.255:65535"
    press(board, term, "ENTER")
    lines = board.display.lines()
    assert lines[1] + lines[2].strip() == "Now 255.255.255.255:65535"


def test_every_text_of_the_submenu_fits_a_line_in_both_languages():
    prefixes = ("param_", "busy_", "reset_", "ev_", "adm_", "pn_", "pv_")
    keys = [k for k in strings.keys() if k.startswith(prefixes)]
    assert len(keys) > 40
    for key in keys:
        for language in ("zh", "en"):
            text = strings.text(key, language, "9", "9")
            assert text_cells(text) <= 20, (key, language, text)


def test_operator_required_is_a_yes_no_row_of_the_editor():
    board, term = boot()
    edit(board, term, "operator_required")
    assert "Operator needed" in _title(board) and "Now No" in screen(board)
    press(board, term, "1")
    assert "Saved" in screen(board) and stored(board).operator_required is True


def test_void_card_is_a_yes_no_row_of_the_editor():
    board, term = boot()
    edit(board, term, "void_card")
    assert "Void needs card" in _title(board) and "Now Yes" in screen(board)
    press(board, term, "2")
    assert "Saved" in screen(board) and stored(board).void_card is False
