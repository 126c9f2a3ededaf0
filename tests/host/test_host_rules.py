# The host simulator's approval rules against a running server: PIN (55, 75), expiry (54), unknown
# card (14), balance (51), the magic amounts, repeats (same answer, no money moved; 94), voids,
# reversal matching (exactly once; 25 when there is nothing to undo), refund limits (35, window,
# the merchant's day), settlement balanced and unbalanced, batch upload (e-signature uploads:
# test_host_esign.py).
import datetime

import pytest

from firmware.host import messages as msg
from firmware.host.codec import decode
from sim.host.acquirer import MAGIC, OPENING_BALANCE
from sim.host.server import Host
from tests.host.host_client import ACC, Client, card_pin, pan, track2


class Clock:
    """The host's clock, moved by the test (a naive datetime, China time)."""

    def __init__(self):
        self.now = datetime.datetime(2026, 11, 29, 12, 0, 0)

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def host(clock, request):
    h = Host(db=":memory:", clock=clock, unbalance=getattr(request, "param", False))
    h.start()
    yield h
    h.stop()
    assert h.errors == []


@pytest.fixture
def c(host):
    client = Client(host.port)
    client.sign_in()
    yield client
    client.close()


def balance(host, name="debit"):
    return host.call(lambda a: a.ledger.balance(pan(name)))


def txns(host):
    return host.call(lambda a: a.ledger.txns())


def test_pin_required_by_the_service_code_is_checked(host, c):
    assert c.exchange(c.sale(100, pin=None))[39] == "55"  # debit: service code 220
    assert c.exchange(c.sale(100, pin="654321"))[39] == "55"
    assert c.exchange(c.sale(100))[39] == "00"  # a right PIN resets the count
    assert c.exchange(c.sale(100, card="credit", pin=None))[39] == "00"  # 201: no PIN needed
    assert c.exchange(c.sale(100, card="credit", pin="111111"))[39] == "55"  # but checked when sent
    assert balance(host) == OPENING_BALANCE - 100


def test_three_wrong_pins_in_a_row_give_75_and_lock_the_card(host, c):
    codes = [c.exchange(c.sale(100, pin="000000"))[39] for _ in range(3)]
    assert codes == ["55", "55", "75"]
    assert c.exchange(c.sale(100))[39] == "75"  # the right PIN cannot unlock it
    assert balance(host) == OPENING_BALANCE
    assert c.exchange(c.sale(100, card="magonly"))[39] == "00"  # other cards are not affected


def test_small_contactless_needs_no_pin(c):
    assert c.exchange(c.sale(100_000, card="tapsmall", pin=None, entry="tap"))[39] == "00"
    assert c.exchange(c.sale(100_001, card="tapsmall", pin=None, entry="tap"))[39] == "55"
    assert c.exchange(c.sale(100_001, card="tapsmall", entry="tap"))[39] == "00"


def test_expired_and_unknown_cards(host, c):
    assert c.exchange(c.sale(100, card="expired"))[39] == "54"
    assert c.exchange(c.sale(100, card="badluhn"))[39] == "14"
    garbled = c.sale(100)
    garbled[35] = "1234D"
    assert c.exchange(garbled)[39] == "14"
    assert txns(host) == []


def test_balance_51(host, c):
    assert c.exchange(c.sale(OPENING_BALANCE + 1))[39] == "51"
    assert c.exchange(c.sale(OPENING_BALANCE - 1000))[39] == "00"
    assert c.exchange(c.sale(1001))[39] == "51"
    assert c.exchange(c.sale(1000))[39] == "00"
    assert balance(host) == 0


def test_magic_amounts(host, c):
    assert MAGIC == {999905: "05", 999951: "51", 999961: "61", 999996: "96"}
    for amount, code in MAGIC.items():
        answer = c.exchange(c.sale(amount))
        assert answer[39] == code and 37 not in answer
        assert c.exchange(c.sale(amount, card="credit", pin=None))[39] == code
    assert txns(host) == [] and balance(host) == OPENING_BALANCE


def test_a_repeat_gets_the_same_answer_and_moves_no_money(host, c):
    sale = c.sale(2500)
    first = c.exchange(sale)
    again = c.exchange(sale)
    assert first == again and first[39] == "00"
    assert balance(host) == OPENING_BALANCE - 2500 and len(txns(host)) == 1
    changed = sale.copy()
    changed[4] = "000000002600"
    dup = c.exchange(changed)
    assert dup[39] == "94" and 37 not in dup
    assert balance(host) == OPENING_BALANCE - 2500 and len(txns(host)) == 1
    declined = c.sale(100, pin="999999")
    assert c.exchange(declined)[39] == "55"
    assert c.exchange(declined)[39] == "55"  # replayed: the wrong PIN counted once
    assert c.exchange(c.sale(100, pin="999999"))[39] == "55"  # the second wrong one
    assert c.exchange(c.sale(100))[39] == "00"


def _void(c, sale, answer, amount=None, trace=None):
    return msg.void(
        ACC,
        trace or c.next_trace(),
        c.batch,
        amount or msg.amount_of(sale),
        c.batch,
        msg.trace_of(sale),
        answer[37],
        answer[38],
    )


def test_void(host, c):
    sale = c.sale(3000)
    answer = c.exchange(sale)
    assert c.exchange(_void(c, sale, answer, amount=2999))[39] == "13"
    void = _void(c, sale, answer)
    assert c.exchange(void)[39] == "00"
    assert c.exchange(void)[39] == "00"  # a repeat
    assert balance(host) == OPENING_BALANCE
    assert c.exchange(_void(c, sale, answer))[39] == "12"  # voided already
    other = c.sale(100)
    other_answer = c.exchange(other)
    wrong_rrn = _void(c, other, other_answer)
    wrong_rrn[37] = answer[37]
    assert c.exchange(wrong_rrn)[39] == "25"
    with_card = msg.void(
        ACC, c.next_trace(), 1, 100, 1, msg.trace_of(other), other_answer[37], "", track2("credit"), "swipe"
    )
    assert c.exchange(with_card)[39] == "14"  # not the card of the original


def test_a_reversal_undoes_exactly_once(host, c):
    sale = c.sale(4000)
    assert c.exchange(sale)[39] == "00"
    reversal = msg.reversal(sale, msg.REVERSE_NO_ANSWER)
    assert c.exchange(reversal)[39] == "00"
    assert balance(host) == OPENING_BALANCE and txns(host)[0]["status"] == "reversed"
    assert c.exchange(reversal)[39] == "00"  # the same reversal again: the same answer
    assert balance(host) == OPENING_BALANCE
    other = reversal.copy()
    other[39] = msg.REVERSE_MAC
    assert c.exchange(other)[39] == "94"  # same key, other content
    assert balance(host) == OPENING_BALANCE


def test_a_reversal_is_matched_by_the_originals_trace(host, c):
    sale = c.sale(4000)
    assert c.exchange(sale)[39] == "00"
    wrong = msg.reversal(sale, msg.REVERSE_NO_ANSWER)
    wrong[11] = "{:06d}".format(c.next_trace())  # a new trace: nothing to undo
    assert c.exchange(wrong)[39] == "25"
    assert balance(host) == OPENING_BALANCE - 4000
    declined = c.sale(999905)
    assert c.exchange(declined)[39] == "05"
    assert c.exchange(msg.reversal(declined, msg.REVERSE_NO_ANSWER))[39] == "25"
    never = c.sale(100)  # never sent: the host has nothing under its trace
    assert c.exchange(msg.reversal(never, msg.REVERSE_NO_ANSWER))[39] == "25"
    batch2 = msg.reversal(sale, msg.REVERSE_NO_ANSWER)
    batch2[60] = "22000002000" + "60"
    assert c.exchange(batch2)[39] == "25"  # another batch
    assert c.exchange(msg.reversal(sale, msg.REVERSE_NO_ANSWER))[39] == "00"
    assert balance(host) == OPENING_BALANCE


def test_a_void_reversal_restores_the_sale(host, c):
    sale = c.sale(5000)
    answer = c.exchange(sale)
    void = _void(c, sale, answer)
    assert c.exchange(void)[39] == "00" and balance(host) == OPENING_BALANCE
    assert c.exchange(msg.reversal(void, msg.REVERSE_TERMINAL))[39] == "00"
    assert balance(host) == OPENING_BALANCE - 5000
    assert [t["voided"] for t in txns(host)] == [0, 0]
    assert c.exchange(_void(c, sale, answer))[39] == "00"  # the sale can be voided again


def test_a_reversal_before_its_original_keeps_it_from_being_booked(host, c):
    sale = c.sale(4000)  # sent late: its reversal overtakes it
    reversal = msg.reversal(sale, msg.REVERSE_NO_ANSWER)
    assert c.exchange(reversal)[39] == "25"  # nothing to undo yet
    assert c.exchange(sale)[39] == "12"  # it comes after all: not booked
    assert c.exchange(reversal)[39] == "25"  # a repeat of the reversal: the same answer
    assert c.exchange(sale)[39] == "12"  # and of the sale
    assert balance(host) is None and txns(host) == []  # the card was not even looked at
    assert c.exchange(c.sale(4000))[39] == "00"  # the next sale is not affected
    assert balance(host) == OPENING_BALANCE - 4000


def test_a_void_reversed_before_it_came_leaves_the_sale(host, c):
    sale = c.sale(5000)
    answer = c.exchange(sale)
    void = _void(c, sale, answer)
    assert c.exchange(msg.reversal(void, msg.REVERSE_NO_ANSWER))[39] == "25"
    assert c.exchange(void)[39] == "12"
    assert balance(host) == OPENING_BALANCE - 5000
    assert [(t["kind"], t["status"], t["voided"]) for t in txns(host)] == [("sale", "ok", 0)]
    assert c.exchange(_void(c, sale, answer))[39] == "00"  # a new void (its own trace) goes through


def test_a_repeat_of_a_reversed_request_gets_12(host, c):
    sale = c.sale(4000)
    assert c.exchange(sale)[39] == "00"
    assert c.exchange(msg.reversal(sale, msg.REVERSE_NO_ANSWER))[39] == "00"
    again = c.exchange(sale)
    assert again[39] == "12" and 37 not in again  # not its first answer: the money is back
    assert balance(host) == OPENING_BALANCE
    other = c.sale(3000)
    answer = c.exchange(other)
    void = _void(c, other, answer)
    assert c.exchange(void)[39] == "00"
    assert c.exchange(msg.reversal(void, msg.REVERSE_NO_ANSWER))[39] == "00"
    assert c.exchange(void)[39] == "12"  # the void was reversed: the sale stands
    assert balance(host) == OPENING_BALANCE - 3000


def test_a_reversal_of_a_declined_sale_changes_nothing(host, c):
    declined = c.sale(999905)
    assert c.exchange(declined)[39] == "05"
    assert c.exchange(msg.reversal(declined, msg.REVERSE_NO_ANSWER))[39] == "25"
    assert c.exchange(declined)[39] == "05"  # seen before its reversal: its first answer
    assert host.call(lambda a: a.ledger.count("early_reversals")) == 0


def _refund(c, answer, amount, date="1129", card="debit"):
    return msg.refund(
        ACC,
        c.next_trace(),
        c.batch,
        amount,
        answer[37],
        date,
        track2(card),
        "swipe",
        c.pin_block(card_pin(card), card),
    )


def test_refund_limits(host, c, clock):
    answer = c.exchange(c.sale(10000))
    c.exchange(c.sale(50000, card="credit", pin=None))  # the merchant's day covers the refunds
    assert c.exchange(_refund(c, answer, 4000))[39] == "00"
    assert c.exchange(_refund(c, answer, 7000))[39] == "35"  # 11000 > 10000
    assert c.exchange(_refund(c, answer, 6000))[39] == "00"
    assert c.exchange(_refund(c, answer, 1))[39] == "35"
    assert balance(host) == OPENING_BALANCE
    assert c.exchange(_refund(c, answer, 1, date="1128"))[39] == "25"  # not the original's date
    assert c.exchange(_refund(c, answer, 1, card="magonly"))[39] == "25"  # not the original's card
    refund = _refund(c, answer, 1)
    refund[37] = "999999999999"
    assert c.exchange(refund)[39] == "25"


def test_refund_window_and_the_merchants_day(host, c, clock):
    answer = c.exchange(c.sale(10000))
    clock.now += datetime.timedelta(days=1)
    # a new day with nothing sold yet: the merchant's net cannot cover a refund
    assert c.exchange(_refund(c, answer, 100))[39] == "51"
    c.exchange(c.sale(150, card="credit", pin=None))
    assert c.exchange(_refund(c, answer, 100))[39] == "00"
    assert c.exchange(_refund(c, answer, 100))[39] == "51"  # 50 left today
    clock.now += datetime.timedelta(days=180)
    c.exchange(c.sale(100000, card="credit", pin=None))
    assert c.exchange(_refund(c, answer, 100))[39] == "12"  # 181 days after the sale


def _settle(c, debit, dcount, credit, ccount):
    return c.exchange(msg.settlement(ACC, c.next_trace(), c.batch, debit, dcount, credit, ccount))


def test_settlement_balanced_then_the_next_batch(host, c):
    sale = c.sale(3000)
    answer = c.exchange(sale)
    c.exchange(c.sale(2000, card="credit", pin=None))
    c.exchange(_void(c, sale, answer))
    c.exchange(msg.reversal(c.sale(999), msg.REVERSE_NO_ANSWER))  # nothing booked: 25
    reversed_sale = c.sale(700)
    c.exchange(reversed_sale)
    c.exchange(msg.reversal(reversed_sale, msg.REVERSE_NO_ANSWER))
    c.exchange(c.sale(1500, card="visa", pin=None))  # foreign totals
    req = msg.settlement(ACC, c.next_trace(), 1, 5000, 2, 3000, 1, "01", (1500, 1, 0, 0))
    settled = c.exchange(req)
    assert msg.settlement_result(settled) == (msg.BALANCED, msg.BALANCED)
    assert settled[48][:30] == msg.settlement_totals(5000, 2, 3000, 1)[:30]
    assert c.sign_in()[60][2:8] == "000002"


def test_a_batch_settles_once_and_its_reversals_are_refused_after(host, c):
    sale = c.sale(3000)
    c.exchange(sale)
    c.exchange(c.sale(1500, card="visa", pin=None))
    settled = _settle(c, 3000, 1, 0, 0)
    assert msg.settlement_result(settled) == (msg.BALANCED, msg.UNBALANCED)  # foreign not sent
    # the same batch again under a new trace, other totals: the first result, nothing moves
    again = msg.settlement(ACC, c.next_trace(), 1, 3000, 1, 0, 0, "01", (1500, 1, 0, 0))
    assert msg.settlement_result(c.exchange(again)) == (msg.BALANCED, msg.UNBALANCED)
    assert host.call(lambda a: a.ledger.count("settlements")) == 1
    late = c.exchange(msg.reversal(sale, msg.REVERSE_NO_ANSWER))
    assert late[39] == "58" and late[39] not in msg.REVERSAL_DONE
    assert host.call(lambda a: a.ledger.txns()[0]["status"]) == "ok"


def test_settlement_unbalanced_and_batch_upload(host, c):
    c.exchange(c.sale(3000))
    assert msg.settlement_result(_settle(c, 3001, 1, 0, 0))[0] == msg.UNBALANCED
    upload = msg.batch_upload(ACC, 1, msg.TYPE_SALE, 1, 3000, "000000000001", "007919", "1129", "120000")
    assert c.exchange(upload)[39] == "00"
    assert c.exchange(msg.batch_upload_end(ACC, c.next_trace(), 1, 1))[39] == "00"
    assert host.call(lambda a: a.ledger.count("uploads")) == 1


@pytest.mark.parametrize("host", [True], indirect=True)
def test_unbalance_forces_unbalanced(host, c):
    c.exchange(c.sale(3000))
    assert msg.settlement_result(_settle(c, 3000, 1, 0, 0)) == (msg.UNBALANCED, msg.BALANCED)


def test_what_the_host_cannot_use_is_30_or_12(host, c):
    sale = c.sale(100)
    del sale[35]
    assert c.exchange(sale)[39] == "30"
    odd = c.sale(100)
    odd[3] = "310000"  # a processing code the host does not know
    c.send(c.frame(odd))
    assert decode(c.read_frame())[39] == "12"
    assert txns(host) == []


def _card_less(refund):
    """The refund as the terminal resends it after a power cut: no card data (F22 012)."""
    out = refund.copy()
    for n in (26, 35, 36, 52, 53):
        out.fields.pop(n, None)
    out[22] = "012"
    return out


def test_a_refund_takes_no_pin_and_its_card_less_resend_is_the_same_refund(host, c):
    answer = c.exchange(c.sale(10000))
    c.exchange(c.sale(50000, card="credit", pin=None))  # the merchant's day covers the refunds
    refund = _refund(c, answer, 3000)
    for n in (26, 52, 53):  # 退货不输密: the debit card needs a PIN for a sale, none for a refund
        refund.fields.pop(n, None)
    refund[22] = "052"
    first = c.exchange(refund)
    assert first[39] == "00"
    again = c.exchange(_card_less(refund))  # booked: the first answer again, nothing moves
    assert again[39] == "00" and again[37] == first[37]
    assert balance(host) == OPENING_BALANCE - 10000 + 3000
    unseen = _refund(c, answer, 2000)
    assert c.exchange(_card_less(unseen))[39] == "25"  # never came: the refund did not happen
    assert c.exchange(unseen)[39] == "25"  # and when it comes late, with its card: never booked
    assert balance(host) == OPENING_BALANCE - 10000 + 3000
    other = _card_less(_refund(c, answer, 1000))
    c.exchange(other)
    other[4] = "000000000999"  # the same trace with other content: 94, nothing moves
    assert c.exchange(other)[39] == "94"
