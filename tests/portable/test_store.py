# Records on storage (firmware.store), parameters and counters, including power cuts at every step.
from firmware.counters import Counters
from firmware.errors import StoredDataCorrupt
from firmware.params import Params
from firmware.store import encode, read_record, write_record
from virtual.storage import RamStorage


class PowerCut(Exception):
    pass


class CutAfter:
    """Storage wrapper that loses power after `ops` mutating operations have completed."""

    def __init__(self, storage, ops):
        self.storage = storage
        self.left = ops

    def _op(self):
        if self.left == 0:
            raise PowerCut()
        self.left -= 1

    def read(self, name):
        return self.storage.read(name)

    def write(self, name, data):
        self._op()
        self.storage.write(name, data)

    def append(self, name, data):
        self._op()
        self.storage.append(name, data)

    def sync(self):
        self._op()
        self.storage.sync()

    def rename(self, old, new):
        self._op()
        self.storage.rename(old, new)

    def remove(self, name):
        self._op()
        self.storage.remove(name)


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


def test_write_record_survives_a_power_cut_at_every_step():
    old = {"v": 1}
    new = {"v": 2, "more": "x" * 40}
    ops = 0
    while True:
        s = RamStorage(seed=ops)
        write_record(s, "r.json", old)
        try:
            write_record(CutAfter(s, ops), "r.json", new)
            done = True
        except PowerCut:
            done = False
        s.power_cut(tear=True)
        got = read_record(s, "r.json")
        assert got in (old, new), got
        if done:
            assert got == new
        if done:
            break
        ops += 1
    assert ops >= 3  # write, sync, rename at least


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


def test_a_trace_number_is_never_handed_out_twice_across_power_cuts():
    ops = 0
    while True:
        s = RamStorage(seed=ops)
        c = Counters.load(s)
        handed = [c.next_trace(), c.next_trace()]
        c.storage = CutAfter(s, ops)
        try:
            handed.append(c.next_trace())
            done = True
        except PowerCut:
            done = False
        s.power_cut(tear=True)
        after = Counters.load(s)
        assert after.trace > handed[-1], (ops, after.trace, handed)
        if done:
            break
        ops += 1


def test_damaged_counters_are_refused_not_reset():
    s = RamStorage()
    s.write("counters.json", b'{"trace": 0, "batch": 1}')
    assert _corrupt(lambda: Counters.load(s))
    s.write("counters.json", b'{"trace": "7", "batch": 1}')
    assert _corrupt(lambda: Counters.load(s))
