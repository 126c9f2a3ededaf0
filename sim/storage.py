# The simulator's storage: RamStorage's power-cut model with the durable layer in a directory on disk.
# Never keep unsynced data on disk, and never load a file whose name the Storage contract refuses.
import errno
import os

from hal.contracts import check_name
from virtual.storage import QPDATA_BYTES, RamStorage


def _is_storage_name(name):
    try:
        check_name(name)
    except ValueError:
        return False
    return True


class DirStorage(RamStorage):
    """Storage whose synced content is the files of directory `root` (created if missing), so it
    survives the process. Unsynced data lives in memory only, exactly as in RamStorage. Files in
    root whose names fail check_name are ignored; "~name" is the temporary file of a sync. A power
    cut (cut_at, power_cut) writes what its tear lands to the directory before PowerCut is raised,
    so a new DirStorage(root) sees exactly what power_on() would."""

    def __init__(self, root, capacity=QPDATA_BYTES):
        self.root = root
        os.makedirs(root, exist_ok=True)
        super().__init__(capacity)

    def _path(self, name):
        return os.path.join(self.root, name)

    # Something that is not a file (a directory) at a name: the write, append or rename fails
    # before the storage's view changes, as the OS call would (and as RamStorage's model of it).
    def _in_the_way(self, name):
        if _is_storage_name(name) and os.path.isdir(self._path(name)):
            raise OSError(errno.EISDIR, "is a directory: " + name)

    def write(self, name, data):
        self._in_the_way(name)
        super().write(name, data)

    def append(self, name, data):
        self._in_the_way(name)
        super().append(name, data)

    def rename(self, old, new):
        self._in_the_way(old)
        self._in_the_way(new)
        super().rename(old, new)

    def _load(self):
        durable = {}
        for name in os.listdir(self.root):
            if _is_storage_name(name) and os.path.isfile(self._path(name)):
                with open(self._path(name), "rb") as f:
                    durable[name] = f.read()
        return durable

    def _persist(self, name, data):
        # Written beside, fsync'd, then renamed: a crash of the simulator itself never tears a file.
        temp = self._path("~" + name)
        with open(temp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, self._path(name))
        self._sync_dir()

    def _persist_rename(self, old, new):
        os.replace(self._path(old), self._path(new))
        self._sync_dir()

    def _persist_remove(self, name):
        os.remove(self._path(name))
        self._sync_dir()

    def _sync_dir(self):
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
