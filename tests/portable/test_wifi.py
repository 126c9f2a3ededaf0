# The Wi-Fi network in the service menu (firmware/ui/wifi.py WifiScreen) and its record
# (firmware/wifi.py), over the ESP32 board's WifiLink on a fake network module (no board, no access
# point here): status, scan, pick, a numeric password that never shows, stored and handed to the
# link at every boot, forgotten again. Runs on CPython and MicroPython.
from firmware import registry
from firmware.terminal import Terminal
from firmware.wifi import WIFI, apply_stored, store, stored_ssid
from hal.contracts import LINK_WIFI, WIFI_CONNECTED, WIFI_CONNECTING, LinkError, declared, has
from hal.esp32.wifi_link import WifiLink
from tests.portable.drive import boot, press, screen
from tests.portable.esp32_fakes import FakeNetwork, FakeSelect, FakeSocketModule
from tests.portable.fakes import make_board
from virtual.devices import LoopbackLink
from virtual.storage import RamStorage

AIR = (
    (b"cafe-guest", b"\x01" * 6, 6, -80, 3, False),
    (b"shop", b"\x02" * 6, 1, -50, 3, False),
    (b"", b"\x03" * 6, 11, -40, 3, True),  # a hidden network: no name to pick
    (b"shop", b"\x04" * 6, 11, -70, 3, False),  # a second access point of "shop"
    (b"\xff\xfe", b"\x05" * 6, 3, -60, 3, False),  # not UTF-8
    (b"back-office", b"\x06" * 6, 3, -65, 0, False),
)


def wifi_link(credentials=("shop", "from-wifi-json"), air=AIR):
    network = FakeNetwork(air)
    link = WifiLink(network.WLAN(network.STA_IF), network, FakeSocketModule([]), FakeSelect(), credentials)
    link.join()
    return link


def raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type:
        return
    raise AssertionError("{} not raised".format(exc_type.__name__))


# ---- the link's capability -----------------------------------------------------------------
def test_the_wifi_link_declares_wifi_and_the_others_lack_it():
    link = wifi_link()
    assert has(link, LINK_WIFI) and declared(link) == []
    loopback = LoopbackLink()
    assert not has(loopback, LINK_WIFI) and declared(loopback) == [] and loopback.lacks[LINK_WIFI]
    assert link.ssid() == "shop" and link.wifi_status() == WIFI_CONNECTED
    assert wifi_link(credentials=None).ssid() is None


def test_a_scan_lists_each_named_network_once_strongest_first():
    link = wifi_link()
    assert link.scan() == ["shop", "back-office", "cafe-guest"]


def test_a_scan_while_still_joining_stops_the_join_and_starts_it_again():
    link = wifi_link()
    wlan = link.wlan
    wlan.connected = False  # the station is still trying to join: the ESP-IDF refuses to scan
    assert link.scan() == ["shop", "back-office", "cafe-guest"]
    assert wlan.disconnects == 1 and wlan.trying and wlan.joined == ("shop", "from-wifi-json")
    wlan.scan_fails = True
    raises(LinkError, link.scan)
    assert wlan.trying  # joining again even after a failed scan


def test_new_credentials_replace_the_old_and_join_at_once():
    link = wifi_link()
    link.set_credentials("back-office", "12345678")
    assert link.wlan.joined == ("back-office", "12345678") and link.ssid() == "back-office"
    link.set_credentials("cafe-guest", "")  # an open network
    assert link.wlan.joined == ("cafe-guest", "")
    for ssid, password in (("", "12345678"), ("x" * 33, ""), ("shop", "1" * 65), (None, ""), ("shop", 5)):
        raises(ValueError, link.set_credentials, ssid, password)
    assert link.wlan.joined == ("cafe-guest", "")


# ---- the record ----------------------------------------------------------------------------
def test_the_record_is_registered_and_validated():
    assert WIFI in registry.RECORDS
    storage = RamStorage()
    assert stored_ssid(storage) is None
    store(storage, "shop", "12345678")
    assert stored_ssid(storage) == "shop"
    store(storage, None, None)
    assert stored_ssid(storage) is None
    raises(ValueError, store, storage, "", "12345678")
    raises(ValueError, store, storage, "shop", "1" * 65)
    assert registry.unknown_files(storage) == []


# ---- the service menu ----------------------------------------------------------------------
def open_wifi(board, term):
    press(board, term, "ENTER", "8", "7")


def test_the_status_shows_the_network_and_how_joining_goes():
    link = wifi_link()
    board, term = boot(link=link)
    open_wifi(board, term)
    shown = screen(board)
    assert "Wi-Fi network" in shown and "Network shop" in shown and "Connected" in shown
    assert "from-wifi-json" not in shown and "CLEAR" not in shown  # nothing stored to forget
    link.wlan.code = FakeNetwork.STAT_CONNECTING
    board.clock.advance(1)
    term.settle()
    assert link.wifi_status() == WIFI_CONNECTING and "Connecting" in screen(board)
    press(board, term, "CANCEL")
    assert "Admin" in screen(board)


def test_pick_a_scanned_network_and_type_a_numeric_password_that_never_shows():
    link = wifi_link()
    board, term = boot(link=link)
    open_wifi(board, term)
    board.keypad.press("ENTER")
    term.step()
    assert "Scanning..." in screen(board) and link.wlan.scans == 0  # drawn before the scan blocks
    term.settle()
    assert link.wlan.scans == 1
    assert screen(board).splitlines()[1:4] == ["shop", "back-office", "cafe-guest"]
    press(board, term, "DOWN", "ENTER")
    assert "back-office" in screen(board) and "Numeric password" in screen(board)
    seen = []
    for digit in "20261129":
        press(board, term, digit)
        seen.append(screen(board))
    assert "********" in seen[-1]
    press(board, term, "CLEAR", "9")
    seen.append(screen(board))
    for shown in seen:
        assert "2026" not in shown and "1129" not in shown and "1129" not in shown.replace("\n", "")
    press(board, term, "ENTER")
    assert "Saved: joining" in screen(board)
    assert link.wlan.joined == ("back-office", "20261129") and stored_ssid(board.storage) == "back-office"
    press(board, term, "1")  # the message goes back to the status
    assert "Network back-office" in screen(board) and "CLEAR: forget it" in screen(board)
    # The next boot hands the stored network to the link, in place of the board's provisioning.
    fresh = wifi_link()
    Terminal(make_board(storage=board.storage, link=fresh))
    assert fresh.wlan.joined == ("back-office", "20261129") and fresh.ssid() == "back-office"


def test_a_short_password_is_refused_and_an_open_network_needs_none():
    link = wifi_link()
    board, term = boot(link=link)
    open_wifi(board, term)
    press(board, term, "ENTER", "ENTER", "1", "2", "3", "ENTER")
    assert "8 digits or none" in screen(board) and stored_ssid(board.storage) is None
    press(board, term, "CLEAR", "CLEAR", "CLEAR", "ENTER")
    assert "Saved: joining" in screen(board) and link.wlan.joined == ("shop", "")


def test_cancel_steps_back_and_forgets_the_typed_digits():
    link = wifi_link()
    board, term = boot(link=link)
    open_wifi(board, term)
    press(board, term, "ENTER", "ENTER", "5", "5", "CANCEL")
    assert screen(board).splitlines()[1] == "shop"  # back at the list
    press(board, term, "ENTER")
    assert "*" not in screen(board)  # the digits typed before are gone
    press(board, term, "CANCEL", "CANCEL")
    assert "Network shop" in screen(board) and link.wlan.joined == ("shop", "from-wifi-json")


def test_forgetting_gives_the_board_its_own_network_back_at_the_next_boot():
    storage = RamStorage()
    store(storage, "back-office", "20261129")
    link = wifi_link()
    board, term = boot(link=link, storage=storage)
    assert link.wlan.joined == ("back-office", "20261129")
    open_wifi(board, term)
    press(board, term, "CLEAR")
    assert "Forgotten" in screen(board) and stored_ssid(storage) is None
    fresh = wifi_link()
    Terminal(make_board(storage=storage, link=fresh))
    assert fresh.wlan.joined == ("shop", "from-wifi-json")


def test_no_networks_or_a_failed_scan_offers_a_new_scan():
    link = wifi_link(air=())
    board, term = boot(link=link)
    open_wifi(board, term)
    press(board, term, "ENTER")
    assert "No network found" in screen(board)
    link.wlan.scan_fails = True
    press(board, term, "ENTER")
    assert "Scan failed" in screen(board) and "ENTER to scan again" in screen(board)
    link.wlan.scan_fails = False
    link.wlan._network.air = list(AIR)
    press(board, term, "ENTER")
    assert screen(board).splitlines()[1] == "shop"


def test_a_link_without_wifi_says_so():
    board, term = boot()
    open_wifi(board, term)
    assert "No Wi-Fi here" in screen(board)
    press(board, term, "5")
    assert "Admin" in screen(board)


def test_a_damaged_record_leaves_the_boards_network_and_is_kept_as_evidence():
    storage = RamStorage()
    store(storage, "back-office", "20261129")
    names = [n for n in storage.list() if n.startswith("wifi.")]
    for name in names:  # both generations (the first save wrote two)
        data = bytearray(storage.read(name))
        data[-3] ^= 0xFF
        storage.write(name, bytes(data))
    link = wifi_link()
    Terminal(make_board(storage=storage, link=link))
    assert link.wlan.joined == ("shop", "from-wifi-json")
    assert [kept[1] for kept in registry.faults(storage)] == names


def test_apply_stored_on_a_link_without_wifi_does_nothing():
    storage = RamStorage()
    store(storage, "shop", "12345678")
    board = make_board(storage=storage)
    term = Terminal(board)
    assert apply_stored(term) is False
