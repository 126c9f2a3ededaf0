# `make version` (tools/version_stamp.py): the module it writes, checked with CPython's own
# calendar, and the committed firmware/version.py is in exactly that form.
import calendar
import datetime
import runpy

import pytest

from firmware import version
from tools import version_stamp


def _written(path):
    return runpy.run_path(str(path))


def test_stamp_writes_the_date_and_its_midnight_and_keeps_the_version(tmp_path):
    path = tmp_path / "version.py"
    path.write_text('VERSION = "1.2.30"\nBUILD_DATE = "old"\n', encoding="utf-8")
    assert version_stamp.stamp(str(path), datetime.date(2028, 2, 29)) is True
    module = _written(path)
    assert module["VERSION"] == "1.2.30"
    assert module["BUILD_DATE"] == "2028-02-29"
    assert module["BUILD_TIME"] == calendar.timegm((2028, 2, 29, 0, 0, 0)) == 1835395200
    assert version_stamp.stamp(str(path), datetime.date(2028, 2, 29)) is False  # same day: untouched


def test_stamp_refuses_a_file_without_a_version(tmp_path):
    path = tmp_path / "version.py"
    path.write_text("BUILD_DATE = '2026-01-01'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="VERSION"):
        version_stamp.stamp(str(path), datetime.date(2026, 1, 2))
    assert path.read_text(encoding="utf-8") == "BUILD_DATE = '2026-01-01'\n"


def test_build_date_is_today_in_utc_or_source_date_epoch():
    assert version_stamp.build_date({"SOURCE_DATE_EPOCH": "1795910399"}) == datetime.date(2026, 11, 28)
    assert version_stamp.build_date({"SOURCE_DATE_EPOCH": "1795910400"}) == datetime.date(2026, 11, 29)
    before = datetime.datetime.now(datetime.timezone.utc).date()
    got = version_stamp.build_date({})
    assert before <= got <= datetime.datetime.now(datetime.timezone.utc).date()


def test_the_committed_version_module_is_what_make_version_writes():
    date = datetime.date.fromisoformat(version.BUILD_DATE)  # ValueError for a date that does not exist
    assert date <= datetime.datetime.now(datetime.timezone.utc).date()
    assert version.BUILD_TIME == calendar.timegm(date.timetuple())
    with open(version_stamp.TARGET, encoding="utf-8") as f:
        assert f.read() == version_stamp.render(version.VERSION, date)
