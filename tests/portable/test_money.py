from firmware.money import MAX_DIGITS, format_fen, parse_fen


def _raises(fn, *args):
    try:
        fn(*args)
    except ValueError:
        return True
    return False


def test_format_fen_groups_thousands_and_keeps_two_decimals():
    assert format_fen(0) == "¥0.00"
    assert format_fen(5) == "¥0.05"
    assert format_fen(100) == "¥1.00"
    assert format_fen(123456) == "¥1,234.56"
    assert format_fen(100000) == "¥1,000.00"
    assert format_fen(99999999) == "¥999,999.99"
    assert format_fen(999999999999) == "¥9,999,999,999.99"


def test_format_fen_negative_and_other_symbol():
    assert format_fen(-5) == "-¥0.05"
    assert format_fen(-123456) == "-¥1,234.56"
    assert format_fen(250, "") == "2.50"


def test_parse_fen_reads_keypad_digits():
    assert parse_fen("1") == 1
    assert parse_fen("12345") == 12345
    assert parse_fen("000123") == 123
    assert parse_fen("9" * MAX_DIGITS) == 10**MAX_DIGITS - 1


def test_parse_fen_refuses_what_is_not_an_amount():
    for bad in ("", "12a", "-1", "1.5", " 1", "9" * (MAX_DIGITS + 1), "１"):
        assert _raises(parse_fen, bad), bad
    assert _raises(parse_fen, 12)
