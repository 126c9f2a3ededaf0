# The signature image file (签名图像) kept beside the batch journal's record of one transaction:
# its name, its format and its atomic write. Never holds anything but the image and the upload's
# answer code; small on purpose: the registry (firmware/registry.py) loads it to know the names.

from firmware.compat import const, crc32, is_missing
from hal.record import Damaged

# "sig.BBBBBB.TTTTTT" (batch, trace): b"QPS1", the upload's answer code (2 characters, "--" before
# any), the image's length (2 bytes, big-endian), CRC-32 of the code, the length and the image
# (4 bytes), the image: the JBIG bytes exactly as field 62 carries them and the e-receipt hashes.
# Written to TMP_NAME, synced, renamed over the name, synced: a cut leaves the old file or the new.
PREFIX = "sig."
TMP_NAME = "sig.tmp"
_MAGIC = b"QPS1"
_HEAD = const(12)
NO_CODE = "--"


def file_name(prefix, batch, trace):
    """The name of a file kept per transaction: "<prefix>BBBBBB.TTTTTT" (batch, trace)."""
    return "{}{:06d}.{:06d}".format(prefix, batch, trace)


def file_key(name, prefix):
    """(batch, trace) of a per-transaction file's name "<prefix>BBBBBB.TTTTTT", or None if name is
    not one."""
    n = len(prefix)
    if len(name) != n + 13 or not name.startswith(prefix) or name[n + 6] != ".":
        return None
    b, t = name[n : n + 6], name[n + 7 :]
    if not b.isdigit() or not t.isdigit():
        return None
    return int(b), int(t)


class TransactionFiles:
    """One kind of per-transaction file (its names and its temp file), for the registry
    (firmware/registry.py): no RecordFile can name them."""

    def __init__(self, prefix, tmp_name):
        self.prefix = prefix
        self.tmp_name = tmp_name

    def owns(self, name):
        return name == self.tmp_name or file_key(name, self.prefix) is not None


def image_name(batch, trace):
    return file_name(PREFIX, batch, trace)


def name_key(name):
    """(batch, trace) of an image file's name, or None if name is not one."""
    return file_key(name, PREFIX)


SIG_FILES = TransactionFiles(PREFIX, TMP_NAME)


def image_head(image, code=NO_CODE):
    """The image file's 12 bytes before the image: magic, code, length, CRC-32."""
    head = bytearray(_MAGIC)
    head.extend(code.encode())
    head.extend(len(image).to_bytes(2, "big"))
    head.extend(crc32(image, crc32(memoryview(head)[4:])).to_bytes(4, "big"))
    return head


def pack_image(image, code=NO_CODE):
    """The whole image file's bytes (write_image writes them in two parts)."""
    return bytes(image_head(image, code)) + bytes(image)


def unpack_image(data):
    """(image bytes, code) of an image file's bytes; Damaged if they are not one."""
    if len(data) < _HEAD or data[:4] != _MAGIC:
        raise Damaged("not a signature image")
    n = int.from_bytes(data[6:8], "big")
    if len(data) != _HEAD + n or n == 0:
        raise Damaged("signature image of the wrong length")
    image = bytes(memoryview(data)[_HEAD:])  # one copy: a slice, then bytes() of it, made two
    if crc32(image, crc32(data[4:8])) != int.from_bytes(data[8:12], "big"):
        raise Damaged("signature image CRC")
    try:
        code = bytes(data[4:6]).decode()
    except UnicodeError:
        raise Damaged("signature image code")
    return image, code


def write_image(storage, batch, trace, image, code=NO_CODE):
    """Keep (or replace, with the upload's answer code) the image of (batch, trace): atomically."""
    # The head, then the image appended: no copy of the image (half a KB) is made, in a heap the
    # signature leaves fragmented. The temporary file is renamed only once both are synced.
    storage.write(TMP_NAME, image_head(image, code))
    storage.append(TMP_NAME, image)
    storage.sync()
    storage.rename(TMP_NAME, image_name(batch, trace))
    storage.sync()


def read_image(storage, batch, trace, into=None):
    """(image, code) of (batch, trace); None if it has no image; Damaged if it does not read back.
    The image is read into a bytearray of its size, the file's head apart: one allocation (a read()
    of unknown length grows its buffer as it goes, and a copy out of the whole file is a second
    one, in a heap the signature's upload finds fragmented); into: a bytearray to read it into
    instead (the terminal's image buffer, allocated at boot), the image then a memoryview of it."""
    name = image_name(batch, trace)
    head = bytearray(_HEAD)
    found = _read_head(storage, name, head)
    if found is None:
        return None
    n, code, want = found
    image = bytearray(n) if into is None or len(into) < n else memoryview(into)[:n]
    if storage.read_into(name, _HEAD, image) != n:
        raise Damaged("signature image changed while read")
    if crc32(image, crc32(memoryview(head)[4:8])) != want:
        raise Damaged("signature image CRC")
    return image, code


def _read_head(storage, name, buf):
    """(image length, code, CRC) from the image file's head, read into buf (its first _HEAD bytes);
    None if there is no such file; Damaged if the head is not one or the length is not the file's."""
    try:
        size = storage.size(name)
        got = storage.read_into(name, 0, memoryview(buf)[:_HEAD])
    except OSError as exc:
        if is_missing(exc):
            return None
        raise
    n = int.from_bytes(buf[6:8], "big")
    if got != _HEAD or bytes(buf[:4]) != _MAGIC or n == 0 or size != _HEAD + n:
        raise Damaged("not a signature image, or of the wrong length")
    try:
        code = bytes(buf[4:6]).decode()
    except UnicodeError:
        raise Damaged("signature image code")
    return n, code, int.from_bytes(buf[8:12], "big")


def image_hash(storage, batch, trace):
    """SHA-256 of (batch, trace)'s image, checked as read_image checks it, read in 64-byte pieces
    (no copy of the image: the receipt hashes it in a heap the signature left fragmented); None if
    it has no image; Damaged if it does not read back."""
    import hashlib

    name = image_name(batch, trace)
    buf = bytearray(64)
    found = _read_head(storage, name, buf)
    if found is None:
        return None
    n, _, want = found
    crc = crc32(memoryview(buf)[4:8])
    digest = hashlib.sha256()
    at = _HEAD
    while at < _HEAD + n:
        got = storage.read_into(name, at, buf)
        if got <= 0:
            raise Damaged("signature image changed while read")
        part = memoryview(buf)[: min(got, _HEAD + n - at)]
        crc = crc32(part, crc)
        digest.update(part)
        at += len(part)
    if crc != want:
        raise Damaged("signature image CRC")
    return digest.digest()


# ---- the upload's answer, as the files of a transaction keep it ------------------------------------
# A signed transaction's answer is its image file's code; an unsigned one's, its receipt's
# (firmware/receipt.py: "rct.BBBBBB.TTTTTT", b"QRF1", then the same 2-character code). Both files
# begin with 4 bytes of magic and the code, so 6 bytes tell where an upload stands: what the archive
# (firmware/batch.py: a row open at its closing, evicted once done) and the sweep of the settled
# batches' uploads (firmware/esign.py) read.
RECEIPT_PREFIX = "rct."
RECEIPT_MAGIC = b"QRF1"
UPLOAD_DONE = ("00", "94")  # the host has it (94: a duplicate, it had it already)


def upload_code(storage, batch, trace, head):
    """The upload's answer code kept for (batch, trace): its image file's when it has one, else its
    receipt file's; NO_CODE before any answer, None when it has neither file (or the one it has is
    not one: nothing can be uploaded). A file that cannot be read (not missing) gives NO_CODE:
    unknown is never done. head: a 6-byte buffer, read into."""
    for prefix, magic in ((PREFIX, _MAGIC), (RECEIPT_PREFIX, RECEIPT_MAGIC)):
        try:
            n = storage.read_into(file_name(prefix, batch, trace), 0, head)
        except OSError as exc:
            if is_missing(exc):
                continue
            return NO_CODE
        if n != 6 or bytes(head[:4]) != magic:
            return None
        try:
            return bytes(head[4:6]).decode()
        except UnicodeError:
            return None
    return None
