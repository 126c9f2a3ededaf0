# firmware/version.py, as `make version` writes it: a version number, a real build date that is not
# in the future of this runtime's clock, and BUILD_TIME agreeing with it. Portable.
from firmware.dates import civil
from firmware.version import BUILD_DATE, BUILD_TIME, VERSION
from hal.port import PortClock


def _number(s):
    return len(s) > 0 and not [ch for ch in s if ch < "0" or ch > "9"]


def test_version_is_three_numbers():
    parts = VERSION.split(".")
    assert len(parts) == 3 and all(_number(p) for p in parts), VERSION


def test_build_date_is_a_real_date_agreeing_with_build_time():
    assert type(BUILD_TIME) is int
    assert len(BUILD_DATE) == 10 and BUILD_DATE[4] == "-" and BUILD_DATE[7] == "-", BUILD_DATE
    y, m, d = BUILD_DATE[:4], BUILD_DATE[5:7], BUILD_DATE[8:]
    assert _number(y) and _number(m) and _number(d), BUILD_DATE
    # civil() of midnight gives back the same day only for a real calendar date (2026-02-30 would
    # come back as March 2nd), so this checks the date and BUILD_TIME together.
    assert civil(BUILD_TIME) == (int(y), int(m), int(d), 0, 0, 0), (BUILD_DATE, BUILD_TIME)
    assert 2000 <= int(y) <= 2099  # the range the service menu lets an operator set


def test_build_date_is_not_in_the_future_of_this_runtimes_clock():
    assert BUILD_TIME <= PortClock().time(), "{} is after today: was the build machine's clock wrong?".format(
        BUILD_DATE
    )
