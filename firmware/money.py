# Money is an int of fen everywhere; this is the only place that turns keypad digits into fen
# and fen into "¥1,234.56". Never use floats for money.

from firmware.compat import const

MAX_DIGITS = const(12)  # ISO 8583 field 4 is n12: the most fen any message can carry


def parse_fen(digits):
    """Keypad digits as typed ("12345" = ¥123.45) to fen; ValueError if not 1..12 digits."""
    if not isinstance(digits, str) or not 0 < len(digits) <= MAX_DIGITS:
        raise ValueError("amount must be 1 to 12 digits")
    for ch in digits:
        if ch < "0" or ch > "9":
            raise ValueError("amount must be digits only")
    return int(digits)


def format_fen(fen, symbol="¥"):
    """fen to "¥1,234.56" (thousands grouped, always two decimals, "-¥0.05" when negative)."""
    sign = "-" if fen < 0 else ""
    fen = -fen if fen < 0 else fen
    yuan = str(fen // 100)
    groups = []
    while len(yuan) > 3:
        groups.insert(0, yuan[-3:])
        yuan = yuan[:-3]
    groups.insert(0, yuan)
    cents = fen % 100
    return "{}{}{}.{}{}".format(sign, symbol, ",".join(groups), cents // 10, cents % 10)
