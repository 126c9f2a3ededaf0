# The acquirer's side of the messages: what a host builds in answer to our requests (the echoed
# fields, settlement results, the working keys of a sign-in) and what kind of request it got.
# Host-side code: it lives in sim/ so it is never in the device image (its bytecode would cost a
# board RAM for nothing); the terminal must never need it.

from firmware.host.codec import MAC_ROOM, Message, ProtocolError, answer_mti, reply_tpdu
from firmware.host.messages import (
    BALANCED,
    NET_ECHO,
    NET_ESIGN,
    NET_SIGN_IN,
    NET_SIGN_IN_SINGLE,
    NET_SIGN_IN_TRACK,
    NET_SIGN_OFF,
    NET_UPLOAD,
    NET_UPLOAD_END,
    NET_UPLOAD_END_BALANCED,
    PROC_SALE,
    PROC_VOID,
    SETTLE_ERROR,
    UNBALANCED,
    carries_mac,
    parse_settlement_totals,
)

# A host echoes these request fields in its answer.
ECHOED = (3, 4, 11, 25, 41, 42, 48, 49, 60)


def start_answer(request, code):
    """The answer to `request` as a host starts it: the answering MTI, the TPDU swapped, the
    echoed fields (ECHOED, when the request has them), F39 = `code`, and MAC_ROOM in F64 when the
    MTI carries a MAC. The host adds its own (12, 13, 15, 32, 37, 38, 44, 62, 63) and the MAC."""
    m = Message(answer_mti(request.mti), {}, reply_tpdu(request.tpdu), request.header)
    for n in ECHOED:
        if n in request.fields:
            m[n] = request.fields[n]
    m[39] = code
    if carries_mac(m.mti):
        m[64] = MAC_ROOM
    return m


def settled_f48(request_f48, domestic, foreign=BALANCED):
    """The F48 of a 0510: the request's totals with the two result digits set (BALANCED,
    UNBALANCED or SETTLE_ERROR for the domestic and the foreign totals)."""
    parse_settlement_totals(request_f48)
    for r in (domestic, foreign):
        if r not in (BALANCED, UNBALANCED, SETTLE_ERROR):
            raise ProtocolError("settlement result must be 1, 2 or 3")
    return request_f48[:30] + str(domestic) + request_f48[31:61] + str(foreign)


def keys_field(pin_key, pin_check, mac_key, mac_check, track_key=b"", track_check=b""):
    """F62 of a sign-in answer: PIN key + check value, MAC key + check value [, track key + check
    value]; keys of 8 bytes (60.3 = 001) or 16 (003, 004 with the track key), checks of 4."""
    width = len(pin_key)
    parts = [pin_key, pin_check, mac_key, mac_check]
    if track_key:
        parts += [track_key, track_check]
    for i in range(0, len(parts), 2):
        if len(parts[i]) != width or width not in (8, 16) or len(parts[i + 1]) != 4:
            raise ProtocolError("keys must be 8 or 16 bytes, check values 4")
    if width == 8 and track_key:
        raise ProtocolError("a track key comes with double-length keys only")
    return b"".join(bytes(p) for p in parts)


def kind(msg):
    """What a request, or the answer to one, is: "sign_in", "sign_off", "echo", "sale", "void",
    "refund", "reversal", "settlement", "batch_upload", "batch_upload_end", "esign_upload";
    "" for anything else."""
    mti = msg.mti
    if type(mti) is not str or len(mti) != 4 or not mti.isdigit():
        return ""
    base = mti[:2] + str(int(mti[2]) & 6) + mti[3]
    f = msg.get(60)
    net = f[8:11] if type(f) is str else ""
    if base == "0200":
        proc = msg.get(3)
        return "sale" if proc == PROC_SALE else "void" if proc == PROC_VOID else ""
    if base == "0220":
        return "refund"
    if base == "0400":
        return "reversal"
    if base == "0500":
        return "settlement"
    if base == "0800" and net in (NET_SIGN_IN_SINGLE, NET_SIGN_IN, NET_SIGN_IN_TRACK):
        return "sign_in"
    if base == "0820":
        if net == NET_SIGN_OFF:
            return "sign_off"
        if net == NET_ECHO:
            return "echo"
        if net == NET_ESIGN:
            return "esign_upload"
    if base == "0320":
        if net == NET_UPLOAD:
            return "batch_upload"
        if net in (NET_UPLOAD_END, NET_UPLOAD_END_BALANCED):
            return "batch_upload_end"
    return ""
