# Query (main menu 6) and Reprint (main menu 5) driven with keys over real batch journals
# (firmware/ui/query.py, firmware/ui/reprint.py, the slip of firmware/ui/slip.py): by trace, the
# list read a row at a time, the totals, the reversals, the stamped duplicate that never reaches
# the stored record, the fault that stops them. Both runtimes.
import sys

from firmware import batch as bj
from firmware.ui import slip
from firmware.ui.sale import ResultScreen
from hal.contracts import text_cells
from tests.portable.drive import boot, press, screen
from tests.portable.online_kit import Rig
from virtual.storage import RamStorage

CARD = "622202******0128"
T0 = 1800000000  # 2027-01-15 08:00 UTC, 16:00 in the terminal's zone (UTC+8)


def record(trace, amount, org="CUP", op="01", kind=bj.SALE):
    rec = {
        "batch": 1,
        "trace": trace,
        "amount": amount,
        "card": CARD,
        "org": org,
        "mode": "insert",
        "time": T0 + trace * 60,
        "op": op,
    }
    if kind != bj.SALE:
        rec["orig"] = {"batch": 1, "trace": 1, "rrn": "000000000001", "date": "1207"}
    if kind == bj.REFUND:
        rec["reason"] = "returned goods"
    return rec


def add(term, trace, amount=1000, state=bj.APPROVED, kind=bj.SALE, **extra):
    b = term.journal.batch
    b.begin(kind, record(trace, amount, kind=kind, **extra))
    if state == bj.APPROVED:
        rrn = "{:012d}".format(trace)
        b.change(
            1, trace, T0 + 100, state=state, code="00", rrn=rrn, auth="A{:05d}".format(trace), f13="0115"
        )
    elif state != bj.SENT:
        b.change(1, trace, T0 + 100, state=state, code="05" if state == bj.DECLINED else "98")


def batch_of_four(term):
    add(term, 1, 1000)
    add(term, 2, 2500, op="05")
    add(term, 3, 999905, state=bj.DECLINED)
    add(term, 4, 700, kind=bj.REFUND)


def title(board):
    return board.display.lines()[0].strip()


def whole(board, term, downs=30):
    """Every line of a scrolled screen: the screen, then each line that scrolls into the last row."""
    lines = board.display.lines()[1:]
    for _ in range(downs):
        press(board, term, "DOWN")
        lines.append(board.display.lines()[-1])
    return "\n".join(lines)


# ---- Query: by trace --------------------------------------------------------------------------
def test_query_by_trace_shows_the_state_and_the_slip_and_says_when_there_is_none():
    board, term = boot()
    batch_of_four(term)
    press(board, term, "ENTER", "6")
    assert title(board) == "Query" and "1 By trace" in screen(board) and "4 Reversals" in screen(board)
    press(board, term, "1", "2", "ENTER")
    s = whole(board, term)
    assert title(board) == "Transaction" and "Approved" in s
    for text in ("QianPOS Demo Shop", "898100012340001", "10000001", CARD, "SALE", "¥25.00"):
        assert text in s, (text, s)
    assert "000002" in s and "000000000002" in s and "A00002" in s and "2027-01-15 16:02" in s
    assert "Operator          05" in s
    press(board, term, "CANCEL")  # back to the trace entry, then a trace not in the batch
    assert "Enter trace number" in screen(board)
    press(board, term, *"000099")
    press(board, term, "ENTER")
    assert "No such transaction" in screen(board)
    press(board, term, "CLEAR", "CLEAR", "CLEAR", "CLEAR", "CLEAR", "CLEAR", "ENTER")
    assert "Enter trace number" in screen(board) and "Transaction" not in screen(board)
    press(board, term, "3", "ENTER")
    assert "Declined" in screen(board)
    press(board, term, "CANCEL", "CANCEL")
    assert title(board) == "Query" and board.display.inverse() == [1]


def test_a_refund_shows_its_original_and_reason():
    board, term = boot()
    batch_of_four(term)
    press(board, term, "ENTER", "6", "1", "4", "ENTER")
    s = whole(board, term)
    assert "REFUND" in s and "¥7.00" in s and "Refund" not in board.display.lines()[0]
    assert "Orig. batch" in s and "Orig. trace" in s and "000000000001" in s and "12-07" in s
    assert "returned goods" in s


# ---- Query: the list --------------------------------------------------------------------------
def test_an_empty_batch_says_so():
    board, term = boot()
    press(board, term, "ENTER", "6", "2")
    assert "No transactions" in screen(board)
    press(board, term, "ENTER")
    assert title(board) == "Query" and board.display.inverse() == [2]


def test_the_list_shows_the_newest_first_and_scrolls_with_up_and_down():
    board, term = boot()
    batch_of_four(term)
    press(board, term, "ENTER", "6", "2")
    rows = board.display.lines()
    assert title(board) == "Batch list"
    assert (
        rows[1].startswith("000004 Refund") and rows[1].endswith("16:04") and rows[2].startswith("Approved")
    )
    assert rows[2].endswith("¥7.00") and rows[3].startswith("000003 Sale") and rows[4].startswith("Declined")
    assert board.display.inverse() == [1, 2]
    press(board, term, "DOWN", "DOWN", "DOWN")
    assert board.display.inverse() == [7, 8] and board.display.lines()[7].startswith("000001")
    press(board, term, "DOWN")  # the oldest is the last one: nothing moves
    assert board.display.inverse() == [7, 8]
    press(board, term, "ENTER")
    assert title(board) == "Transaction" and "¥10.00" in whole(board, term)
    press(board, term, "CANCEL")  # back to the list, at the same one
    assert title(board) == "Batch list" and board.display.inverse() == [7, 8]
    press(board, term, "UP", "UP", "UP")
    assert board.display.inverse() == [1, 2]
    press(board, term, "CANCEL")
    assert title(board) == "Query" and board.display.inverse() == [2]


def test_the_list_reads_only_the_rows_it_shows():
    board, term = boot()
    for trace in range(1, 31):
        add(term, trace, 100 * trace)
    b = term.journal.batch
    read = []
    at = b.at

    def counted(i):
        read.append(i)
        return at(i)

    def whole_batch():
        raise AssertionError("the whole batch read")

    b.at = counted
    b.transactions = whole_batch
    press(board, term, "ENTER", "6", "2")
    assert 0 < len(read) and max(read) == 29 and min(read) >= 26, read
    for _ in range(29):
        press(board, term, "DOWN")
    del read[:]
    press(board, term, "UP")
    assert 0 < len(set(read)) <= 4 and "000002 Sale" in screen(board), (read, screen(board))
    press(board, term, "DOWN")
    assert board.display.lines()[-3].startswith("000001 Sale"), screen(board)


def test_a_row_that_no_longer_reads_back_says_so():
    store = RamStorage()
    board, term = boot(storage=store)
    add(term, 1, 1000)
    add(term, 2, 2000)
    name = bj.files_of(store)[0]
    data = bytearray(store.read(name))
    data[20] ^= 0xFF  # inside the first sale's record: its CRC no longer matches
    store.write(name, bytes(data))
    press(board, term, "ENTER", "6", "2")
    rows = board.display.lines()
    assert rows[1].startswith("000002") and "Record unreadable" in rows[3], screen(board)
    press(board, term, "DOWN", "ENTER")
    assert "Record unreadable" in screen(board)
    press(board, term, "ENTER")
    assert title(board) == "Batch list"
    press(board, term, "CANCEL", "1", "1", "ENTER")
    assert "Record unreadable" in screen(board)


# ---- Query: totals and reversals --------------------------------------------------------------
def test_the_totals_count_and_sum_each_kind_as_batch_totals_does():
    board, term = boot()
    batch_of_four(term)
    add(term, 5, 300, state=bj.IN_DOUBT)
    totals = bj.batch_totals(term.journal.batch.transactions())
    assert totals["sale"] == (2, 3500) and totals["refund"] == (1, 700)
    press(board, term, "ENTER", "6", "3")
    s = screen(board)
    assert title(board) == "Batch totals" and "000001" in s
    assert "Sale x2" in s and "¥35.00" in s and "Void x0" in s and "Refund x1" in s and "¥7.00" in s
    board, term = boot("zh")
    press(board, term, "ENTER", "6", "3")
    assert "消费 0笔" in screen(board) and "¥0.00" in screen(board)


def test_the_reversals_show_the_pending_one_and_those_given_up():
    board, term = boot()
    press(board, term, "ENTER", "6", "4")
    assert "No reversal" in screen(board)
    press(board, term, "ENTER")
    journal = term.journal
    txn = {"kind": "sale", "trace": 7, "batch": 1, "amount": 4321, "card": CARD, "time": T0, "mode": "insert"}
    journal.write_ahead(txn, {11: "000007", 4: "000000004321"})
    journal.give_up_reversal(T0 + 60)
    txn["trace"] = 8
    txn["amount"] = 1200
    journal.write_ahead(txn, {11: "000008", 4: "000000001200"})
    journal.count_attempt()
    press(board, term, "4")
    s = whole(board, term)
    assert s.index("Reversal pending") < s.index("Reversal failed"), s
    assert "000008" in s and "¥12.00" in s and "Attempts" in s and "000007" in s and "¥43.21" in s
    assert "Reason" in s and "98" in s


# ---- Reprint ----------------------------------------------------------------------------------
def test_reprint_shows_the_last_slip_stamped_and_never_stores_the_stamp():
    board, term = boot()
    batch_of_four(term)
    add(term, 5, 300, state=bj.DECLINED)  # the newest has no slip: the last approved one is shown
    before = {}
    for name in term.storage.list():
        before[name] = term.storage.read(name)
    press(board, term, "ENTER", "5")
    assert title(board) == "Reprint" and "3 Settlement report" in screen(board)
    press(board, term, "1")
    first = board.display.lines()[1].strip()
    s = whole(board, term)
    assert first == "DUPLICATE" and s.count("DUPLICATE") == 2, s
    assert "REFUND" in s and "000004" in s and "returned goods" in s
    after = {}
    for name in term.storage.list():
        after[name] = term.storage.read(name)
    assert after == before  # shown, never written
    assert "DUPLICATE" not in str(term.journal.batch.by_trace(4))
    press(board, term, "CANCEL")
    assert title(board) == "Reprint" and board.display.inverse() == [1]


def test_reprint_by_trace_and_what_has_no_slip():
    board, term = boot("zh")
    batch_of_four(term)
    press(board, term, "ENTER", "5", "2", "1", "ENTER")
    s = whole(board, term)
    assert board.display.lines()[0].strip() == "重打印" and s.count("重打印") >= 2 and "¥10.00" in s
    press(board, term, "CANCEL", "3", "ENTER")
    assert "此交易无签购单" in screen(board) and "被拒" in screen(board)
    press(board, term, "ENTER", "9", "ENTER")
    assert "无此交易" in screen(board)


def test_reprint_with_nothing_to_reprint_and_no_settlement_report_yet():
    board, term = boot()
    press(board, term, "ENTER", "5", "1")
    assert "Nothing to reprint" in screen(board)
    press(board, term, "ENTER", "3")
    assert title(board) == "Settlement report" and "No settlement yet" in screen(board)
    press(board, term, "ENTER")
    assert title(board) == "Reprint" and board.display.inverse() == [3]


# ---- the slip ---------------------------------------------------------------------------------
def test_every_slip_line_fits_the_screen_in_both_languages():
    for language in ("zh", "en"):
        board, term = boot(language, merchant="钱记小店钱记小店钱记小店钱记小店")
        batch_of_four(term)
        for trace in (1, 4):
            view = term.journal.batch.by_trace(trace)
            for line in slip.lines(slip.fields(term, view, True), 20):
                assert text_cells(line) <= 20, (language, line)


def test_the_slip_of_a_record_without_an_operator_shows_01():
    board, term = boot()
    add(term, 1, 1000)
    view = term.journal.batch.by_trace(1)
    del view["op"]
    assert ("Operator", "01") in slip.fields(term, view)


def test_the_sale_result_shows_the_operator():
    rig = Rig()
    shown = rig.sale(1234)
    assert "Approved" in shown and "Operator 01" in shown, shown
    term = rig.term
    last = dict(term.journal.last)
    last["op"] = "05"
    assert "Operator 05" in ResultScreen.of_record(term, last).lines


def test_a_result_with_the_operator_and_two_notices_still_shows_every_line():
    # An approved sale after a reversal given up: seven lines of its own and two notices fill the
    # screen under the title; the hint gives its row up rather than hide "Call support".
    board, term = boot()
    lines = ["Approved", "¥5.00", CARD, "Trace 000004", "Operator 01", "RRN 1", "Auth 2", "Reversal failed"]
    term.go(ResultScreen(term, "menu_sale", list(lines)))
    term.settle()
    assert "Press any key" in screen(board)
    term.go(ResultScreen(term, "menu_sale", lines + ["Call support"]))
    term.settle()
    shown = [row.strip() for row in board.display.lines()[1:]]
    assert shown == lines + ["Call support"], shown
    assert "Call support" in screen(board) and "Press any key" not in screen(board)


# ---- where they open ---------------------------------------------------------------------------
def test_a_journal_that_cannot_be_read_refuses_query_and_reprint_with_the_fault():
    board, term = boot()
    term.journal = None
    term.fault = "storage_corrupt"
    for item, name in (("5", "Reprint"), ("6", "Query")):
        press(board, term, "ENTER", item)
        assert title(board) == name and "Stored data damaged" in screen(board), screen(board)
        press(board, term, "ENTER")
        assert title(board) == "Main menu" and board.display.inverse() == [int(item)]
        term.go_idle()
        term.settle()


def test_query_and_reprint_open_with_the_clock_not_set_and_leave_the_heap_at_idle():
    board, term = boot()
    term.clock_valid = False
    add(term, 1, 1000)
    press(board, term, "ENTER", "6", "1", "1", "ENTER")
    assert title(board) == "Transaction"
    assert "firmware.ui.query" in sys.modules and "firmware.ui.slip" in sys.modules
    term.go_idle()
    term.settle()
    press(board, term, "ENTER", "5", "1")
    assert "DUPLICATE" in screen(board) and "firmware.ui.reprint" in sys.modules
    term.go_idle()
    term.settle()
    term.settle()
    for name in ("firmware.ui.query", "firmware.ui.reprint", "firmware.ui.slip"):
        assert name not in sys.modules, name
