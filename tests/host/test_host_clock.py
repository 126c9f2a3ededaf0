# The host simulator's clock. The terminal reads an answer's F12/F13 as its
# local time, UTC+8 from the factory: the standalone host answers in China time whatever the zone of
# the machine it runs on, and the embedded host of a `python -m sim run` lives in the run's virtual
# time (`clock`, `wait`), so a terminal that lost its RTC gets the run's time back from its sign-in
# and the ledger books a sale on the day the script set. Each zone runs in a subprocess (TZ is read
# at start-up); POSIX TZ strings, so no tz database is needed.
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from firmware.host import messages as msg
from firmware.online import host_time
from sim.__main__ import host_db
from tests.host.host_client import ACC, Client
from tools.mpy_gate import REPO

ZONES = (
    "UTC0",
    "EST5EDT,M3.2.0,M11.1.0",  # America/New_York
    "IST-5:30",  # Asia/Kolkata: a half hour
)
CHINA_MINUTES = 480


def _env(tz):
    env = dict(os.environ)
    env["TZ"] = tz
    return env


def _answer_time(answer):
    """Unix seconds of an answer's F13/F12 read as the terminal reads them (UTC+8)."""
    t = host_time(answer.get(13), answer.get(12), int(time.time()) - 3 * 86400, CHINA_MINUTES)
    assert t is not None, (answer.get(13), answer.get(12))
    return t


@pytest.mark.parametrize("tz", ZONES)
def test_the_standalone_host_answers_in_china_time_in_any_zone(tz):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.host", "--port", "0"],
        cwd=REPO,
        env=_env(tz),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        c = Client(port)
        before = time.time()
        signed = c.sign_in()
        echo = c.exchange(msg.echo(ACC, c.next_trace()))
        after = time.time()
        c.close()
        for answer in (signed, echo):
            assert before - 2 <= _answer_time(answer) <= after + 1, (tz, answer.get(13), answer.get(12))
    finally:
        proc.terminate()
        proc.wait(10)


# A sale at a time the script sets, the RTC lost, a sale again: its sign-in sets the clock from the
# host's answer. Then the date the script set is on the idle screen, not the PC's today or its zone's.
SCRIPT = """\
clock 2029-07-04 10:30
key ENTER 1 1234 ENTER
insert debit
key 123456 ENTER
sign
expect Approved
key ENTER
wait 600
reboot rtc-lost
expect Clock not set
key ENTER 1 2345 ENTER
insert debit
key 123456 ENTER
sign
expect Approved
key ENTER
expect 2029-07-04 10:4
"""


@pytest.mark.parametrize("tz", ZONES[:2])
def test_the_embedded_host_follows_the_runs_clock(tmp_path, tz):
    script = tmp_path / "clock.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    state = tmp_path / "state"
    run = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--quiet", "--lang", "en", "--state", str(state), str(script)],
        cwd=REPO,
        env=_env(tz),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    db = sqlite3.connect(host_db(str(state)))
    try:
        booked = db.execute("SELECT amount, day, substr(at, 1, 15) FROM txns ORDER BY id").fetchall()
    finally:
        db.close()
    # China time of the run: the sale on the day (and at the time) the script set, both of them
    assert booked == [(1234, "2029-07-04", "2029-07-04T10:3"), (2345, "2029-07-04", "2029-07-04T10:4")]
