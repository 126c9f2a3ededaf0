# The Wi-Fi network chosen in the service menu (无线网络设置): one stored record, handed to a link that
# is a Wi-Fi station at every boot. Never shows, logs or returns the password to a screen.

from firmware.store import Damaged, RecordFile, load, save
from hal.contracts import LINK_WIFI, WIFI_PASSWORD_MAX, WIFI_SSID_MAX, has


def _validate(record):
    ssid = record.get("ssid")
    password = record.get("pw")
    if type(record.get("v")) is not int or record["v"] != 1:
        raise Damaged("bad Wi-Fi record")
    if ssid is None and password is None:
        return record  # forgotten: the board's own provisioning (/wifi.json) applies
    if type(ssid) is not str or not 0 < len(ssid) <= WIFI_SSID_MAX:
        raise Damaged("bad Wi-Fi record")
    if type(password) is not str or len(password) > WIFI_PASSWORD_MAX:
        raise Damaged("bad Wi-Fi record")
    return record


WIFI = RecordFile("wifi", _validate, 256)


def store(storage, ssid, password):
    """Save the network chosen in the service menu as the next generation (OSError if the storage
    fails, ValueError if it is not a network name and password). ssid=None forgets it: the
    board's provisioning file applies again from the next boot."""
    if ssid is None:
        record = {"v": 1, "ssid": None, "pw": None}
    else:
        record = {"v": 1, "ssid": ssid, "pw": password}
    try:
        _validate(record)
    except Damaged:
        raise ValueError("not a Wi-Fi network name and password")
    save(storage, WIFI, record, load(storage, WIFI))


def stored_ssid(storage):
    """The name of the stored network, or None (none stored, forgotten, damaged or unreadable)."""
    try:
        record = load(storage, WIFI).record
    except OSError:
        return None
    return None if record is None else record["ssid"]


def apply_stored(term):
    """At boot: hand the stored network to a link that is a Wi-Fi station; it replaces the board's
    provisioned one. True if one was applied. A storage that fails, a damaged record (kept as
    evidence by load()) or a forgotten one leaves the link as the board made it."""
    link = term.link
    if not has(link, LINK_WIFI):
        return False
    try:
        record = load(term.storage, WIFI).record
    except OSError:
        return False
    if record is None or record["ssid"] is None:
        return False
    try:
        term.use("dev_link", link.set_credentials, record["ssid"], record["pw"])
    except ValueError:  # a name or password this link does not take: the board's own stays
        return False
    return "dev_link" not in term.device_faults
