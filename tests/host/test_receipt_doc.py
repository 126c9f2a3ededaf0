# docs/RECEIPT.md's worked example stays true: its hex (the receipt, its SHA-256, the signature, the
# public key, F55) is made again here with the example's fixed test key (RFC 6979 A.2.5's P-256
# key: never a terminal's) and compared; the signature verifies with cryptography, and the receipt
# the host rebuilds from the example's 0820 is the same bytes.
import hashlib
import re
from pathlib import Path

from firmware import receipt as rct
from firmware.host import messages as msg
from firmware.host.codec import tlv_build
from firmware.params import Params
from hal.soft.keystore import StorageKeyStore
from hal.soft.signer import KEY_NAME, SoftSigner
from sim.host import receipts
from virtual.storage import RamStorage

ROOT = Path(__file__).resolve().parents[2]
TEST_KEY = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721  # RFC 6979 A.2.5
IMAGE = b"image"  # the example's stand-in for the JBIG image's bytes
VIEW = {
    "batch": 1,
    "trace": 7,
    "amount": 12345,
    "card": "622588******1234",
    "org": "CUP",
    "mode": "insert",
    "time": 1796000000,
    "op": "01",
    "kind": "sale",
    "rrn": "000000000007",
    "auth": "A1B2C3",
    "f15": "1201",
}


def example():
    """{name: bytes} of the worked example."""
    receipt = bytes(rct.encode(Params(), VIEW, "signed", hashlib.sha256(IMAGE).digest()))
    key_store = StorageKeyStore(RamStorage())
    key_store.save(KEY_NAME, TEST_KEY.to_bytes(32, "big"))
    signer = SoftSigner(key_store)
    digest = hashlib.sha256(receipt).digest()
    signature = signer.sign_digest(digest)
    return {
        "receipt": receipt,
        "sha256": digest,
        "signature": signature,
        "pubkey": signer.public_key(),
        "f55": tlv_build(rct.f55(receipt, signature)),
    }


def documented():
    text = (ROOT / "docs" / "RECEIPT.md").read_text(encoding="utf-8")
    out = {}
    for name, block in re.findall(r"<!-- example: (\w+) -->\s*```\n(.*?)```", text, re.S):
        out[name] = bytes.fromhex("".join(line.split("#")[0] for line in block.splitlines()))
    return out


def test_the_documents_worked_example_is_what_the_code_makes():
    made = example()
    doc = documented()
    assert sorted(doc) == sorted(made)
    for name in made:
        assert doc[name] == made[name], name


def test_the_example_verifies_and_the_host_rebuilds_it_from_the_0820():
    made = example()
    key = receipts.public_key(made["pubkey"])
    assert receipts.verify(key, made["receipt"], made["signature"])
    p = Params()
    req = msg.esign_upload(
        msg.Acceptor(getattr(p, "terminal_id"), getattr(p, "merchant_id")),
        1,
        7,
        12345,
        "000000000007",
        rct.f55(made["receipt"], made["signature"]),
        IMAGE,
        "1201",
    )
    assert receipts.rebuild(req) == (made["receipt"], made["signature"])
    assert receipts.upload_problem(req, key) == ""


if __name__ == "__main__":  # print the example's blocks for the document
    for name, data in example().items():
        print(name, len(data))
        for i in range(0, len(data), 32):
            print(data[i : i + 32].hex())
