# Card data from a read: track 2 (or its chip/contactless equivalent) parsed, Luhn-checked,
# expiry-checked and masked. The full PAN and track live in RAM only: never store, log or show them.

from firmware.errors import BadCardData, CardExpired
from hal.contracts import CARD_TAP

_SEPARATORS = "=Dd"


def luhn_ok(digits):
    """True if the digit string passes the Luhn (mod 10) check."""
    total = 0
    double = False
    for i in range(len(digits) - 1, -1, -1):
        d = ord(digits[i]) - 48
        if double:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        double = not double
    return total % 10 == 0


def mask_pan(pan):
    """First 6 and last 4 digits, the middle as '*': the only form of a PAN ever shown or stored."""
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def _digits(s):
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return len(s) > 0


class Card:
    """A card as read. str()/repr() show the masked PAN only."""

    __slots__ = ("_pan", "_track2", "expiry", "service_code", "org", "mode")

    def __init__(self, pan, expiry, service_code, track2, org="", mode=""):
        self._pan = pan
        self._track2 = track2
        self.expiry = expiry  # "YYMM"
        self.service_code = service_code
        self.org = org
        self.mode = mode

    def take_track2(self):
        """Track 2 for the online request, handed over once: the card forgets it (None after),
        so track data lives only from the read until the request is built."""
        track2 = self._track2
        self._track2 = None
        return track2

    def pan_for_pin_entry(self):
        """The full PAN, for PinEntry.begin() only (the PIN block is bound to it): never shown,
        stored or put into a message by the caller."""
        return self._pan

    @property
    def masked_pan(self):
        return mask_pan(self._pan)

    def chip_capable(self):
        """Service code 2xx/6xx: the card has a chip, so a swipe must ask for insertion instead."""
        return self.service_code[:1] in ("2", "6")

    def expired(self, year, month):
        """True if the card's last valid month is before (year, month). Expiry YY is 20YY."""
        yy = int(self.expiry[:2])
        mm = int(self.expiry[2:])
        return (2000 + yy) * 12 + mm < year * 12 + month

    def __repr__(self):
        return "Card({} {} {})".format(self.masked_pan, self.org, self.mode)

    __str__ = __repr__


def parse_track2(text, org="", mode=""):
    """Parse track 2 ("PAN=YYMMSSS…", chip form "PAND…" with trailing F padding, optional ';' '?'
    sentinels). Raises BadCardData with key card_unreadable or card_bad_number; never echoes the data."""
    if not isinstance(text, str) or not 0 < len(text) <= 40:
        raise BadCardData("card_unreadable")
    t = text.strip()
    if t[:1] == ";":
        t = t[1:]
    end = t.find("?")
    if end >= 0:
        t = t[:end]  # the LRC after the end sentinel is not ours to keep
    while t[-1:] in ("F", "f"):
        t = t[:-1]
    sep = -1
    for i in range(len(t)):
        if t[i] in _SEPARATORS:
            sep = i
            break
    if sep < 0:
        raise BadCardData("card_unreadable")
    pan = t[:sep]
    rest = t[sep + 1 :]
    if len(rest) < 7 or not _digits(rest[:7]) or not _digits(pan):
        raise BadCardData("card_unreadable")
    if not 13 <= len(pan) <= 19 or not luhn_ok(pan):
        raise BadCardData("card_bad_number")
    expiry = rest[:4]
    if not 1 <= int(expiry[2:]) <= 12:
        raise BadCardData("card_unreadable")
    return Card(pan, expiry, rest[4:7], t, org, mode)


def read_card(event, year, month):
    """A reader's CardEvent to a usable Card, refusing unreadable, invalid and expired cards."""
    card = parse_track2(event.data, event.org, event.mode)
    if card.expired(year, month):
        raise CardExpired()
    return card


# ---- PIN or not (docs/CARDS.md) ---------------------------------------------------------------
PIN_REQUIRED = "required"  # ask for a PIN; an empty one is refused
PIN_OPTIONAL = "optional"  # ask, and the cardholder may press ENTER on an empty PIN
PIN_NONE = "none"  # do not ask
# 免密: 1000 CNY in China since 2018: the default of the merchant parameter no_pin_limit_fen
# (firmware/params.py), which the sale passes to pin_rule.
NO_PIN_LIMIT_FEN = 100000


def pin_rule(service_code, mode, amount_fen, no_pin_limit_fen, has_pin_pad=True):
    """Whether a read card needs a PIN. A contactless read (mode "tap") at or under the no-PIN
    limit no_pin_limit_fen needs none (免密). Otherwise the service code's third digit (ISO 7813)
    decides: 0, 3, 5 required; 6, 7 required if the terminal has a PIN pad (ours has), none
    without one; 1, 2, 4 optional. A service code that is not 3 digits, or an unassigned digit,
    asks for a PIN."""
    if type(amount_fen) is not int or type(no_pin_limit_fen) is not int:
        raise ValueError("amounts are int fen")
    if mode == CARD_TAP and amount_fen <= no_pin_limit_fen:
        return PIN_NONE
    if type(service_code) is not str or len(service_code) != 3 or not service_code.isdigit():
        return PIN_REQUIRED
    third = service_code[2]
    if third in "124":
        return PIN_OPTIONAL
    if third in "67":
        return PIN_REQUIRED if has_pin_pad else PIN_NONE
    return PIN_REQUIRED
