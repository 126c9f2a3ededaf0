# hal/esp32/board.py, the reference board module, built with fake port modules (no board was available):
# its pin table against docs/BOARD.md's wiring table, every pin it drives taken from that table, the
# devices it builds and their declarations, the data partition mounted (never the root, never
# formatted over damage), the Wi-Fi record, partitions.csv, and main.py's board selection.
import json
import os

import pytest

import main
from hal.contracts import (
    CARD_INSERT,
    CARD_SCAN,
    CARD_SWIPE,
    CARD_TAP,
    SYS_WATCHDOG,
    HalError,
    LinkError,
    declared,
    has,
)
from hal.esp32 import board as board_module
from hal.soft.signer import SoftSigner
from tests.host.test_board_wiring import BOARD_MD, REPO, problems, wiring
from tests.portable.esp32_fakes import FakeMachine, FakeNetwork, FakeNVS, FakeSelect, FakeSocketModule


class FakeBlockDevice:
    def __init__(self, blank=True):
        self.fill = 0xFF if blank else 0x42

    def readblocks(self, block, buf, offset=0):
        for i in range(len(buf)):
            buf[i] = self.fill


class FakePartitionClass:
    TYPE_APP = 0
    TYPE_DATA = 1

    def __init__(self, partitions):
        self.partitions = partitions  # label -> block device
        self.asked = []

    def find(self, type=0, subtype=0xFF, label=None):
        self.asked.append((type, subtype, label))
        return [self.partitions[label]] if type == self.TYPE_DATA and label in self.partitions else []


class FakeEsp32:
    def __init__(self, partitions=None):
        self.Partition = FakePartitionClass(
            {"qpdata": FakeBlockDevice()} if partitions is None else partitions
        )
        self.namespaces = {}

    def NVS(self, namespace):
        return self.namespaces.setdefault(namespace, FakeNVS())


class FakeVfs:
    """os as far as mounting goes: VfsLfs2 mounts a formatted device only."""

    def __init__(self, formatted=False):
        self.formatted = formatted
        self.mkfs_calls = 0
        self.mounts = []
        vfs = self

        class VfsLfs2:
            def __init__(self, bdev):
                if not vfs.formatted:
                    raise OSError(19, "ENODEV")
                self.bdev = bdev

            @staticmethod
            def mkfs(bdev):
                vfs.mkfs_calls += 1
                vfs.formatted = True

        self.VfsLfs2 = VfsLfs2

    def mount(self, fs, point):
        self.mounts.append(point)

    def umount(self, point):
        raise OSError(22, "EINVAL")  # nothing mounted there


def build(tmp_path, **kw):
    machine = FakeMachine()
    network = FakeNetwork()
    esp32 = kw.pop("esp32", None) or FakeEsp32()
    vfs = kw.pop("vfs", None) or FakeVfs(formatted=True)
    if "wifi_file" not in kw:
        kw.setdefault("wifi", ("shop", "pw"))
    board = board_module.make_board(
        machine,
        network,
        esp32,
        vfs=vfs,
        socket=FakeSocketModule([]),
        select=FakeSelect(),
        data_root=str(tmp_path / "qpdata"),
        font_file=str(tmp_path / "no-font.qpf"),
        **kw,
    )
    return board, machine, network, esp32, vfs


def driven_gpios(machine):
    """Every GPIO number the board module handed the fake machine (pins, and UART pin numbers)."""
    found = [pin.id for pin in machine.pins]
    for bus in machine.buses:
        for key in ("tx", "rx"):
            if key in bus.kwargs:
                found.append(bus.kwargs[key])
    return found


# ---- the pin table -------------------------------------------------------------------------
def test_the_pin_table_matches_board_md():
    with open(BOARD_MD, encoding="utf-8") as f:
        rows = wiring(f.read())
    documented = sorted((gpio, direction) for gpio, direction, _part, _signal, _notes in rows)
    assert documented == sorted((gpio, direction) for gpio, direction, _ in board_module.PINS)


def test_the_pin_table_itself_is_sound():
    rows = [(gpio, direction, name, name, "") for gpio, direction, name in board_module.PINS]
    assert problems(rows) == []  # no pin twice, input-only pins as inputs, no strapping pin
    names = [name for _, _, name in board_module.PINS]
    assert len(names) == len(set(names))
    assert set(board_module.NOT_DRIVEN) <= set(names)
    with pytest.raises(KeyError):
        board_module.gpio("no_such_pin")


def test_every_pin_the_board_drives_comes_from_the_table(tmp_path):
    board, machine, *_ = build(tmp_path, stripe_reader=True)
    board.card_reader.arm((CARD_TAP, CARD_SCAN, CARD_SWIPE))  # the card parts start at their first arm
    used = driven_gpios(machine)
    table = {gpio: (direction, name) for gpio, direction, name in board_module.PINS}
    assert sorted(used) == sorted(set(used)), "a pin made twice"
    expected = sorted(gpio for gpio, (_, name) in table.items() if name not in board_module.NOT_DRIVEN)
    assert sorted(used) == expected
    for pin in machine.pins:
        direction = table[pin.id][0]
        if direction == "in":
            assert pin.mode in (-1, machine.Pin.IN), pin.id  # input-only pins never made outputs
        if direction == "out" and pin.mode != -1:
            assert pin.mode == machine.Pin.OUT


def test_buses_are_made_as_the_wiring_says(tmp_path):
    _board, machine, *_ = build(tmp_path, stripe_reader=True)
    spi = [b for b in machine.buses if b.kind == "SPI"]
    i2c = [b for b in machine.buses if b.kind == "I2C"]
    assert len(spi) == 1 and spi[0].id == 2 and len(i2c) == 1 and i2c[0].id == 0
    assert spi[0].kwargs["sck"].id == 18 and spi[0].kwargs["mosi"].id == 23 and spi[0].kwargs["miso"].id == 19
    assert i2c[0].kwargs["freq"] == 100_000
    assert i2c[0].kwargs["scl"].id == 22 and i2c[0].kwargs["sda"].id == 21
    # The panel's init went out on the shared bus; the touch stays at its own lower clock.
    assert spi[0].written and spi[0].kwargs["baudrate"] == board_module.LCD_BAUDRATE
    assert board_module.TOUCH_BAUDRATE <= 2_500_000


# ---- the devices ---------------------------------------------------------------------------
def test_every_device_is_built_and_declared(tmp_path):
    board, machine, network, esp32, vfs = build(tmp_path)
    for name in ("keypad", "display", "card_reader", "signature_pad", "clock", "link", "system", "key_store"):
        device = getattr(board, name)
        assert device is not None and declared(device) == [], name
    assert isinstance(board.signer, SoftSigner) and declared(board.signer) == []
    reader = board.card_reader
    assert reader.capabilities == (CARD_TAP, CARD_SCAN)
    assert "no contact chip reader" in reader.lacks[CARD_INSERT]
    assert "stripe" in reader.lacks[CARD_SWIPE]
    assert has(board.system, SYS_WATCHDOG)
    assert board.keypad.device.capabilities == ("beep",)  # the buzzer behind the keypad
    assert board.display.pixels() == (240, 320)
    assert vfs.mounts == [str(tmp_path / "qpdata")] and "/" not in vfs.mounts
    assert network.wlans[0].joined == ("shop", "pw")
    board.key_store.save("tmk", b"\x01" * 16)
    assert esp32.namespaces[board_module.NVS_NAMESPACE].entries  # the keys went to NVS
    assert board.key_store.load("signer") is None  # the signing key: made at its first use, in NVS
    public = board.signer.public_key()
    assert board.key_store.names() == ["signer", "tmk"] and len(public) == 65
    assert os.listdir(tmp_path / "qpdata") == []  # ... not into the data partition
    board.storage.write("a.rec", b"x")
    assert os.listdir(tmp_path / "qpdata") == ["a.rec"]


def test_the_stripe_reader_is_optional(tmp_path):
    board, *_ = build(tmp_path, stripe_reader=True)
    assert board.card_reader.capabilities == (CARD_SWIPE, CARD_TAP, CARD_SCAN)


def test_a_silent_pn532_is_a_dead_part_and_the_scanner_still_reads(tmp_path):
    board, machine, *_ = build(tmp_path)
    board.card_reader.arm((CARD_TAP, CARD_SCAN))  # the fake I2C bus has no PN532 on it
    assert board.card_reader.dead_modes() == (CARD_TAP,)
    uart = [b for b in machine.buses if b.kind == "UART"][0]
    assert uart.id == 2 and uart.kwargs["timeout"] == 0  # never blocks on a read
    assert board.card_reader.poll() is None


def test_safe_mode_builds_a_board_without_a_watchdog(tmp_path):
    board, machine, *_ = build(tmp_path, safe_mode=True)
    assert not has(board.system, SYS_WATCHDOG) and declared(board.system) == []
    assert machine.rtc_memory == b""  # a service boot is not counted


# ---- the data partition --------------------------------------------------------------------
def test_an_erased_data_partition_is_formatted_then_mounted():
    vfs = FakeVfs(formatted=False)
    board_module.mount_data(FakeEsp32(), vfs, "/qpdata")
    assert vfs.mkfs_calls == 1 and vfs.mounts == ["/qpdata"]


def test_a_damaged_data_partition_is_never_formatted():
    vfs = FakeVfs(formatted=False)
    esp32 = FakeEsp32({"qpdata": FakeBlockDevice(blank=False)})
    with pytest.raises(HalError):
        board_module.mount_data(esp32, vfs, "/qpdata")
    assert vfs.mkfs_calls == 0 and vfs.mounts == []


def test_no_data_partition_is_a_fault_not_the_root():
    vfs = FakeVfs(formatted=True)
    esp32 = FakeEsp32({"vfs": FakeBlockDevice()})
    with pytest.raises(HalError):
        board_module.mount_data(esp32, vfs, "/qpdata")
    assert vfs.mounts == [] and esp32.Partition.asked == [(1, 0xFF, "qpdata")]


def test_partitions_csv_has_the_data_partition_and_leaves_the_root():
    with open(os.path.join(REPO, "partitions.csv"), encoding="utf-8") as f:
        rows = [
            [c.strip() for c in line.split(",")]
            for line in f
            if line.strip() and not line.lstrip().startswith("#")
        ]
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == {"nvs", "phy_init", "factory", "vfs", board_module.DATA_LABEL}
    end = 0x9000
    for name, kind, _subtype, at, length in (row[:5] for row in rows):
        offset, size = int(at, 16), int(length, 16)
        assert offset >= end, name  # in order, no overlap
        end = offset + size
        assert (name == "factory") == (kind == "app")
    assert end <= 4 * 1024 * 1024  # a 4 MB module
    assert int(by_name["factory"][3], 16) % 0x10000 == 0  # an app partition is 64 KB aligned


# ---- Wi-Fi provisioning record -------------------------------------------------------------
def test_the_wifi_record_is_read_from_its_file(tmp_path):
    path = tmp_path / "wifi.json"
    assert board_module.read_wifi(str(path)) is None
    path.write_text(json.dumps({"ssid": "shop", "password": "pw"}))
    assert board_module.read_wifi(str(path)) == ("shop", "pw")
    path.write_text("{not json")
    assert board_module.read_wifi(str(path)) is None
    path.write_text(json.dumps({"ssid": 5}))
    assert board_module.read_wifi(str(path)) is None


def test_a_board_without_wifi_credentials_is_never_online(tmp_path):
    board, _machine, network, *_ = build(tmp_path, wifi=None, wifi_file=str(tmp_path / "absent.json"))
    assert network.wlans[0].joined is None and board.link.status() == "no credentials"
    assert board.link.online() is False
    with pytest.raises(LinkError):
        board.link.open("10.0.0.2", 5000)


# ---- main.py -------------------------------------------------------------------------------
def test_main_selects_the_esp32_board_on_the_esp32_port():
    assert main.select_board("esp32") is main.esp32_board
    assert main.select_board("linux") is main.console_board
    assert main.select_board("webassembly") is main.console_board


def test_the_checklists_repl_recipe_sets_the_host_parameter(tmp_path):
    # docs/BOARD.md's checklist, step 7: at the safe-mode REPL a technician builds the board with
    # safe_mode=True and saves the host's address into the parameters the terminal then boots with.
    from firmware.params import Params

    board, _, _, _, _ = build(tmp_path, safe_mode=True)
    p = Params.load(board.storage)
    p.host = "192.168.1.10:8583"
    p.save(board.storage)
    again, _, _, _, _ = build(tmp_path)
    assert Params.load(again.storage).host == "192.168.1.10:8583"
