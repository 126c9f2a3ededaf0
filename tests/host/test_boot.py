# boot.py's safe mode on CPython with a fake machine module (no board here), and main.py honouring
# it. What the port does between the two (one __main__ namespace for boot.py and main.py) is read
# from ports/esp32/main.c, not run: only the pieces on either side are tested.
import ast
import os
import runpy
import subprocess
import sys

import boot

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class FakePin:
    """A machine.Pin that records how it was set up and reads its levels from a list."""

    IN = "in"
    OUT = "out"
    PULL_UP = "pull_up"

    def __init__(self, gpio, mode, pull=None, value=None, levels=(1,), log=None):
        self.gpio = gpio
        self.mode = mode
        self.pull = pull
        self.out = value
        self.levels = list(levels)
        self.log = log if log is not None else []
        self.log.append(("pin", gpio, mode, pull, value))

    def value(self):
        level = self.levels.pop(0) if len(self.levels) > 1 else self.levels[0]
        self.log.append(("read", self.gpio, level))
        return level

    def init(self, mode):
        self.mode = mode
        self.log.append(("init", self.gpio, mode))


class FakeMachine:
    """machine with a Pin whose instances read `levels` (the key's); every call goes to log."""

    def __init__(self, levels, fail_read=False):
        self.log = []
        machine = self

        class Pin(FakePin):
            def __init__(self, gpio, mode, pull=None, value=None):
                super().__init__(gpio, mode, pull, value, levels, machine.log)

            def value(self):
                if fail_read:
                    raise OSError(5, "bus")
                return super().value()

        self.Pin = Pin


def no_wait(ms):
    pass


def test_a_key_held_on_every_sample_is_a_hold():
    waits = []
    key = FakePin(4, FakePin.IN, levels=(0,))
    assert boot.key_held(key, waits.append, samples=5, gap_ms=10) is True
    assert waits == [10] * 4  # between the reads, not before the first


def test_a_bounce_or_a_released_key_is_not_a_hold():
    assert boot.key_held(FakePin(4, FakePin.IN, levels=(0, 0, 1, 0, 0)), no_wait) is False
    assert boot.key_held(FakePin(4, FakePin.IN, levels=(1,)), no_wait) is False
    assert boot.key_held(FakePin(4, FakePin.IN, levels=(0, 0, 0, 0, 1)), no_wait) is False


def test_safe_mode_reads_the_matrix_key_with_its_row_driven_low_then_lets_the_row_go():
    machine = FakeMachine(levels=(0,))
    assert boot.safe_mode(machine, no_wait, key_gpio=35, row_gpio=13) is True
    log = machine.log
    assert log[0] == ("pin", 35, "in", "pull_up", None)
    assert log[1] == ("pin", 13, "out", None, 0)
    assert [e for e in log if e[0] == "read"] == [("read", 35, 0)] * boot.SAFE_MODE_SAMPLES
    assert log[-1] == ("init", 13, "in")


def test_no_safe_mode_when_the_key_is_up_and_the_row_is_let_go_even_if_the_read_fails():
    machine = FakeMachine(levels=(1,))
    assert boot.safe_mode(machine, no_wait, key_gpio=35, row_gpio=13) is False
    assert machine.log[-1] == ("init", 13, "in")
    broken = FakeMachine(levels=(0,), fail_read=True)
    try:
        boot.safe_mode(broken, no_wait, key_gpio=35, row_gpio=13)
    except OSError:
        pass
    else:
        raise AssertionError("the failed read was swallowed")
    assert broken.log[-1] == ("init", 13, "in")


def test_a_button_to_ground_needs_no_row():
    machine = FakeMachine(levels=(0,))
    assert boot.safe_mode(machine, no_wait, key_gpio=27, row_gpio=None) is True
    assert [e[0] for e in machine.log if e[0] != "read"] == ["pin"]


def test_no_key_or_no_machine_is_never_safe_mode():
    machine = FakeMachine(levels=(0,))
    assert boot.safe_mode(machine, no_wait, key_gpio=None) is False
    assert machine.log == []
    assert boot.safe_mode(None, no_wait, key_gpio=35) is False
    assert boot.safe_mode(machine, no_wait) is False and machine.log == []


def test_the_esp32_key_is_the_pin_tables_button():
    from hal.esp32 import board as board_module

    gpio = board_module.gpio("safe_mode_key")
    assert boot.ESP32_SAFE_MODE_KEY_GPIO == gpio
    assert boot.safe_mode_key("esp32") == (gpio, None)  # a button to ground: no keypad row
    assert (gpio, "in", "safe_mode_key") in board_module.PINS
    assert "safe_mode_key" in board_module.NOT_DRIVEN  # the firmware never touches it
    for platform in ("linux", "webassembly", "rp2", "pyboard"):
        assert boot.safe_mode_key(platform) == (None, None)


def test_on_an_esp32_boot_reads_the_button_and_elsewhere_no_pin():
    held = FakeMachine(levels=(0,))
    assert boot.decide("esp32", held, no_wait) is True
    assert held.log[0] == ("pin", 14, "in", "pull_up", None)
    up = FakeMachine(levels=(1,))
    assert boot.decide("esp32", up, no_wait) is False
    other = FakeMachine(levels=(0,))
    assert boot.decide("rp2", other, no_wait) is False and other.log == []


def test_a_button_the_port_cannot_read_is_no_safe_mode(capsys):
    broken = FakeMachine(levels=(0,), fail_read=True)
    assert boot.decide("esp32", broken, no_wait) is False
    assert "unreadable: OSError" in capsys.readouterr().out


def test_boot_py_off_a_board_sets_no_safe_mode():
    namespace = runpy.run_path(os.path.join(REPO, "boot.py"), run_name="__main__")
    assert namespace["SAFE_MODE"] is False


def test_boot_py_never_mounts_and_never_imports_the_firmware():
    with open(os.path.join(REPO, "boot.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = set()
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Call):
            func = node.func
            called.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    assert imported <= {"gc", "machine", "sys", "time"}
    assert not called & {"mount", "umount", "VfsLfs2", "VfsFat", "mkfs", "WDT"}


def run_main_py(tmp_path, namespace_literal):
    """main.py run as the port runs it, in a __main__ namespace that boot.py filled."""
    code = "import runpy; runpy.run_path({!r}, init_globals={}, run_name='__main__')".format(
        os.path.join(REPO, "main.py"), namespace_literal
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=REPO),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_main_py_in_safe_mode_starts_nothing_and_returns_to_the_repl(tmp_path):
    proc = run_main_py(tmp_path, "{'SAFE_MODE': True}")
    assert proc.returncode == 0, proc.stderr
    assert "safe mode" in proc.stdout
    # The console board was never built: it would have made its storage directory here.
    assert os.listdir(tmp_path) == []


def test_main_py_starts_the_terminal_unless_boot_asked_for_safe_mode():
    import main

    assert main.safe_mode_asked({"SAFE_MODE": True}) is True
    assert main.safe_mode_asked({"SAFE_MODE": False}) is False
    assert main.safe_mode_asked({}) is False  # a board without boot.py's answer (or an old boot.py)
    assert main.safe_mode_asked({"SAFE_MODE": 1}) is False  # only boot.py's own True counts
