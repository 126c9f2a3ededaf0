# hal/drivers/uart_reader.py against a fake UART that delivers bytes in whatever pieces a test chooses
# (as a real UART's readinto with timeout=0 returns what has arrived so far).
from hal.contracts import CARD_SCAN, CARD_SWIPE
from hal.drivers.uart_reader import ScannerSource, StripeSource, UartLines, track2
from sim.cards import DECK


class Uart:
    def __init__(self):
        self.pieces = []  # each readinto returns at most one piece (what arrived since)

    def feed(self, *pieces):
        self.pieces.extend(pieces)

    def any(self):
        return sum(len(p) for p in self.pieces)

    def readinto(self, buf):
        if not self.pieces:
            return None
        p = self.pieces[0]
        n = min(len(p), len(buf))
        buf[:n] = p[:n]
        if n < len(p):
            self.pieces[0] = p[n:]
        else:
            self.pieces.pop(0)
        return n


def drain(lines, times=10):
    out = []
    for _ in range(times):
        got = lines.poll()
        if got is not None:
            out.append(got)
    return out


def test_a_line_assembled_across_partial_reads():
    uart = Uart()
    lines = UartLines(uart)
    uart.feed(b"2834", b"5678")
    assert lines.poll() is None and lines.poll() is None
    uart.feed(b"9012\r\nABC", b"\r")
    assert drain(lines) == ["28345678" + "9012", "ABC"]


def test_several_lines_in_one_read_and_in_chunks_smaller_than_them():
    uart = Uart()
    lines = UartLines(uart, chunk=4)
    uart.feed(b"one\rtwo\n\nthree\r\n")
    assert drain(lines) == ["one", "two", "three"]


def test_an_over_long_line_is_dropped_and_the_next_one_comes_through():
    uart = Uart()
    lines = UartLines(uart, max_len=8)
    uart.feed(b"12345678\r", b"123456789", b"0123\r", b"ok\r")
    assert drain(lines) == ["12345678", "ok"]
    assert lines.dropped == 1


def test_garbage_bytes_drop_the_line():
    uart = Uart()
    lines = UartLines(uart)
    uart.feed(b"12\x0034\r", b"\xff\xfe\r", "¥5\r".encode(), b"good\r")
    assert drain(lines) == ["good"]
    assert lines.dropped == 3


def test_scanner_events_only_while_armed_and_stale_codes_dropped():
    uart = Uart()
    scanner = ScannerSource(UartLines(uart))
    uart.feed(b"134567890123456789\r")
    assert scanner.poll() is None  # disarmed
    scanner.arm()
    assert scanner.poll() is None  # the code scanned before arm() is gone
    uart.feed(b"28", b"1234567890123456\r")
    ev = scanner.poll()
    assert ev is not None and (ev.mode, ev.data) == (CARD_SCAN, "281234567890123456")
    uart.feed(b"2812\r")
    scanner.disarm()
    scanner.arm()
    assert scanner.poll() is None


def test_track2_between_its_sentinels():
    t2 = DECK["debit"].track2
    assert track2(";" + t2 + "?") == t2
    assert track2("%B6217002430012345675^ZHANG/SAN^3112?;" + t2 + "?+123?") == t2
    assert track2(t2) == ""  # no sentinels
    assert track2(";" + t2) == ""  # no end sentinel
    assert track2(";621700243001?345675=31X2?") == ""  # garbled: no clean track 2 anywhere
    assert track2(";" + "1" * 38 + "?") == ""  # longer than ISO 7813 allows


def test_stripe_reader_events():
    uart = Uart()
    stripe = StripeSource(UartLines(uart))
    stripe.arm()
    t2 = DECK["credit"].track2
    uart.feed(b"%B6259650012345671^LI/SI^3112?;", t2.encode(), b"?\r")
    ev = stripe.poll()
    assert ev is not None and (ev.mode, ev.data) == (CARD_SWIPE, t2)
    uart.feed(b"E\r")  # a reader's error line: a failed swipe
    ev = stripe.poll()
    assert ev is not None and ev.data == ""
    assert stripe.poll() is None
