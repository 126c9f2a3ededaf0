# The host's side of the signed e-receipt (docs/RECEIPT.md): the receipt's bytes rebuilt from an
# 0820 upload (F55's elements and the fields the 0820 carries anyway), and its signature checked with
# the terminal's public key. CPython only (cryptography); never trusts a length it did not check.
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from firmware import receipt as rct
from firmware.esign import feature_code
from firmware.host import messages as msg
from firmware.host.codec import ProtocolError, tlv_parse
from hal.record import Damaged


class ReceiptProblem(ValueError):
    """Why an upload's receipt cannot be rebuilt or does not verify (one line)."""


_HEX = frozenset(b"0123456789abcdefABCDEF")


def public_key(data):
    """A P-256 public key from 65 bytes (0x04 || X || Y), their 130 hexadecimal digits (the about
    screen's QR code: text or bytes, either case, blanks around them ignored), PEM text or PEM
    bytes; ReceiptProblem."""
    try:
        if isinstance(data, str):
            data = data.encode()
        digits = bytes(data).strip()
        if len(digits) == 130 and set(digits) <= _HEX:
            data = bytes.fromhex(digits.decode())
        if data[:1] == b"\x04" and len(data) == 65:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(data))
        key = serialization.load_pem_public_key(bytes(data))
    except (ValueError, TypeError) as e:
        raise ReceiptProblem("not a P-256 public key ({})".format(e)) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ReceiptProblem("not a P-256 public key")
    return key


def pem(key):
    """The PEM text of a public key (65 bytes or a key object)."""
    if isinstance(key, (bytes, bytearray)):
        key = public_key(bytes(key))
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def verify(key, receipt, signature):
    """True if signature (64 bytes r || s) is key's ECDSA P-256 / SHA-256 signature of receipt."""
    if len(signature) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, bytes(receipt), ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def rebuild(req):
    """(receipt bytes, signature or None) of an 0820 upload (a decoded Message): F55's FFxx
    elements, the others from F41, F42, F60.2, F11, F37, F4, F15 and F62 (docs/RECEIPT.md's table).
    ReceiptProblem when F55 is not the receipt's elements."""
    try:
        items = tlv_parse(req[55])
    except (ProtocolError, KeyError) as e:
        raise ReceiptProblem("F55 is not TLV ({})".format(e)) from None
    signature = None
    elements = {}
    for tag, value in items:
        if tag == rct.SIG_TAG:
            if signature is not None:
                raise ReceiptProblem("two signatures in F55")
            signature = bytes(value)
            continue
        low = tag & 0xFF
        if tag >> 8 != 0xFF or low not in rct.F55_TAGS or low in elements:
            raise ReceiptProblem("F55 tag {:X} is not a receipt element (or twice)".format(tag))
        elements[low] = bytes(value)
    rrn = req.get(37, "")
    elements[rct.T_MERCHANT] = req.get(42, "").encode()
    elements[rct.T_TERMINAL] = req.get(41, "").encode()
    elements[rct.T_BATCH] = "{:06d}".format(msg.batch_of(req)).encode()
    elements[rct.T_TRACE] = "{:06d}".format(msg.trace_of(req)).encode()
    elements[rct.T_RRN] = rrn.encode()
    elements[rct.T_AMOUNT] = req.get(4, "").encode()
    elements[rct.T_FEATURE] = feature_code(req.get(15, ""), rrn).encode()
    if 62 in req.fields:
        elements[rct.T_IMAGE] = hashlib.sha256(bytes(req[62])).digest()
    out = bytearray(rct.MAGIC)
    for tag in sorted(elements):
        value = elements[tag]
        if len(value) > 255:
            raise ReceiptProblem("element {:02X} too long".format(tag))
        out += bytes((tag, len(value))) + value
    return bytes(out), signature


def upload_problem(req, key):
    """Why an upload's receipt does not verify, or "": rebuilt (rebuild) and, when the host has the
    terminal's key (None: not checked), its signature verified. ReceiptProblem (a format error)
    when it cannot be rebuilt, or its codes say signed without an image (F62) or unsigned with one."""
    receipt, signature = rebuild(req)
    try:
        got = dict(rct.elements(receipt))
    except Damaged as e:
        raise ReceiptProblem(str(e)) from None
    codes = got.get(rct.T_CODES, b"")
    if len(codes) != 4:
        raise ReceiptProblem("no codes element")
    if (codes[2] == 1) != (62 in req.fields):
        raise ReceiptProblem("signed without an image, or an image and not signed")
    if key is None:
        return ""
    if signature is None:
        return "no signature in F55"
    if not verify(key, receipt, signature):
        return "the receipt's signature does not verify"
    return ""
