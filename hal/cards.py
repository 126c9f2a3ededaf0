# One CardReader over the separate parts of a board (stripe, chip, contactless, scanner), so that one
# dead part fails alone. Portable; never swallows anything but a part's HalError, never logs card data.

from hal.contracts import CARD_MODES, CardReader, HalError


class CardSources(CardReader):
    """The CardReader contract over per-source readers (each declares the modes it reads; no two may
    declare the same one). A source raising HalError on arm, disarm or poll is dead: it is disarmed
    if it can be, skipped by poll(), named by dead_modes(), and tried again at the next arm(); the
    other sources keep working. Anything else a source raises is a bug and propagates."""

    def __init__(self, *sources):
        modes = []
        for source in sources:
            for mode in source.capabilities:
                if mode in modes:
                    raise ValueError("two card sources read {!r}".format(mode))
                modes.append(mode)
        self.sources = sources
        self.capabilities = tuple(m for m in CARD_MODES if m in modes)
        lacks = {}
        for mode in CARD_MODES:
            if mode not in modes:
                lacks[mode] = "no card source reads it"
        self.lacks = lacks
        self._dead = {}  # index of a source -> the HalError text that killed it
        self._armed = [False] * len(sources)
        self._next = 0  # the source poll() asks first: turns rotate so none starves the others

    def source(self, mode):
        """The source that reads mode, or None."""
        for source in self.sources:
            if mode in source.capabilities:
                return source
        return None

    def arm(self, modes=CARD_MODES):
        for mode in modes:
            if mode not in self.capabilities:
                raise ValueError("no card source reads {!r}".format(mode))
        for i, source in enumerate(self.sources):
            wanted = tuple(m for m in modes if m in source.capabilities)
            self._armed[i] = False
            try:
                if wanted:
                    source.arm(wanted)
                else:
                    source.disarm()
            except HalError as exc:
                self._kill(i, exc)
                continue
            self._dead.pop(i, None)  # it answered: alive again
            self._armed[i] = bool(wanted)

    def disarm(self):
        for i, source in enumerate(self.sources):
            self._armed[i] = False
            try:
                source.disarm()
            except HalError as exc:
                self._kill(i, exc)

    def poll(self):
        n = len(self.sources)
        for k in range(n):
            i = (self._next + k) % n
            if not self._armed[i]:
                continue
            try:
                event = self.sources[i].poll()
            except HalError as exc:
                self._armed[i] = False
                self._kill(i, exc)
                continue
            if event is not None:
                self._next = (i + 1) % n
                return event
        return None

    def dead_modes(self):
        if not self._dead:
            return ()  # asked every second by the idle screen: nothing allocated while all is well
        modes = []
        for i in self._dead:
            modes.extend(self.sources[i].capabilities)
        return tuple(m for m in CARD_MODES if m in modes)

    def faults(self):
        """(modes of the dead source, what it raised), one per dead source, in source order."""
        return [(self.sources[i].capabilities, self._dead[i]) for i in sorted(self._dead)]

    def _kill(self, i, exc):
        # The part's own message (never card data: a HalError names a device fault).
        self._dead[i] = "{}: {}".format(type(exc).__name__, exc)
        try:
            self.sources[i].disarm()  # a dead part must not keep its field on or hold a stale read
        except HalError:
            pass  # dead already; it stays armed False and is not polled


class CardPart(CardReader):
    """One part of a board (a PN532, a UART scanner or stripe reader) as a CardReader of one mode,
    for CardSources. build() makes the part's driver (arm(), disarm(), poll() with no modes) at the
    first arm(), so a part that does not answer when the board starts (HalError from build) is a
    dead part of CardSources, tried again at the next arm(), not a board that cannot start."""

    def __init__(self, mode, build):
        self.capabilities = (mode,)
        lacks = {}
        for other in CARD_MODES:
            if other != mode:
                lacks[other] = "this part reads {} only".format(mode)
        self.lacks = lacks
        self._build = build
        self.part = None

    def arm(self, modes=CARD_MODES):
        for mode in modes:
            if mode not in self.capabilities:
                raise ValueError("this part does not read {!r}".format(mode))
        if self.part is None:
            self.part = self._build()
        self.part.arm()

    def disarm(self):
        if self.part is not None:
            self.part.disarm()

    def poll(self):
        return None if self.part is None else self.part.poll()
