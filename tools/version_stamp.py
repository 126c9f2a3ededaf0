# `make version` (run by `make mpy`): writes the build date into firmware/version.py, keeping the
# VERSION written there. The date is today in UTC, or the day of SOURCE_DATE_EPOCH for a
# reproducible build. Never imports the firmware.
import datetime
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(REPO, "firmware", "version.py")
_VERSION_LINE = re.compile(r'^VERSION = "([0-9]+\.[0-9]+\.[0-9]+)"$', re.MULTILINE)

TEMPLATE = """\
# The firmware's version and build date: the one place they live. `make version` (run by `make mpy`)
# rewrites this file with the build's date; edit VERSION by hand. Never compute anything here.

VERSION = "{version}"
BUILD_DATE = "{date}"  # the day the firmware was built, UTC
BUILD_TIME = {seconds}  # BUILD_DATE 00:00 UTC in Unix seconds: a wall clock reading earlier is wrong
"""


def build_date(environ=None):
    """The build's date: the UTC day of SOURCE_DATE_EPOCH if set, else today in UTC."""
    environ = os.environ if environ is None else environ
    stamp = environ.get("SOURCE_DATE_EPOCH")
    if stamp:
        return datetime.datetime.fromtimestamp(int(stamp), datetime.timezone.utc).date()
    return datetime.datetime.now(datetime.timezone.utc).date()


def render(version, date):
    """The text of firmware/version.py for this version and date."""
    midnight = datetime.datetime(date.year, date.month, date.day, tzinfo=datetime.timezone.utc)
    return TEMPLATE.format(version=version, date=date.isoformat(), seconds=int(midnight.timestamp()))


def stamp(path, date):
    """Rewrite the version module at path for date, keeping its VERSION; True if it changed."""
    with open(path, encoding="utf-8") as f:
        old = f.read()
    found = _VERSION_LINE.search(old)
    if found is None:
        raise ValueError('{} has no line VERSION = "X.Y.Z"'.format(path))
    new = render(found.group(1), date)
    if new == old:
        return False
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
    return True


def main(argv):
    path = argv[1] if len(argv) > 1 else TARGET
    date = build_date()
    changed = stamp(path, date)
    print("{}: build date {}{}".format(os.path.relpath(path, REPO), date, "" if changed else " (unchanged)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
