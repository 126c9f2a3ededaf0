# The e-signature end to end in the simulator: a scenario's `sign` draws a generated signature
# (sim/signatures.py), the terminal uploads it (0820, 60.3 800), the embedded host stores it, and
# JBIG-KIT's jbgtopbm decodes the stored field 62 to exactly the drawn bitmap (as our decoder does).
import sqlite3
import subprocess
import sys
from pathlib import Path

from firmware import jbigdec
from firmware.sigfile import read_image
from sim import scenario, signatures
from sim.__main__ import host_db, main
from sim.storage import DirStorage
from tests.host.test_jbig_set import jbigkit

ROOT = Path(__file__).resolve().parents[2]


def _stored_uploads(state):
    db = sqlite3.connect(host_db(str(state)))
    try:
        return db.execute("SELECT batch, trace, rrn, amount, image FROM esigns ORDER BY trace").fetchall()
    finally:
        db.close()


def test_the_hosts_stored_upload_decodes_with_jbgtopbm_to_the_drawn_signature(tmp_path, capsys):
    tool = jbigkit("jbgtopbm")
    state = tmp_path / "term"
    script = ROOT / "tests" / "scenarios" / "esign_signed.txt"
    assert main(["run", "--lang", "en", "--state", str(state), str(script)]) == 0, capsys.readouterr().err
    rows = _stored_uploads(state)
    assert len(rows) == 1
    batch, trace, rrn, amount, image = rows[0]
    assert (batch, trace, amount) == (1, 2, 1234) and len(rrn) == 12
    drawn = bytes(signatures.bitmap(signatures.generate(scenario.SIGN_SEED)))  # the first `sign`
    (tmp_path / "f62.jbg").write_bytes(image)
    subprocess.run([tool, str(tmp_path / "f62.jbg"), str(tmp_path / "f62.pbm")], check=True)
    pbm = (tmp_path / "f62.pbm").read_bytes()
    assert pbm.split()[:3] == [b"P4", b"240", b"128"] and pbm[-len(drawn) :] == drawn
    assert len(pbm) - len(drawn) == pbm.index(b"128") + 4  # the header, one whitespace, the rows
    assert bytes(jbigdec.decode(image)[2]) == drawn
    # the terminal keeps the very bytes it sent, beside its journal record
    assert read_image(DirStorage(str(state)), batch, trace)[0] == bytes(image)


def test_the_piped_line_mode_never_hangs_on_the_signing_screen():
    # Nobody signs: the steps after it still run (the terminal waits on its own clock, which only
    # `wait` moves), and the signing screen's timeout ends it when `wait` lets it.
    lines = "key ENTER 1 1234 ENTER\ninsert debit\nkey 123456 ENTER\nexpect 请持卡人签名\n"
    lines += "key 5\nwait 90\nexpect 交易成功\n"
    done = subprocess.run(
        [sys.executable, "-m", "sim"],
        input=lines + "quit\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "expected" not in done.stderr, done.stderr
