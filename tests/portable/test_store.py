# The record layer (firmware.store), the counters and the parameters on it: format, generations,
# evidence, skip-ahead, identity, and power cuts at every storage operation.
from firmware import registry
from firmware.compat import crc32
from firmware.counters import COUNTERS, FALLBACK_SKIP, RESERVE, Counters, CountersLost, provisioned, recover
from firmware.errors import StoredDataCorrupt
from firmware.journal import AUDIT, HOST_STATE, REVERSAL, TXN, Journal
from firmware.params import PARAMS, Params
from firmware.store import (
    EVIDENCE_MAX_BYTES,
    EVIDENCE_MAX_FILES,
    Damaged,
    RecordFile,
    decode,
    encode,
    evidence,
    load,
    pack,
    save,
    unpack,
)
from virtual.storage import TEAR_MODES, PowerCut, RamStorage


def _check(record):
    if type(record.get("x")) is not int:
        raise Damaged("bad x")
    return record


SPEC = RecordFile("rec", _check, 512)


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type:
        return True
    return False


# ---- Encoding --------------------------------------------------------------------------------


def test_encoding_is_canonical_and_the_same_bytes_on_every_runtime():
    record = {"b": 1, "a": '钱记\u2028"\\\x01', "c": [True, None, -5], "d": {"z": 1, "y": False}}
    want = (
        b'{"a":"\xe9\x92\xb1\xe8\xae\xb0\xe2\x80\xa8\\"\\\\\\u0001",'
        b'"b":1,"c":[true,null,-5],"d":{"y":false,"z":1}}'
    )
    assert encode(record) == want
    assert decode(want) == record


def test_encoding_refuses_what_cannot_be_stored():
    assert _raises(TypeError, lambda: encode({"f": 1.5}))
    assert _raises(TypeError, lambda: encode({1: 2}))


def test_decode_refuses_deep_nesting_and_non_records_without_crashing():
    for raw in (b"[" * 100000, b'{"a":' * 5000, b"[1,2]", b"\xff\xfe", b"", b"{bad", b'"x"'):
        assert _raises(Damaged, decode, raw), raw[:20]
    assert decode(b'{"a":[[1]]}') == {"a": [[1]]}


def test_a_generation_detects_every_truncation_and_flipped_byte():
    raw = pack(7, {"x": 5, "name": "钱记"})
    assert unpack(raw, 512) == (7, {"x": 5, "name": "钱记"})
    for cut in range(len(raw)):
        assert _raises(Damaged, unpack, raw[:cut], 512)
    for i in range(len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= 0x41
        assert _raises(Damaged, unpack, bytes(flipped), 512), i
    assert _raises(Damaged, lambda: unpack(raw, 10))  # over the record's limit


# ---- Generations -----------------------------------------------------------------------------


def test_two_generations_alternate_and_the_newest_wins():
    s = RamStorage()
    loaded = load(s, SPEC)
    assert loaded.record is None and not loaded.lost
    for x in range(1, 5):
        save(s, SPEC, {"x": x}, loaded)
    assert s.list() == ["rec.a", "rec.b"]
    again = load(s, SPEC)
    # the first save wrote generations 1 and 2 (both slots): four saves end at generation 5
    assert again.record == {"x": 4} and again.seq == 5 and not again.fell_back


def test_the_first_save_writes_both_generations_so_a_lone_copy_is_always_a_missing_one():
    for saves in (1, 2, 3):
        for slot in (".a", ".b"):
            s = RamStorage()
            loaded = load(s, SPEC)
            for x in range(1, saves + 1):
                save(s, SPEC, {"x": x}, loaded)
            assert s.list() == ["rec.a", "rec.b"]
            s.remove("rec" + slot)
            again = load(s, SPEC)
            assert again.fell_back, (saves, slot)
            assert again.record["x"] in (saves - 1, saves)


def test_a_damaged_newest_generation_falls_back_to_the_older_and_is_kept_as_evidence():
    s = RamStorage()
    loaded = load(s, SPEC)
    save(s, SPEC, {"x": 1}, loaded)
    save(s, SPEC, {"x": 2}, loaded)
    newest = "rec" + loaded.slot
    damaged = s.read(newest)[:-3]
    s.write(newest, damaged)
    again = load(s, SPEC)
    assert again.record == {"x": 1} and again.fell_back and again.damaged == [newest]
    assert evidence(s) == [(1, newest)]
    assert s.read("bad.000001." + newest) == damaged


def test_a_damaged_older_generation_is_evidence_and_a_fall_back_as_its_header_is_not_trusted():
    s = RamStorage()
    loaded = load(s, SPEC)
    save(s, SPEC, {"x": 1}, loaded)
    save(s, SPEC, {"x": 2}, loaded)
    older = "rec.a" if loaded.slot == ".b" else "rec.b"
    raw = bytearray(s.read(older))
    raw[-2] ^= 1  # payload rot: the sequence number its header shows is not under a good CRC
    s.write(older, bytes(raw))
    again = load(s, SPEC)
    assert again.record == {"x": 2} and again.fell_back and again.damaged == [older]


def test_the_header_is_under_the_crc():
    raw = pack(2, {"x": 1})
    assert raw[:5] == b"QPR2 " and unpack(raw, 64) == (2, {"x": 1})
    for i in range(27):
        for bit in range(8):
            flipped = bytearray(raw)
            flipped[i] ^= 1 << bit
            assert _raises(Damaged, lambda f=bytes(flipped): unpack(f, 64)), (i, bit)
    # the sequence number 2 -> 6 (byte 12, ^0x04): a good payload CRC no longer hides it
    flipped = bytearray(raw)
    flipped[12] ^= 0x04
    assert _raises(Damaged, lambda: unpack(bytes(flipped), 64))


def test_a_qpr1_record_still_loads_and_its_next_save_is_qpr2():
    s = RamStorage()
    s.write("rec.a", pack(1, {"x": 1}, 1))
    s.write("rec.b", pack(2, {"x": 2}, 1))
    assert s.read("rec.b")[:5] == b"QPR1 "
    loaded = load(s, SPEC)
    assert loaded.record == {"x": 2} and loaded.seq == 2 and not loaded.fell_back
    save(s, SPEC, {"x": 3}, loaded)
    assert s.read("rec.a")[:5] == b"QPR2 " and load(s, SPEC).record == {"x": 3}


def test_a_vanished_generation_counts_as_a_fall_back():
    s = RamStorage()
    loaded = load(s, SPEC)
    for x in (1, 2, 3):
        save(s, SPEC, {"x": x}, loaded)
    s.remove("rec" + loaded.slot)  # the newest, deleted outright
    again = load(s, SPEC)
    assert again.record == {"x": 2} and again.fell_back


def test_wrong_types_are_damage_even_with_a_good_checksum():
    s = RamStorage()
    for bad in ({"x": True}, {"x": "1"}, {"x": None}):
        s.write("rec.a", pack(1, bad))
        assert load(s, SPEC).lost
    s.write("rec.a", b"QPR1 00000001 0005 00000000\n" + b"[" * 5)
    assert load(s, SPEC).lost


def test_a_complete_temp_file_is_finished_and_a_torn_one_removed():
    s = RamStorage()
    loaded = load(s, SPEC)
    save(s, SPEC, {"x": 1}, loaded)
    save(s, SPEC, {"x": 2}, loaded)
    # FAT renames by remove + rename: a cut in between leaves only the complete temp file.
    older = "rec.a" if loaded.slot == ".b" else "rec.b"
    s.write("rec.tmp", pack(4, {"x": 3}))
    s.remove(older)
    again = load(s, SPEC)
    assert again.record == {"x": 3} and "rec.tmp" not in s.list() and evidence(s) == []
    assert not again.fell_back and not load(s, SPEC).fell_back
    s.write("rec.tmp", pack(9, {"x": 9})[:-1])
    assert load(s, SPEC).record == {"x": 3} and "rec.tmp" not in s.list() and evidence(s) == []


def test_save_refuses_a_record_its_validator_refuses():
    s = RamStorage()
    assert _raises(Damaged, lambda: save(s, SPEC, {"x": "no"}, load(s, SPEC)))
    assert s.list() == []


def test_a_write_is_old_or_new_after_a_power_cut_at_every_operation():
    new = {"x": 2, "pad": "p" * 40}
    for tear in TEAR_MODES:
        n = 1
        while True:
            s = RamStorage()
            loaded = load(s, SPEC)
            save(s, SPEC, {"x": 1}, loaded)
            s.cut_at(n, tear)
            try:
                save(s, SPEC, new, loaded)
                done = True
            except PowerCut:
                done = False
            s.cut_at(None)
            s.power_on()
            got = load(s, SPEC)
            assert got.record in ({"x": 1}, new), (tear, n, got.record)
            assert not got.damaged and not got.lost, (tear, n)
            if done:
                assert got.record == new
                break
            n += 1
        assert n >= 4, tear  # write, sync, rename, sync: each was cut


# ---- Evidence --------------------------------------------------------------------------------


def test_evidence_is_numbered_never_overwritten_and_bounded():
    s = RamStorage()
    for i in range(EVIDENCE_MAX_FILES + 3):
        s.write("rec.a", b"junk " + str(i).encode())
        load(s, SPEC)
    kept = evidence(s)
    assert len(kept) == EVIDENCE_MAX_FILES
    assert [n for n, _ in kept] == list(range(4, EVIDENCE_MAX_FILES + 4))  # the oldest dropped first
    assert s.read("bad.{}.rec.a".format("0" * 5 + "4")) == b"junk 3"


def test_a_huge_damaged_file_keeps_only_its_first_bytes_as_evidence():
    s = RamStorage()
    s.write("rec.a", b"z" * (EVIDENCE_MAX_BYTES * 20))
    load(s, SPEC)
    assert s.size("bad.000001.rec.a") == EVIDENCE_MAX_BYTES and "rec.a" not in s.list()


# ---- Counters --------------------------------------------------------------------------------


def test_a_factory_fresh_terminal_starts_at_one_and_becomes_provisioned():
    s = RamStorage()
    c = Counters.load(s)
    assert (c.trace, c.batch) == (1, 1) and not provisioned(s)
    assert c.next_trace() == 1
    assert provisioned(s)
    assert (c.next_trace(), Counters.load(s).trace) == (2, 3)


def test_trace_numbers_wrap_and_batches_close():
    s = RamStorage()
    c = Counters.load(s)
    c.next_trace()
    c.n = 999998
    assert c.next_trace() == 999999
    assert c.next_trace() == 1
    assert c.next_batch() == 2
    again = Counters.load(s)
    assert (again.trace, again.batch) == (2, 2)


def test_counters_falling_back_to_the_older_copy_skip_ahead():
    s = RamStorage()
    c = Counters.load(s)
    handed = [c.next_trace() for _ in range(5)]
    newest = "counters" + c._loaded.slot
    s.write(newest, s.read(newest)[:-1])
    again = Counters.load(s)
    assert again.skipped == FALLBACK_SKIP
    assert again.next_trace() > handed[-1] + FALLBACK_SKIP - 2
    assert Counters.load(s).trace == again.trace  # the skip itself is stored


def test_a_provisioned_terminal_with_lost_counters_stays_blocked_until_recovered():
    s = RamStorage()
    c = Counters.load(s)
    handed = [c.next_trace() for _ in range(30)]
    for name in COUNTERS.files():
        if name in s.list():
            s.write(name, b"\x00rot")
    for _ in range(2):  # a reboot does not clear it: the evidence and the marker remain
        assert _raises(CountersLost, lambda: Counters.load(s))
    r = recover(s)
    assert r.trace > handed[-1] and r.trace >= RESERVE
    assert Counters.load(s).trace == r.trace


def test_counters_deleted_outright_still_block_a_provisioned_terminal():
    s = RamStorage()
    c = Counters.load(s)
    c.next_trace()
    for name in list(s.list()):
        if name.startswith("counters."):
            s.remove(name)
    assert _raises(CountersLost, lambda: Counters.load(s))
    # Even with the marker damaged too: its evidence still says the terminal was provisioned.
    for name in list(s.list()):
        if name.startswith("provisioned."):
            s.write(name, b"rot")
    assert _raises(CountersLost, lambda: Counters.load(s))


def test_recovery_skips_past_numbers_seen_only_in_evidence():
    s = RamStorage()
    c = Counters.load(s)
    c.next_trace()
    c.n = 5000  # as if 5000 numbers had been handed out since
    c.next_trace()
    for name in list(s.list()):
        if not name.startswith("bad."):
            raw = bytearray(s.read(name))
            raw[20] ^= 0xFF  # the checksum field: the payload still reads
            s.write(name, bytes(raw))
    assert _raises(CountersLost, lambda: Counters.load(s))
    assert recover(s).n > 5001


def _sale_record(trace, batch=1):
    return {
        "v": 1, "kind": "sale", "trace": trace, "batch": batch, "amount": 100,
        "card": "621700*********5675", "time": 1795392000, "state": "approved", "code": "00",
        "rrn": "000000000001", "auth": "A00001", "mode": "insert", "shown": True,
    }  # fmt: skip


def _lose_counters_and_marker(s):
    for name in list(s.list()):
        if name.startswith("counters.") or name.startswith("provisioned."):
            s.remove(name)


def test_a_transaction_record_is_evidence_and_a_floor_when_counters_and_marker_are_lost():
    s = RamStorage()
    c = Counters.load(s)
    handed = [c.next_trace() for _ in range(4)]
    save(s, TXN, _sale_record(handed[-1]), load(s, TXN))
    _lose_counters_and_marker(s)
    assert provisioned(s)  # the transaction record says so: never a fresh start at trace 1
    assert _raises(CountersLost, lambda: Counters.load(s))
    # the boot that found them lost reserved floor + RESERVE in a new marker; recovery skips past it
    assert recover(s).trace == handed[-1] + 2 * RESERVE + 1
    # the reversal or the audit alone, or the sign-in state, say it as well
    for spec, record in (
        (REVERSAL, {"v": 1, "state": "none"}),
        (HOST_STATE, {"v": 1, "day": 1, "need": False, "known": 0}),
    ):
        t = RamStorage()
        save(t, spec, record, load(t, spec))
        assert provisioned(t) and _raises(CountersLost, lambda t=t: Counters.load(t))


def test_the_floor_near_the_wrap_is_the_last_trace_plus_the_reserve():
    s = RamStorage()
    save(s, TXN, _sale_record(999998, 7), load(s, TXN))
    assert _raises(CountersLost, lambda: Counters.load(s))
    r = recover(s)
    assert (r.trace, r.batch) == ((999998 + 2 * RESERVE) % 999999 + 1, 7)


def test_the_floor_after_a_wrap_is_the_most_recent_record_not_the_highest_trace():
    s = RamStorage()
    txn = load(s, TXN)
    save(s, TXN, _sale_record(999998), txn)
    save(s, TXN, _sale_record(2), txn)  # the newest generation: trace 2, after the wrap
    audit = {
        "v": 1,
        "items": [
            {
                "what": "failed_reversal",
                "trace": 999990,
                "batch": 1,
                "amount": 100,
                "reason": "98",
                "time": 0,
                "f": {"11": "999990", "39": "98"},
            }
        ],
    }
    save(s, AUDIT, audit, load(s, AUDIT))
    assert _raises(CountersLost, lambda: Counters.load(s))
    assert recover(s).trace == 2 + 2 * RESERVE + 1  # "the highest trace" would give 999990 + ...


def test_counters_that_fall_back_skip_past_a_newer_transaction_too():
    s = RamStorage()
    c = Counters.load(s)
    c.next_trace()
    c.next_trace()
    c.n = 400  # as if many numbers had gone out since, the counters' copies then replaced by old ones
    save(s, TXN, _sale_record(401), load(s, TXN))
    s.remove("counters.a")
    s.write("counters.b", pack(2, {"v": 1, "n": 1, "batch": 1}))
    again = Counters.load(s)
    assert again.next_trace() > 401


def _approved_sale(s):
    journal = Journal(s)
    txn = {"kind": "sale", "trace": 2, "batch": 1, "amount": 100, "card": "621700*********5675"}
    txn.update({"mode": "insert", "time": 1795392000})
    journal.write_ahead(txn, {3: "000000", 4: "000000000100", 11: "000002", 41: "10000001"})
    journal.record_outcome("approved", "00", "000000000001", "A00001")
    journal.clear_reversal()


def test_an_approved_sale_is_never_reversed_when_its_newest_txn_and_reversal_are_lost():
    for txn_gone in (("txn.a",), ("txn.b",), ("txn.a", "txn.b")):
        for rev_gone in ("reversal.a", "reversal.b"):
            s = RamStorage()
            _approved_sale(s)
            for name in txn_gone + (rev_gone,):
                s.remove(name)
            try:
                journal = Journal(s)
            except StoredDataCorrupt:
                continue  # the journal is not trusted: the storage fault, nothing reversed
            journal.recover()
            assert journal.pending_reversal() is None, (txn_gone, rev_gone)
    # one of them alone falls back safely: the approved sale stays approved, nothing to reverse
    for gone in ("txn.a", "txn.b", "reversal.a", "reversal.b"):
        s = RamStorage()
        _approved_sale(s)
        s.remove(gone)
        journal = Journal(s)
        journal.recover()
        assert journal.pending_reversal() is None, gone


def test_legacy_counters_are_migrated():
    s = RamStorage()
    s.write("counters.json", b'{"trace": 42, "batch": 3}')
    c = Counters.load(s)
    assert (c.trace, c.batch) == (42, 3)
    assert "counters.json" not in s.list()
    assert Counters.load(s).trace == 42
    s2 = RamStorage()
    s2.write("counters.json", b'{"trace": true, "batch": 1}')
    assert _raises(CountersLost, lambda: Counters.load(s2))


def test_a_trace_number_is_never_handed_out_twice_across_power_cuts():
    for tear in TEAR_MODES:
        n = 1
        while True:
            s = RamStorage()
            c = Counters.load(s)
            handed = [c.next_trace(), c.next_trace()]
            s.cut_at(n, tear)
            try:
                handed.append(c.next_trace())
                done = True
            except PowerCut:
                done = False
            s.cut_at(None)
            s.power_on()
            after = Counters.load(s)
            assert after.trace > handed[-1], (tear, n, after.trace, handed)
            if done:
                break
            n += 1


# ---- Parameters ------------------------------------------------------------------------------


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
    assert _raises(ValueError, lambda: q.save(s))
    q.language = "en"
    q.max_amount = True  # bool is an int on CPython: refused all the same
    assert _raises(ValueError, lambda: q.save(s))
    assert Params.load(s).language == "en"


def _stored_params(s, fields):
    """A well-formed generation of params.a whose JSON text has the given (possibly bad) fields."""
    text = '{"v":1' + "".join(',"{}":{}'.format(name, fields[name]) for name in sorted(fields)) + "}"
    payload = text.encode()
    head = "QPR1 00000001 {:04x} {:08x}\n".format(len(payload), crc32(payload))
    s.write("params.a", head.encode() + payload)


def test_damaged_cosmetic_params_fall_back_with_a_warning_that_lasts():
    s = RamStorage()
    _stored_params(s, {"language": '"xx"', "max_amount": "true", "tz_minutes": "1.5", "evil": "1"})
    p = Params.load(s)
    assert p.damaged and not p.identity_lost
    assert (p.language, p.max_amount, p.tz_minutes) == ("zh", 10000000, 480)
    assert Params.load(s).damaged  # after a reboot too
    p.save(s)
    assert not Params.load(s).damaged


def test_damaged_identity_params_never_fall_back_to_defaults():
    s = RamStorage()
    _stored_params(s, {"terminal_id": "10000001"})
    p = Params.load(s)
    assert p.identity_lost and p.terminal_id is None and p.merchant_id == "898100012340001"
    assert _raises(ValueError, lambda: p.save(s))  # a language change must not restore a default id
    s2 = RamStorage()
    p2 = Params.load(s2)
    p2.save(s2)
    p2.save(s2)
    for name in ("params.a", "params.b"):
        s2.write(name, b"\x00")
    for _ in range(2):  # lasting: the copies are evidence now, the loss is remembered
        again = Params.load(s2)
        assert again.identity_lost and again.terminal_id is None
    again.terminal_id = "10000002"
    again.merchant_id = "898100012340002"
    again.host = "10.0.0.5:8583"
    again.mac_algorithm = "ecb"
    again.save(s2)
    assert not Params.load(s2).identity_lost


def test_legacy_params_are_read():
    s = RamStorage()
    s.write("params.json", b'{"language": "en", "merchant_name": "Old Shop"}')
    p = Params.load(s)
    assert (p.language, p.merchant_name, p.terminal_id) == ("en", "Old Shop", "10000001")


# ---- The registry ----------------------------------------------------------------------------


def test_the_registry_knows_every_file_the_records_write():
    s = RamStorage()
    Params.load(s).save(s)  # as the terminal does: parameters before counters
    c = Counters.load(s)
    c.next_trace()
    c.next_trace()
    s.write("counters.a", b"rot")
    Counters.load(s)
    assert registry.unknown_files(s) == []
    assert registry.owner("bad.000001.counters.a") is COUNTERS
    assert registry.owner("params.tmp") is PARAMS
    s.write("stray.bin", b"x")
    assert registry.unknown_files(s) == ["stray.bin"]
