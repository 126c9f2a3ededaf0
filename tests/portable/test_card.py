from firmware.card import (
    NO_PIN_LIMIT_FEN,
    PIN_NONE,
    PIN_OPTIONAL,
    PIN_REQUIRED,
    luhn_ok,
    mask_pan,
    parse_track2,
    pin_rule,
    read_card,
)
from firmware.errors import BadCardData, CardExpired
from hal.contracts import CARD_INSERT, CARD_SWIPE, CardEvent

DEBIT = "6222021234567890128"  # Luhn-valid test PAN


def _key(fn, *args):
    try:
        fn(*args)
    except BadCardData as exc:
        return exc.key
    return None


def test_luhn():
    assert luhn_ok(DEBIT)
    assert luhn_ok("4111111111111111")
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")
    assert not luhn_ok("6222021234567890127")


def test_mask_pan_keeps_first_six_and_last_four():
    assert mask_pan(DEBIT) == "622202*********0128"
    assert mask_pan("4111111111111111") == "411111******1111"
    assert mask_pan("6222021234567") == "622202***4567"


def test_parse_swipe_track2_with_sentinels():
    card = parse_track2(";" + DEBIT + "=31122201234567890?7")
    assert card.masked_pan == "622202*********0128"
    assert card.expiry == "3112"
    assert card.service_code == "220"
    assert card.chip_capable()


def test_parse_chip_equivalent_with_padding():
    card = parse_track2("4111111111111111D3112101123456F")
    assert card.expiry == "3112"
    assert card.service_code == "101"
    assert not card.chip_capable()


def test_card_text_never_shows_the_full_pan():
    card = parse_track2(DEBIT + "=3112220")
    for s in (str(card), repr(card)):
        assert DEBIT not in s
        assert "622202" in s and "0128" in s


def test_malformed_track_data_is_refused_with_a_reason():
    assert _key(parse_track2, "") == "card_unreadable"
    assert _key(parse_track2, "garbage") == "card_unreadable"
    assert _key(parse_track2, DEBIT) == "card_unreadable"  # no separator
    assert _key(parse_track2, DEBIT + "=31") == "card_unreadable"  # no expiry/service code
    assert _key(parse_track2, DEBIT + "=3113220") == "card_unreadable"  # month 13
    assert _key(parse_track2, DEBIT + "=3100220") == "card_unreadable"  # month 0
    assert _key(parse_track2, "62220A1234567890128=3112220") == "card_unreadable"
    assert _key(parse_track2, "1" * 41) == "card_unreadable"
    assert _key(parse_track2, None) == "card_unreadable"


def test_bad_card_numbers_are_refused():
    assert _key(parse_track2, "6222021234567890127=3112220") == "card_bad_number"  # Luhn
    assert _key(parse_track2, "411111111116=3112220") == "card_bad_number"  # 12 digits
    assert _key(parse_track2, "4" * 20 + "=3112220") == "card_bad_number"  # 20 digits


def test_expiry_is_checked_against_the_current_month():
    card = parse_track2(DEBIT + "=2611220")
    assert not card.expired(2026, 11)  # valid through the end of its month
    assert card.expired(2026, 12)
    assert card.expired(2027, 1)
    assert not card.expired(2025, 12)


def test_read_card_refuses_an_expired_card():
    event = CardEvent(CARD_SWIPE, DEBIT + "=2010220", "CUP")
    try:
        read_card(event, 2026, 11)
        raise AssertionError("expired card accepted")
    except CardExpired as exc:
        assert exc.key == "card_expired"


def test_read_card_keeps_mode_and_org():
    card = read_card(CardEvent(CARD_INSERT, DEBIT + "D3112220", "CUP"), 2026, 11)
    assert card.mode == CARD_INSERT
    assert card.org == "CUP"


# ---- PIN or not ------------------------------------------------------------------------------
def test_pin_rule_follows_the_service_codes_third_digit():
    for third, expected in (
        ("0", PIN_REQUIRED),
        ("3", PIN_REQUIRED),
        ("5", PIN_REQUIRED),
        ("6", PIN_REQUIRED),
        ("7", PIN_REQUIRED),
        ("1", PIN_OPTIONAL),
        ("2", PIN_OPTIONAL),
        ("4", PIN_OPTIONAL),
        ("8", PIN_REQUIRED),  # unassigned: the careful way
        ("9", PIN_REQUIRED),
    ):
        for mode in ("swipe", "insert", "tap"):
            # a tap over the limit follows the service code like any read
            assert pin_rule("22" + third, mode, 100001, 100000) == expected, (third, mode)


def test_pin_rule_without_a_pin_pad_drops_only_the_6_and_7_pins():
    assert pin_rule("226", "insert", 500, 100000, has_pin_pad=False) == PIN_NONE
    assert pin_rule("227", "swipe", 500, 100000, has_pin_pad=False) == PIN_NONE
    assert pin_rule("220", "swipe", 500, 100000, has_pin_pad=False) == PIN_REQUIRED
    assert pin_rule("221", "swipe", 500, 100000, has_pin_pad=False) == PIN_OPTIONAL


def test_pin_rule_contactless_at_or_under_the_limit_needs_none():
    assert NO_PIN_LIMIT_FEN == 100000  # 1000 CNY
    assert pin_rule("220", "tap", 100000, NO_PIN_LIMIT_FEN) == PIN_NONE  # at the limit
    assert pin_rule("220", "tap", 0, NO_PIN_LIMIT_FEN) == PIN_NONE
    assert pin_rule("220", "tap", 100001, NO_PIN_LIMIT_FEN) == PIN_REQUIRED
    assert pin_rule("220", "tap", 100, 0) == PIN_REQUIRED  # a limit of 0 turns 免密 off
    assert pin_rule("220", "insert", 100, NO_PIN_LIMIT_FEN) == PIN_REQUIRED  # chip: no 免密
    assert pin_rule("220", "swipe", 100, NO_PIN_LIMIT_FEN) == PIN_REQUIRED


def test_pin_rule_asks_for_a_pin_when_the_service_code_is_not_three_digits():
    for code in ("", "22", "2201", "2X1", None, 221):
        assert pin_rule(code, "swipe", 100, 100000) == PIN_REQUIRED, code
    for bad in (True, 1.5, "100", None):
        try:
            pin_rule("221", "tap", bad, 100000)
        except ValueError:
            continue
        raise AssertionError("amount {!r} accepted".format(bad))
