# The reference ESP32 board (docs/BOARD.md): ONE pin table and make_board() building every device
# from it. Never imports machine, network, esp32 or socket at module level (CPython and the
# WebAssembly tier import this module): main.py passes the first three, the rest are imported
# inside make_board() only when the caller did not pass them. Nothing here has run on a board.

from hal.cards import CardPart, CardSources
from hal.contracts import CARD_INSERT, CARD_SCAN, CARD_SWIPE, CARD_TAP, Board, HalError
from hal.esp32.nvs_keystore import NvsKeyStore
from hal.esp32.system import Esp32System
from hal.port import PortClock, VfsStorage
from hal.soft.pin import KeypadPinEntry
from hal.soft.security import SoftSecurityModule
from hal.soft.signer import SoftSigner

# The pin table: (GPIO, direction, name). docs/BOARD.md's wiring table lists the same GPIOs with the
# same directions (tests/host/test_esp32_board.py compares them); make_board() takes every pin
# number from here through gpio(name).
PINS = (
    (18, "out", "spi_sck"),
    (23, "out", "spi_mosi"),
    (19, "in", "spi_miso"),
    (27, "out", "lcd_cs"),
    (26, "out", "lcd_dc"),
    (25, "out", "lcd_rst"),
    (32, "out", "lcd_led"),
    (33, "out", "touch_cs"),
    (36, "in", "touch_irq"),
    (21, "io", "i2c_sda"),
    (22, "out", "i2c_scl"),
    (39, "in", "nfc_irq"),
    (17, "out", "scanner_tx"),
    (16, "in", "scanner_rx"),
    (35, "in", "stripe_rx"),
    (4, "out", "stripe_tx"),
    (13, "out", "buzzer"),
    (14, "in", "safe_mode_key"),
    (1, "out", "repl_tx"),
    (3, "in", "repl_rx"),
)
# Pins in the table that make_board() does not drive, and why.
NOT_DRIVEN = {
    "nfc_irq": "wired for a later interrupt-driven reader; the PN532 driver polls its status byte",
    "safe_mode_key": "read by boot.py alone, at power-on (its copy: boot.ESP32_SAFE_MODE_KEY_GPIO)",
    "repl_tx": "UART 0, the REPL console: MicroPython owns it",
    "repl_rx": "UART 0, the REPL console: MicroPython owns it",
}

SPI_BUS = 2  # VSPI: its IO MUX pins (18, 19, 23) reach 40 MHz
LCD_BAUDRATE = 10_000_000  # ILI9341 write cycle 100 ns; measure before raising it
TOUCH_BAUDRATE = 2_000_000  # XPT2046: 2.5 MHz at most
I2C_BUS = 0
I2C_FREQ = 100_000
KEYPAD_ADDRESS = 0x20  # PCF8574, A0-A2 to GND
SCANNER_UART = 2
STRIPE_UART = 1
UART_BAUDRATE = 9600  # the common default of both modules; set the module to match
UART_RXBUF = 512  # a QR code of a few hundred characters arrives between two polls

DATA_LABEL = "qpdata"  # the terminal's littlefs partition (partitions.csv)
DATA_MOUNT = "/qpdata"  # mounted here; the root filesystem ("/", MicroPython's vfs) is left alone
NVS_NAMESPACE = "qpkeys"  # the key store's NVS namespace
WIFI_FILE = "/wifi.json"  # the Wi-Fi provisioning record, copied with mpremote (docs/BOARD.md)
FONT_FILE = "/fonts/qianpos16.qpf"  # the Chinese glyphs (make font), copied by the deploy
_BLOCK = 4096  # esp32.Partition's block size


def gpio(name):
    """The GPIO number of a pin of the table (KeyError for a name the table lacks)."""
    for number, _direction, pin_name in PINS:
        if pin_name == name:
            return number
    raise KeyError(name)


def _blank(bdev):
    """True if the partition's first two blocks (littlefs's superblock pair) are erased flash."""
    buf = bytearray(_BLOCK)
    for block in (0, 1):
        bdev.readblocks(block, buf)
        for b in buf:
            if b != 0xFF:
                return False
    return True


def mount_data(esp32, vfs, mount_point=DATA_MOUNT):
    """Mount the terminal's data partition at mount_point. An erased partition (first boot after
    flashing the partition table) is formatted; one that does not mount otherwise is a HalError,
    never formatted: a damaged journal is evidence (docs/BOARD.md). The root filesystem is never
    touched: if it failed to mount, MicroPython's frozen _boot.py would loop."""
    Partition = esp32.Partition
    found = Partition.find(Partition.TYPE_DATA, 0xFF, DATA_LABEL)
    if not found:
        raise HalError("no {} partition: flash partitions.csv".format(DATA_LABEL))
    bdev = found[0]
    try:
        fs = vfs.VfsLfs2(bdev)
    except OSError:
        if not _blank(bdev):
            raise HalError("the data partition does not mount: not formatted over")
        vfs.VfsLfs2.mkfs(bdev)
        fs = vfs.VfsLfs2(bdev)
    try:
        vfs.umount(mount_point)  # a soft reset (Ctrl-D) runs main.py again with it still mounted
    except OSError:
        pass
    vfs.mount(fs, mount_point)


def read_wifi(path=WIFI_FILE):
    """(ssid, password) from the provisioning record at path, or None if it is missing or not one."""
    import json

    from hal.esp32.wifi_link import parse_credentials

    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return parse_credentials(record)


def _font(path):
    from hal.drivers.font8x16 import Font8x16

    try:
        stream = open(path, "rb")
    except OSError:
        return Font8x16()  # no font file deployed: ASCII only, Chinese shows as hollow boxes
    from hal.drivers.fontfile import FontFile

    return FontFile(stream, fallback=Font8x16())


def make_board(
    machine,
    network,
    esp32,
    vfs=None,
    socket=None,
    select=None,
    safe_mode=False,
    stripe_reader=False,
    calibration=None,
    data_root=DATA_MOUNT,
    wifi=None,
    wifi_file=WIFI_FILE,
    font_file=FONT_FILE,
):
    """The reference board's devices, every pin from PINS. machine, network, esp32: the port's
    modules (fakes in the tests); vfs (os), socket, select: imported here when not given.
    safe_mode: the board started for service: no watchdog (it could not be stopped), no boot
    counted. main.py never builds a board in safe mode; a technician at the safe-mode REPL does,
    with safe_mode=True, to try the devices (docs/BOARD.md). stripe_reader: the optional UART
    stripe reader is fitted. calibration: the touch's stored hal.drivers.xpt2046.calibration() tuple
    (None: the default). data_root: where the firmware's
    Storage lives (the mounted data partition). wifi: (ssid, password), else read from wifi_file.
    font_file: the Chinese glyphs on the root filesystem (missing: ASCII only)."""
    if vfs is None:
        import os as vfs  # type: ignore[no-redef]
    if socket is None:
        import socket  # type: ignore[no-redef]
    if select is None:
        import select  # type: ignore[no-redef]
    from hal.drivers.buzzer import Buzzer
    from hal.drivers.ili9341 import ILI9341
    from hal.drivers.keymatrix import KeyMatrix, PCF8574Lines
    from hal.drivers.touch_pad import TouchSignaturePad
    from hal.drivers.xpt2046 import DEFAULT_CALIBRATION, XPT2046
    from hal.esp32.wifi_link import WifiLink

    Pin = machine.Pin

    def out(name, level=0):
        return Pin(gpio(name), Pin.OUT, value=level)

    mount_data(esp32, vfs, data_root)
    clock = PortClock(machine.RTC(), rtc_battery=False)  # no RTC battery on the reference board
    system = Esp32System(machine, clock.sleep_ms, safe_mode=safe_mode)

    spi = machine.SPI(
        SPI_BUS,
        baudrate=LCD_BAUDRATE,
        polarity=0,
        phase=0,
        sck=Pin(gpio("spi_sck")),
        mosi=Pin(gpio("spi_mosi")),
        miso=Pin(gpio("spi_miso")),
    )
    out("lcd_led", 1)  # backlight on
    display = ILI9341(
        spi,
        out("lcd_cs", 1),
        out("lcd_dc", 1),
        rst=out("lcd_rst", 1),
        font=_font(font_file),
        sleep_ms=clock.sleep_ms,
        baudrate=LCD_BAUDRATE,
    )
    touch = XPT2046(
        spi,
        out("touch_cs", 1),
        irq=Pin(gpio("touch_irq"), Pin.IN),  # no internal pull-up on 34-39: the module's or 10 kOhm
        cal=calibration if calibration is not None else DEFAULT_CALIBRATION,
        baudrate=TOUCH_BAUDRATE,
    )
    i2c = machine.I2C(I2C_BUS, scl=Pin(gpio("i2c_scl")), sda=Pin(gpio("i2c_sda")), freq=I2C_FREQ)
    buzzer = Buzzer(out("buzzer", 0), clock.ticks_ms)
    keypad = KeyMatrix(PCF8574Lines(i2c, KEYPAD_ADDRESS), clock.ticks_ms, beeper=buzzer)

    def uart(number, part):
        """UART `number` on the pins <part>_tx and <part>_rx, reads never blocking."""
        tx = gpio(part + "_tx")
        return machine.UART(
            number, baudrate=UART_BAUDRATE, tx=tx, rx=gpio(part + "_rx"), timeout=0, rxbuf=UART_RXBUF
        )

    def contactless():
        from hal.drivers.pn532 import PN532, ContactlessReader

        return ContactlessReader(PN532(i2c, clock.ticks_ms, clock.sleep_ms), clock)

    def scanner():
        from hal.drivers.uart_reader import ScannerSource, UartLines

        return ScannerSource(UartLines(uart(SCANNER_UART, "scanner")))

    def stripe():
        from hal.drivers.uart_reader import StripeSource, UartLines

        # tx given although nothing listens: UART 1's default TX is GPIO 10, a flash pin.
        stripe_uart = uart(STRIPE_UART, "stripe")
        return StripeSource(UartLines(stripe_uart, max_len=128))

    parts = [CardPart(CARD_TAP, contactless), CardPart(CARD_SCAN, scanner)]
    if stripe_reader:
        parts.append(CardPart(CARD_SWIPE, stripe))
    card_reader = CardSources(*parts)
    card_reader.lacks[CARD_INSERT] = "the reference board has no contact chip reader"
    if not stripe_reader:
        card_reader.lacks[CARD_SWIPE] = "no stripe reader fitted (make_board(stripe_reader=True))"

    link = WifiLink(
        network.WLAN(network.STA_IF),
        network,
        socket,
        select,
        wifi if wifi is not None else read_wifi(wifi_file),
    )
    link.join()
    key_store = NvsKeyStore(esp32.NVS(NVS_NAMESPACE))
    security = SoftSecurityModule(key_store)
    pin_entry = KeypadPinEntry(keypad, security, clock)
    return Board(
        keypad=pin_entry.keypad,
        display=display,
        card_reader=card_reader,
        signature_pad=TouchSignaturePad(touch),
        storage=VfsStorage(data_root),
        clock=clock,
        link=link,
        # The pure-Python signer (hal/soft/signer.py): its key made from os.urandom at the first
        # signature or About, after the Wi-Fi radio started (the ESP32's RNG is a true one then).
        signer=SoftSigner(key_store),
        system=system,
        key_store=key_store,
        security=security,
        pin_entry=pin_entry,
    )
