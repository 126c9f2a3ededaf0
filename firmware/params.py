# Terminal parameters (merchant, terminal id, language, limits), kept in params.json.
# A damaged or hostile file never stops the terminal: bad fields fall back to defaults, visibly.

from firmware.errors import StoredDataCorrupt
from firmware.store import read_record, write_record

FILE = "params.json"

# name: (default, check). Money in fen.
_FIELDS = {
    "merchant_name": ("QianPOS Demo Shop", lambda v: isinstance(v, str) and 0 < len(v) <= 40),
    "merchant_id": ("898100012340001", lambda v: isinstance(v, str) and len(v) == 15 and v.isdigit()),
    "terminal_id": ("10000001", lambda v: isinstance(v, str) and len(v) == 8 and v.isdigit()),
    "language": ("zh", lambda v: v in ("zh", "en")),
    "max_amount": (10000000, lambda v: isinstance(v, int) and 0 < v < 10**12),
    "tz_minutes": (480, lambda v: isinstance(v, int) and -720 <= v <= 840),
    "idle_timeout_s": (60, lambda v: isinstance(v, int) and 10 <= v <= 600),
}


class Params:
    """Attribute per parameter. `damaged` is True when the stored file had to be (partly) ignored."""

    def __init__(self):
        for name in _FIELDS:
            setattr(self, name, _FIELDS[name][0])
        self.damaged = False

    @classmethod
    def load(cls, storage):
        params = cls()
        try:
            record = read_record(storage, FILE)
        except StoredDataCorrupt:
            params.damaged = True
            return params
        if record is None:
            return params
        for name in record:
            field = _FIELDS.get(name)
            if field is None or not field[1](record[name]):
                params.damaged = True
            else:
                setattr(params, name, record[name])
        return params

    def save(self, storage):
        """Write all parameters; ValueError (nothing written) if one is invalid."""
        record = {}
        for name in _FIELDS:
            value = getattr(self, name)
            if not _FIELDS[name][1](value):
                raise ValueError("bad parameter " + name)
            record[name] = value
        write_record(storage, FILE, record)
        self.damaged = False
