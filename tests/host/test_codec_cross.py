# Our codec against pyiso8583 in both directions, field by field, under the spec written in
# tests/host/pyiso_spec.py; and hypothesis on our decoder: random and mutated frames give a
# Message or ProtocolError, nothing else. Prints how many examples each property ran.
import ast
import os

import iso8583
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware.host import messages as msg
from firmware.host.codec import HEADER, TPDU, Message, ProtocolError, decode, encode, encode_into
from sim.host import answers
from tests.host import pyiso_spec
from tools.mpy_gate import REPO

SPEC = pyiso_spec.spec("0")
SPEC_F = pyiso_spec.spec("F")
ACC = msg.Acceptor("10000001", "898100012340001")
TRACK2 = "6217001234567895675=25121011234"
RUNS = {}


def _count(name):
    RUNS[name] = RUNS.get(name, 0) + 1


def _report(capsys, name):
    with capsys.disabled():
        print("\n{}: {} hypothesis examples".format(name, RUNS.get(name, 0)))


def _builder_messages():
    sale = msg.sale(ACC, 123, 7, 12345, TRACK2, "swipe", pin_block=bytes(range(8)))
    void = msg.void(ACC, 124, 7, 12345, 7, 123, "332900000111", "AB1234", TRACK2, "insert")
    requests = [
        msg.sign_in(ACC, 1, 7),
        msg.sign_off(ACC, 2, 7),
        msg.echo(ACC, 7),
        sale,
        msg.sale(ACC, 5, 7, 1, TRACK2, "tap", track3="99" + TRACK2, card_seq=1),
        void,
        msg.void(ACC, 124, 7, 12345, 7, 123, "332900000111"),
        msg.refund(ACC, 125, 7, 500, "332900000111", "1129", TRACK2, "tap"),
        msg.reversal(sale, msg.REVERSE_NO_ANSWER),
        msg.reversal(void, msg.REVERSE_MAC),
        msg.settlement(ACC, 126, 7, 1234500, 12, 50000, 2),
        msg.batch_upload(ACC, 7, msg.TYPE_SALE, 123, 12345, "332900000111", "AB1234", "1129", "120000"),
        msg.batch_upload_end(ACC, 127, 7, 12),
        msg.esign_upload(ACC, 7, 123, 12345, "332900000111", [(0xFF00, "商户".encode())], b"\x00" * 900),
    ]
    replies = []
    for r in requests:
        a = answers.start_answer(r, "00")
        a[12] = "120000"
        a[13] = "1129"
        a[37] = "332900000111"
        a[63] = "CUP中国银联".encode("gbk")
        replies.append(a)
    keys = answers.keys_field(b"P" * 16, b"pcv1", b"M" * 16, b"mcv1")
    replies[0][62] = keys
    replies[0][32] = "48021000"
    replies[10][48] = answers.settled_f48(requests[10][48], msg.UNBALANCED)
    replies[3][38] = "AB1234"
    replies[3][44] = "03080000   48021000   "
    replies[3][15] = "1130"
    return requests + replies


def _check_pyiso_reads(message):
    frame = bytes(encode(message))
    assert frame[:2] == (len(frame) - 2).to_bytes(2, "big")
    doc, _ = iso8583.decode(frame[2:], SPEC)
    assert doc["h"] == (message.tpdu + message.header).hex().upper()
    assert doc["t"] == message.mti
    fields = sorted(int(k) for k in doc if k.isdigit())
    assert fields == sorted(message.fields), message
    for n in fields:
        assert pyiso_spec.from_pyiso(n, doc[str(n)]) == message.fields[n], (message, n)


def test_every_frame_our_builders_make_decodes_with_pyiso8583_field_by_field():
    messages = _builder_messages()
    assert len(messages) == 28
    for m in messages:
        _check_pyiso_reads(m)


def test_frames_built_by_pyiso8583_decode_with_ours():
    for m in _builder_messages():
        for spec in (SPEC, SPEC_F):
            raw, _ = iso8583.encode(pyiso_spec.doc_of(m), spec)
            frame = len(raw).to_bytes(2, "big") + bytes(raw)
            assert decode(frame) == m, m


# ---- random messages, both directions -----------------------------------------------------------
_DIGITS = "0123456789"
_PRINTABLE = "".join(chr(c) for c in range(32, 127))


def _digits(size, fixed=True, alphabet=_DIGITS):
    return st.text(alphabet, min_size=size if fixed else 0, max_size=size)


# field: strategy, sized so that the whole message stays under the 2048-byte limit
_FIELD_VALUES = {
    2: _digits(19, False),
    3: _digits(6),
    4: _digits(12),
    11: _digits(6),
    12: _digits(6),
    13: _digits(4),
    14: _digits(4),
    15: _digits(4),
    22: _digits(3),
    23: _digits(3),
    25: _digits(2),
    26: _digits(2),
    32: _digits(11, False),
    35: _digits(37, False, _DIGITS + "D"),
    36: _digits(104, False, _DIGITS + "D"),
    37: st.text(_PRINTABLE, min_size=12, max_size=12),
    38: st.text(_PRINTABLE, min_size=6, max_size=6),
    39: st.text(_PRINTABLE, min_size=2, max_size=2),
    41: st.text(_PRINTABLE, min_size=8, max_size=8),
    42: st.text(_PRINTABLE, min_size=15, max_size=15),
    44: st.text(_PRINTABLE, max_size=25),
    48: _digits(322, False),
    49: st.text(_PRINTABLE, min_size=3, max_size=3),
    52: st.binary(min_size=8, max_size=8),
    53: _digits(16),
    55: st.binary(max_size=255),
    59: st.binary(max_size=300),
    60: _digits(17, False),
    61: _digits(29, False),
    62: st.binary(max_size=500),
    63: st.binary(max_size=163),
    64: st.binary(min_size=8, max_size=8),
}


@st.composite
def _messages(draw):
    numbers = draw(st.sets(st.sampled_from(sorted(_FIELD_VALUES))))
    fields = {n: draw(_FIELD_VALUES[n]) for n in numbers}
    mti = draw(_digits(4))
    tpdu = b"\x60" + draw(st.binary(min_size=4, max_size=4))
    header = draw(st.binary(min_size=6, max_size=6))
    return Message(mti, fields, tpdu, header)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_messages())
def test_random_messages_we_encode_decode_with_pyiso8583(m):
    _count("ours -> pyiso8583")
    _check_pyiso_reads(m)
    assert decode(encode(m)) == m


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_messages(), st.sampled_from(["0", "F"]))
def test_random_messages_pyiso8583_encodes_decode_with_ours(m, pad):
    _count("pyiso8583 -> ours")
    raw, _ = iso8583.encode(pyiso_spec.doc_of(m), pyiso_spec.spec(pad))
    frame = len(raw).to_bytes(2, "big") + bytes(raw)
    assert decode(frame) == m


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_messages(), st.integers(0, 600))
def test_encode_into_any_buffer_writes_the_frame_or_says_it_does_not_fit(m, size):
    _count("encode_into a random buffer")
    frame = bytes(encode(m))
    buf = bytearray(size)
    try:
        n = encode_into(m, buf)
    except ProtocolError:
        assert len(frame) > size
        return
    assert bytes(buf[:n]) == frame


def test_cross_check_counts(capsys):
    # Runs after the two properties above (pytest keeps file order) and says how much they ran.
    _report(capsys, "ours -> pyiso8583")
    _report(capsys, "pyiso8583 -> ours")
    _report(capsys, "encode_into a random buffer")


# ---- the decoder under fuzzing ------------------------------------------------------------------
_SEEDS = [bytes(encode(m)) for m in _builder_messages()]


def _decode_or_protocol_error(frame):
    """decode(frame) either gives a Message that re-encodes to one that decodes the same, or
    raises ProtocolError; anything else (IndexError, ValueError, UnicodeError...) fails."""
    try:
        m = decode(frame)
    except ProtocolError as e:
        assert e.detail and "\n" not in e.detail
        return None
    assert decode(encode(m)) == m
    return m


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_give_only_protocol_error(data):
    _count("random bytes")
    _decode_or_protocol_error(data)


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=400), st.binary(min_size=6, max_size=6))
def test_random_bodies_behind_a_valid_prefix_give_only_protocol_error(rest, header):
    _count("random body behind a valid prefix")
    body = TPDU[:1] + header[:4] + HEADER + rest
    _decode_or_protocol_error(len(body).to_bytes(2, "big") + body)


@st.composite
def _mutated(draw):
    frame = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        if len(frame) < 3:
            break  # cut down to (less than) the length prefix: nothing left to mutate
        op = draw(st.sampled_from(["set", "flip", "cut", "insert", "delete"]))
        at = draw(st.integers(2, len(frame) - 1))
        if op == "set":
            frame[at] = draw(st.integers(0, 255))
        elif op == "flip":
            frame[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del frame[at:]
        elif op == "insert":
            frame[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del frame[at : at + draw(st.integers(1, 8))]
    if draw(st.booleans()) and len(frame) >= 2:  # keep the prefix right, to reach the fields
        frame[0:2] = (len(frame) - 2).to_bytes(2, "big")
    return bytes(frame)


@settings(max_examples=5000, deadline=None)
@given(_mutated())
def test_mutated_frames_give_a_message_or_protocol_error(frame):
    _count("mutated frames")
    m = _decode_or_protocol_error(frame)
    if m is not None:
        _count("mutated frames still valid")


def test_fuzz_counts(capsys):
    for name in ("random bytes", "random body behind a valid prefix", "mutated frames"):
        _report(capsys, name)
    _report(capsys, "mutated frames still valid")
    assert RUNS.get("mutated frames", 0) >= 1000  # the properties above really ran


def test_the_terminal_never_imports_the_host_side():
    # answers.py is the host simulator's (sim/host/): on a board its bytecode would take RAM for
    # nothing, so it is not in firmware/ at all, and nothing there asks for it.
    root = os.path.join(REPO, "firmware")
    assert not os.path.exists(os.path.join(root, "host", "answers.py"))
    importers = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    tree = ast.parse(f.read(), name)
                for node in ast.walk(tree):
                    if isinstance(node, ast.ImportFrom):
                        names = [(node.module or "") + "." + a.name for a in node.names]
                    elif isinstance(node, ast.Import):
                        names = [a.name for a in node.names]
                    else:
                        continue
                    if any("host.answers" in n for n in names):
                        importers.append(name)
    assert importers == []


def test_the_codec_has_no_blanket_except():
    # A MemoryError (or any bug) must never be turned into a ProtocolError: the one handler in
    # codec.py catches ValueError from bytes.fromhex while encoding, nothing else.
    path = os.path.join(REPO, "firmware", "host", "codec.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    handlers = []
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef):
            for node in ast.walk(func):
                if isinstance(node, ast.ExceptHandler):
                    name = node.type.id if isinstance(node.type, ast.Name) else ast.dump(node.type or node)
                    handlers.append((func.name, name))
    assert handlers == [("_bcd", "ValueError")]
