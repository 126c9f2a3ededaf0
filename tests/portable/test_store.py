# Records on storage (firmware.store), parameters and counters, including power cuts at every step.
from firmware.counters import Counters
from firmware.errors import StoredDataCorrupt
from firmware.params import Params
from firmware.store import encode, read_record, write_record
from virtual.storage import TEAR_MODES, PowerCut, RamStorage


def _corrupt(fn):
    try:
        fn()
    except StoredDataCorrupt:
        return True
    return False


def test_encode_sorts_keys_whatever_the_dict_order():
    assert encode({"b": 1, "a": "x", "c": True}) == b'{"a":"x","b":1,"c":true}'


def test_record_round_trip_and_missing_file():
    s = RamStorage()
    assert read_record(s, "r.json") is None
    write_record(s, "r.json", {"n": 5, "name": "店"})
    assert read_record(s, "r.json") == {"n": 5, "name": "店"}
    assert "r.json.tmp" not in s.list()


def test_damaged_record_is_set_aside_not_overwritten():
    s = RamStorage()
    for junk in (b"{not json", b"[1, 2]", b"\xff\xfe", b""):
        s.write("r.json", junk)
        assert _corrupt(lambda: read_record(s, "r.json"))
        assert s.read("r.json.bad") == junk
        assert "r.json" not in s.list()


def _cut_then_boot(storage, n, tear, flow, *args):
    """Arm a power cut at storage operation n, run flow(*args); True if it ran to the end. Either
    way the power then fails (if it has not) and comes back, as at a reboot."""
    storage.cut_at(n, tear)
    try:
        flow(*args)
        done = True
    except PowerCut:
        done = False
    storage.cut_at(None)
    storage.power_cut()
    storage.power_on()
    return done


def test_write_record_survives_a_power_cut_at_every_step():
    old = {"v": 1}
    new = {"v": 2, "more": "x" * 40}
    for tear in TEAR_MODES:
        n = 1
        while True:
            s = RamStorage()
            write_record(s, "r.json", old)
            done = _cut_then_boot(s, n, tear, write_record, s, "r.json", new)
            got = read_record(s, "r.json")
            assert got in (old, new), (tear, n, got)
            if done:
                assert got == new
                break
            n += 1
        assert n - 1 >= 3  # cut at write, sync, rename at least


def test_params_defaults_round_trip_and_validation():
    s = RamStorage()
    p = Params.load(s)
    assert p.language == "zh" and p.max_amount == 10000000 and not p.damaged
    p.language = "en"
    p.merchant_name = "钱记小店"
    p.save(s)
    q = Params.load(s)
    assert q.language == "en" and q.merchant_name == "钱记小店"
    q.language = "fr"
    try:
        q.save(s)
        raise AssertionError("invalid language saved")
    except ValueError:
        pass
    assert Params.load(s).language == "en"


def test_params_bad_fields_fall_back_visibly():
    s = RamStorage()
    s.write("params.json", b'{"language": "xx", "max_amount": -5, "merchant_name": "Ok Shop", "evil": 1}')
    p = Params.load(s)
    assert p.damaged
    assert p.language == "zh" and p.max_amount == 10000000
    assert p.merchant_name == "Ok Shop"


def test_params_unparseable_file_gives_defaults_and_keeps_the_file():
    s = RamStorage()
    s.write("params.json", b"\x00garbage")
    p = Params.load(s)
    assert p.damaged and p.language == "zh"
    assert s.read("params.json.bad") == b"\x00garbage"


def test_trace_numbers_count_up_wrap_and_persist():
    s = RamStorage()
    c = Counters.load(s)
    assert (c.next_trace(), c.next_trace(), c.batch) == (1, 2, 1)
    assert Counters.load(s).trace == 3
    c.trace = 999999
    assert c.next_trace() == 999999
    assert c.next_trace() == 1
    assert c.next_batch() == 2
    again = Counters.load(s)
    assert (again.trace, again.batch) == (2, 2)


def _hand_out(counters, handed):
    handed.append(counters.next_trace())


def test_a_trace_number_is_never_handed_out_twice_across_power_cuts():
    for tear in TEAR_MODES:
        n = 1
        while True:
            s = RamStorage()
            c = Counters.load(s)
            handed = [c.next_trace(), c.next_trace()]
            done = _cut_then_boot(s, n, tear, _hand_out, c, handed)
            after = Counters.load(s)
            assert after.trace > handed[-1], (tear, n, after.trace, handed)
            if done:
                break
            n += 1


def test_damaged_counters_are_refused_not_reset():
    s = RamStorage()
    s.write("counters.json", b'{"trace": 0, "batch": 1}')
    assert _corrupt(lambda: Counters.load(s))
    s.write("counters.json", b'{"trace": "7", "batch": 1}')
    assert _corrupt(lambda: Counters.load(s))
