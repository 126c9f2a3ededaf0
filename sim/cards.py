# The deck of test cards the simulator and the tests present to the card reader (docs/CARDS.md).
# The PANs are made up: never add a real card number, and never use these anywhere but tests.
from dataclasses import dataclass

from hal.contracts import CARD_INSERT, CARD_SCAN, CARD_SWIPE, CARD_TAP, CardEvent

_ALL = (CARD_SWIPE, CARD_INSERT, CARD_TAP)


@dataclass(frozen=True)
class Card:
    name: str
    track2: str  # as swiped: PAN '=' YYMM service-code discretionary-data
    org: str  # hal.contracts.CardEvent.org
    kind: str  # "debit" or "credit"
    domestic: bool  # issued in China (domestic totals) or abroad (foreign totals)
    modes: tuple  # the CARD_* read modes the card offers
    note: str
    pin: str  # the cardholder's PIN: the host simulator checks it (wrong-PIN cases); never shown


# A table, one card per two lines: clearer than the formatter's one field per line.
# fmt: off
DECK = {
    card.name: card
    for card in (
        Card("debit", "6217002430012345675=311222012345", "CUP", "debit", True, _ALL,
             "CUP domestic debit, 19 digits, chip + contactless: the everyday card", "123456"),
        Card("credit", "6259650012345671=311220198765", "CUP", "credit", True, _ALL,
             "CUP domestic credit, 16 digits", "888888"),
        Card("visa", "4012000033334440=311220100000", "VISA", "credit", False, _ALL,
             "foreign Visa credit: counts in the foreign totals", "1234"),
        Card("mastercard", "5222220000123450=311220100000", "MC", "credit", False, _ALL,
             "foreign Mastercard credit: counts in the foreign totals", "4321"),
        Card("expired", "6214830011223344551=231222000000", "CUP", "debit", True, (CARD_SWIPE, CARD_INSERT),
             "Luhn-valid CUP debit that expired 2023-12: refused before going online", "123456"),
        Card("badluhn", "6217002430012345676=311222012345", "CUP", "debit", True, (CARD_SWIPE, CARD_INSERT),
             "the debit card with its last digit changed: fails the Luhn check", "123456"),
        Card("garbled", "621700243001?345675=31X2", "", "debit", True, (CARD_SWIPE,),
             "a bad magstripe read: '?' inside the PAN, 'X' in the expiry", "000000"),
        Card("short", "621700243002=311212000000", "CUP", "debit", True, (CARD_SWIPE,),
             "Luhn-valid but only 12 digits (a PAN has 13 to 19)", "654321"),
        Card("tapsmall", "6230580000112233445=311222000000", "CUP", "debit", True, _ALL,
             "CUP debit for the no-PIN/no-signature rule: tap it for a small amount", "135790"),
        Card("magonly", "6216608800123456787=311212000000", "CUP", "debit", True, (CARD_SWIPE,),
             "magstripe-only CUP debit (service code 120: no chip), no contactless", "24681357"),
    )
}
# fmt: on


def event(name, mode):
    """The CardEvent the reader gives when card `name` is read by `mode`: swipe gives track 2 as
    written on the card; insert and tap give the track-2-equivalent data of tag 57 as hex digits
    ('D' separator, 'F' padding to whole bytes). ValueError for an unknown card or mode."""
    card = DECK.get(name)
    if card is None:
        raise ValueError("no card {!r} in the deck; known cards: {}".format(name, ", ".join(sorted(DECK))))
    if mode not in card.modes:
        raise ValueError(
            "card {!r} cannot be read by {!r}; it supports {}".format(name, mode, ", ".join(card.modes))
        )
    if mode == CARD_SWIPE:
        return CardEvent(mode, card.track2, card.org)
    data = card.track2.replace("=", "D")
    if len(data) % 2:
        data += "F"
    return CardEvent(mode, data, card.org)


def scan(text):
    """The CardEvent of a QR code or barcode (a payment code, a receipt) read by the scanner."""
    return CardEvent(CARD_SCAN, text)
