# The console board's keypad and display (hal/console.py) against the HAL contracts, with a
# scripted stream standing in for the serial console.
from hal.console import ConsoleDisplay, ConsoleKeypad, NoCardReader, NoLink, NoSignaturePad, key_for
from hal.contracts import CAP_BLIT, CAP_PIXELS, declared, has
from tests.portable import conformance


class Console:
    """Characters typed on the console, and everything written back to it."""

    def __init__(self, typed=""):
        self.typed = typed
        self.written = []

    def ready(self):
        return len(self.typed) > 0

    def read(self, n):
        chars = self.typed[:n]
        self.typed = self.typed[n:]
        return chars

    def write(self, s):
        self.written.append(s)


def _keypad(typed=""):
    console = Console(typed)
    return ConsoleKeypad(console, console, console.ready), console


def test_console_keypad_conformance():
    conformance.check_keypad(lambda: _keypad()[0], beeps=lambda keypad: keypad.out.written.count("\x07"))


def test_console_keys_map_to_key_codes():
    keypad, console = _keypad("12\r\x1b\x7fmud\x1b[A\x1b[B?x")
    keys = []
    while True:
        key = keypad.poll()
        if key is None:
            break
        keys.append(key)
    assert keys == ["1", "2", "ENTER", "CANCEL", "CLEAR", "FUNC", "UP", "DOWN", "UP", "DOWN", "?", "CANCEL"]
    assert key_for("7") == "7" and key_for("\n") == "ENTER" and key_for("z") == "z"


def test_console_beep_rings_the_terminal_bell():
    keypad, console = _keypad()
    keypad.beep()
    assert console.written == ["\x07"]


def test_console_display_conformance():
    conformance.check_display(lambda: ConsoleDisplay(Console()))  # text only: it lacks pixels and blit


def test_console_display_draws_rows_with_ansi():
    console = Console()
    display = ConsoleDisplay(console, rows=3, cols=6)
    display.text(0, "\u6d88\u8d39 Sale")  # 消费 Sale: cut to 6 cells
    display.text(1, "1", inverse=True)
    display.show()
    assert console.written == [
        "\x1b[H\x1b[2J" + "\u6d88\u8d39 S\r\n" + "\x1b[7m1     \x1b[0m\r\n" + "      \r\n"
    ]


def test_console_display_lacks_pixels_and_says_why():
    display = ConsoleDisplay(Console())
    assert not has(display, CAP_PIXELS) and not has(display, CAP_BLIT)
    assert "console" in display.lacks[CAP_BLIT] and "console" in display.lacks[CAP_PIXELS]
    conformance.raises(NotImplementedError, display.blit, b"\xff", 0, 0, 8, 1)  # never a silent no-op


def test_console_stand_ins_declare_what_they_lack():
    conformance.check_card_reader(NoCardReader)  # reads no mode: arming any is refused
    conformance.check_signature_pad(NoSignaturePad)  # no pen: start() is not there
    assert declared(NoLink()) == [] and NoCardReader().capabilities == ()


class BrokenConsole(Console):
    """A console whose reader went away: every write fails as a closed pipe does."""

    def write(self, s):
        raise OSError(32, "broken pipe")


def test_a_closed_console_is_a_device_fault():
    from hal.contracts import HalError
    from tests.portable.conformance import raises

    raises(HalError, ConsoleDisplay(None).show)  # no stdout at all (fd 1 closed at start)
    raises(HalError, ConsoleDisplay(BrokenConsole()).show)
    keypad = ConsoleKeypad(BrokenConsole(), BrokenConsole(), lambda: False)
    keypad.beep()  # a lost beep is not worth a fault
    assert keypad.poll() is None
