# The version of every stored record is 1 as an int: JSON true, 1.0 and "1" are damage, never
# version 1 (on CPython True == 1 and 1.0 == 1, so a `v != 1` test let them through); a stored flag
# is JSON true or false, never 1 or 0. Each record the
# registry knows, the key store's records and the ESP32 key store's index, read back as stored.
from firmware import registry, settle
from firmware.store import Damaged, decode, encode, pack_payload, unpack
from hal.contracts import HalError
from hal.esp32.nvs_keystore import NvsKeyStore
from hal.soft.keystore import decode_key, encode_key
from tests.portable.esp32_fakes import FakeNVS

# Not version 1, though CPython compares each of them equal to 1 (or, as text, reads it as 1).
NOT_ONE = (b"true", b"1.0", b'"1"', b"1e0", b"2", b"0", b"null")

# A valid record of each registered kind: a record added to the registry needs one here.
SAMPLES = {  # type: dict[str, dict]
    "counters": {"v": 1, "n": 3, "batch": 1},
    "provisioned": {"v": 1, "reserved": 13},
    "params": {"v": 1, "warn": 0, "language": "en"},
    "touchcal": {"v": 1, "cal": [1, 2, 3, 4, 5, 6, 7]},
    "wifi": {"v": 1, "ssid": "shop", "pw": "secret12"},
    "txn": {
        "v": 1,
        "state": "approved",
        "kind": "sale",
        "trace": 4,
        "batch": 1,
        "amount": 1234,
        "card": "621700*********5675",
        "time": 1795314600,
        "code": "00",
        "rrn": "000000000001",
        "auth": "123456",
        "mode": "insert",
        "shown": True,
    },
    "reversal": {"v": 1, "state": "none"},
    "hoststate": {"v": 1, "day": -1, "need": True, "known": 0},
    "audit": {"v": 1, "items": []},
    "shown": {"v": 1, "batch": 1, "trace": 7},
    "uptime": {"v": 1, "s": 5},
    "events": {"v": 1, "items": [[None, 3, "sign_in", "01"]]},
    "operators": {"v": 1, "kc": "", "ops": {"00": ["", 1], "99": ["", 1]}},
    "attempts": {"v": 1, "t": {"00": [1, 20]}},
    "settle": settle.blank(batch=1, now=1795314600),  # its flag: "stopped"
}


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type:
        return True
    return False


def _with_version(payload, text):
    """payload (canonical JSON whose "v" is 1) with the version written as text instead."""
    for end in (b",", b"}"):
        if b'"v":1' + end in payload:
            return payload.replace(b'"v":1' + end, b'"v":' + text + end)
    raise AssertionError("no version 1 in the payload")


def test_every_registered_record_has_a_sample_that_validates():
    for spec in registry.RECORDS:
        assert spec.name in SAMPLES, spec.name
        spec.validate(decode(encode(SAMPLES[spec.name])))  # raises if the sample is not valid


def test_a_stored_version_that_is_not_the_int_1_is_damage_in_every_record():
    for spec in registry.RECORDS:
        payload = encode(SAMPLES[spec.name])
        for text in NOT_ONE:
            record = decode(_with_version(payload, text))
            assert _raises(Damaged, spec.validate, record), (spec.name, text)


def test_a_key_record_whose_version_is_not_the_int_1_is_damaged():
    good = encode_key("tmk", b"\x05" * 16)
    assert decode_key("tmk", good) == b"\x05" * 16
    payload = encode(unpack(good, 4096)[1])
    for text in NOT_ONE:
        assert decode_key("tmk", pack_payload(1, _with_version(payload, text))) is None, text


def test_an_nvs_key_index_whose_version_is_not_the_int_1_is_damaged():
    nvs = FakeNVS()
    ks = NvsKeyStore(nvs)
    ks.save("tmk", b"\x05" * 16)
    assert ks.names() == ["tmk"]
    payload = encode(unpack(nvs.entries["names"], 4096)[1])
    for text in NOT_ONE:
        nvs.entries["names"] = pack_payload(1, _with_version(payload, text))
        assert _raises(HalError, ks.names), text


def test_a_stored_flag_that_is_not_true_or_false_is_damage():
    checked = 0
    for spec in registry.RECORDS:
        sample = SAMPLES[spec.name]
        for key in sample:
            if sample[key] is not True and sample[key] is not False:
                continue
            for bad in (1, 0, "true", None):
                record = dict(sample)
                record[key] = bad
                assert _raises(Damaged, spec.validate, decode(encode(record))), (spec.name, key, bad)
                checked += 1
    assert checked >= 8  # txn's "shown" and hoststate's "need" at least
