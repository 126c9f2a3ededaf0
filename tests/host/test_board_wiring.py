# The reference board's wiring table in docs/BOARD.md (ESP32-WROOM-32E): every GPIO at most once,
# only pins the module brings out, never the flash pins, input-only pins (34-39) only as inputs,
# the strapping pins (0, 2, 5, 12, 15) avoided or justified in the notes, the REPL's UART0 kept,
# and no I2C address twice.
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOARD_MD = os.path.join(REPO, "docs", "BOARD.md")

# ESP32-WROOM-32E datasheet, pin definitions: the GPIOs on the module's pads (6-11 go to the flash).
MODULE_GPIOS = {0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 25, 26, 27, 32, 33}
MODULE_GPIOS |= {34, 35, 36, 39}
FLASH = set(range(6, 12))
INPUT_ONLY = {34, 35, 36, 37, 38, 39}
STRAPPING = {0, 2, 5, 12, 15}
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(in|out|io)\s*\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$")
I2C_ROW = re.compile(r"^\|\s*(0x[0-9a-fA-F]{2})\s*\|([^|]*)\|\s*$")


def section(text):
    start = text.index("## Reference board")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def wiring(text):
    """[(gpio, dir, part, signal, notes)] of the wiring table."""
    return [
        (int(m.group(1)), m.group(2), m.group(3).strip(), m.group(4).strip(), m.group(5).strip())
        for m in (ROW.match(line) for line in section(text).splitlines())
        if m
    ]


def problems(rows):
    found = []
    seen = {}
    for gpio, direction, part, _signal, notes in rows:
        if gpio in seen:
            found.append("GPIO {} used twice ({} and {})".format(gpio, seen[gpio], part))
        seen[gpio] = part
        if gpio in FLASH:
            found.append("GPIO {} belongs to the flash".format(gpio))
        elif gpio not in MODULE_GPIOS:
            found.append("GPIO {} is not on the module".format(gpio))
        if gpio in INPUT_ONLY and direction != "in":
            found.append("GPIO {} is input only but wired as {}".format(gpio, direction))
        if gpio in STRAPPING and "strapping" not in notes.lower():
            found.append("GPIO {} is a strapping pin: avoid it or justify it in the notes".format(gpio))
    return found


def test_the_reference_wiring_table_is_sound():
    with open(BOARD_MD, encoding="utf-8") as f:
        rows = wiring(f.read())
    assert len(rows) >= 16
    assert problems(rows) == []
    by_gpio = {gpio: (direction, part, signal) for gpio, direction, part, signal, _ in rows}
    assert by_gpio[1][2] == "TXD0" and by_gpio[3][2] == "RXD0"  # the REPL console stays
    signals = {signal for _, _, _, signal, _ in rows}
    for needed in ("SCK", "CS", "D/C", "T_CS", "SDA", "SCL"):
        assert needed in signals or any(s.startswith(needed + " ") for s in signals), needed


def test_i2c_addresses_are_distinct():
    with open(BOARD_MD, encoding="utf-8") as f:
        text = section(f.read())
    addresses = [m.group(1).lower() for m in (I2C_ROW.match(line) for line in text.splitlines()) if m]
    assert "0x24" in addresses and "0x20" in addresses  # PN532, PCF8574 (the drivers' defaults)
    assert len(addresses) == len(set(addresses))


def test_the_checker_finds_each_kind_of_mistake():
    bad = [
        (4, "out", "a", "x", ""),
        (4, "out", "b", "y", ""),
        (7, "out", "c", "z", ""),
        (34, "out", "d", "w", ""),
        (12, "out", "e", "v", ""),
        (15, "out", "f", "u", "strapping: low at reset is harmless here"),
        (20, "in", "g", "t", ""),
    ]
    assert problems(bad) == [
        "GPIO 4 used twice (a and b)",
        "GPIO 7 belongs to the flash",
        "GPIO 34 is input only but wired as out",
        "GPIO 12 is a strapping pin: avoid it or justify it in the notes",
        "GPIO 20 is not on the module",
    ]
