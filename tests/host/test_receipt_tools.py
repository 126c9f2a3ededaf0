# Signed e-receipts end to end in the simulator (real P-256 keys: hal/soft/signer.SoftSigner; checked
# with cryptography): a signed sale and an unsigned one leave receipts the embedded host verified on
# upload; `python -m sim.receipt` exports, verifies, shows and renders them; any changed byte, another
# terminal's key or a damaged file fails; the host refuses (63) an upload whose receipt does not verify
# and the terminal shows it; no full PAN in any stored file.
import sqlite3
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from firmware import receipt as rct
from firmware.host.codec import tlv_parse
from sim.__main__ import host_db, main
from sim.host import receipts
from sim.receipt import main as tool
from sim.storage import DirStorage

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path, capsys, name):
    state = tmp_path / "term"
    script = ROOT / "tests" / "scenarios" / name
    assert main(["run", "--lang", "en", "--state", str(state), str(script)]) == 0, capsys.readouterr().err
    capsys.readouterr()  # the run's screens
    return state


def _tool(capsys, *argv):
    code = tool(list(argv))
    got = capsys.readouterr()
    return code, got.out, got.err


def _uploads(state):
    db = sqlite3.connect(host_db(str(state)))
    try:
        return db.execute("SELECT trace, slip, image FROM esigns ORDER BY trace").fetchall()
    finally:
        db.close()


def test_a_signed_sale_leaves_a_receipt_the_host_verified_and_the_tools_check(tmp_path, capsys):
    state = _run(tmp_path, capsys, "esign_signed.txt")
    (trace, slip, image), *_ = _uploads(state)  # the host took it: it verified with the run's key
    storage = DirStorage(str(state))
    receipt, signature, _ = rct.read(storage, 1, trace)
    assert tlv_parse(slip) == rct.f55(receipt, signature)
    code, pem, err = _tool(capsys, "pubkey", "--state", str(state))
    assert code == 0 and pem.startswith("-----BEGIN PUBLIC KEY-----"), err
    key = receipts.public_key(pem)
    assert receipts.verify(key, receipt, signature)
    (tmp_path / "t.pem").write_text(pem)
    out = tmp_path / "r.qrx"
    assert (
        _tool(capsys, "export", "--state", str(state), "--batch", "1", "--trace", str(trace), "-o", str(out))[
            0
        ]
        == 0
    )
    code, said, err = _tool(
        capsys,
        "verify",
        str(out),
        str(state / rct.receipt_name(1, trace)),
        "--pubkey",
        str(tmp_path / "t.pem"),
    )
    assert code == 0 and said.count(": OK") == 2, err
    code, text, _ = _tool(capsys, "show", str(out))
    assert (
        code == 0
        and "RMB 12.34" in text
        and "Signed" in text
        and "Trace 凭证号: {:06d}".format(trace) in text
    )
    assert _tool(capsys, "render", str(out), "-o", str(tmp_path / "slip.svg"))[0] == 0
    drawn = (tmp_path / "slip.svg").read_text()
    assert drawn.startswith("<svg") and "<path" in drawn and "RMB 12.34" in drawn
    assert _tool(capsys, "render", str(out), "-o", str(tmp_path / "slip.png"))[0] == 0
    assert (tmp_path / "slip.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # every single byte of the export changed: verify fails, saying which file and why
    data = out.read_bytes()
    for i in range(len(data)):
        spoiled = bytearray(data)
        spoiled[i] ^= 0x01
        (tmp_path / "bad.qrx").write_bytes(bytes(spoiled))
        code, _, err = _tool(capsys, "verify", str(tmp_path / "bad.qrx"), "--pubkey", str(tmp_path / "t.pem"))
        assert code == 1 and "bad.qrx" in err and "FAILED" in err, i
    # and every byte of the signed bytes, the CRC set right: the signature alone catches it
    for i in range(len(receipt)):
        spoiled = bytearray(receipt)
        spoiled[i] ^= 0x01
        assert not receipts.verify(key, bytes(spoiled), signature), i
    # another terminal's key
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    (tmp_path / "other.pem").write_text(receipts.pem(other))
    code, _, err = _tool(capsys, "verify", str(out), "--pubkey", str(tmp_path / "other.pem"))
    assert code == 1 and "another terminal" in err


def test_an_unsigned_sale_has_a_receipt_uploaded_without_an_image(tmp_path, capsys):
    state = _run(tmp_path, capsys, "esign_contactless.txt")
    rows = _uploads(state)
    assert rows and any(image is None for _, _, image in rows)
    trace = [t for t, _, image in rows if image is None][0]
    receipt, signature, code = rct.read(DirStorage(str(state)), 1, trace)
    assert code == "00" and dict(rct.elements(receipt))[rct.T_CODES][2] == 3  # no_sig_rule
    pem = _tool(capsys, "pubkey", "--state", str(state))[1]
    assert receipts.verify(receipts.public_key(pem), receipt, signature)


def test_the_key_as_the_about_screens_qr_code_holds_it_verifies_too(tmp_path, capsys):
    from firmware.ui.keyqr import key_text
    from sim.receipt import state_public_key

    state = _run(tmp_path, capsys, "esign_signed.txt")
    code, text, err = _tool(capsys, "pubkey", "--state", str(state), "--hex")
    key = state_public_key(str(state))
    assert code == 0 and text == key_text(key) + "\n" and len(text) == 131 and text[:2] == "04", err
    pem = _tool(capsys, "pubkey", "--state", str(state))[1]
    assert receipts.public_key(text).public_numbers() == receipts.public_key(pem).public_numbers()
    assert (
        receipts.public_key(text.lower().strip()).public_numbers()
        == receipts.public_key(key).public_numbers()
    )
    (tmp_path / "scanned.txt").write_text(text)  # what a phone's reader gives, saved to a file
    trace = _uploads(state)[0][0]
    code, said, err = _tool(
        capsys, "verify", str(state / rct.receipt_name(1, trace)), "--pubkey", str(tmp_path / "scanned.txt")
    )
    assert code == 0 and said.count(": OK") == 1, err
    (tmp_path / "short.txt").write_text(text[:-3])
    code, _, err = _tool(
        capsys, "verify", str(state / rct.receipt_name(1, trace)), "--pubkey", str(tmp_path / "short.txt")
    )
    assert code == 2 and "not a P-256 public key" in err


def test_no_stored_file_holds_a_full_card_number(tmp_path, capsys):
    state = _run(tmp_path, capsys, "esign_signed.txt")
    from sim.cards import DECK  # noqa: PLC0415

    pans = {card.track2.split("=")[0].encode() for card in DECK.values()}
    names = [p for p in state.iterdir() if p.is_file()]
    assert any(p.name.startswith(rct.PREFIX) for p in names)
    for p in names:
        data = p.read_bytes()
        for pan in pans:
            assert pan not in data, p.name


def test_bad_arguments_and_damaged_files_are_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "junk").write_bytes(b"not a receipt")
    for argv in (
        [],
        ["show"],
        ["show", str(tmp_path / "missing")],
        ["show", str(tmp_path / "junk")],
        ["render", str(tmp_path / "junk"), "-o", str(tmp_path / "x.gif")],
        ["pubkey", "--state", str(tmp_path / "nowhere")],
        ["pubkey", "--state", str(tmp_path)],
        ["export", "--state", str(tmp_path), "--batch", "x", "--trace", "1", "-o", "f"],
        ["export", "--state", str(tmp_path), "--batch", "1", "--trace", "1", "-o", str(tmp_path / "f")],
        ["verify", str(tmp_path / "junk"), "--pubkey", str(tmp_path / "junk")],
    ):
        code, out, err = _tool(capsys, *argv)
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    code, _, err = _tool(capsys, "verify", str(tmp_path / "junk"), "--pubkey", str(ROOT / "README.md"))
    assert code == 2


def test_the_command_line_runs_as_a_module(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "sim.receipt", "show", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.startswith("sim.receipt: ") and "Traceback" not in done.stderr
