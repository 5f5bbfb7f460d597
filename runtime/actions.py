"""What the lock does when it decides: the unlock action (pluggable) and the append-only audit log."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path


class ActionError(RuntimeError):
    """An unlock action that cannot be set up (e.g. no GPIO library)."""


class PrintAction:
    """Dry run (the default): say what would happen."""

    name = "print"

    def unlock(self, person: str) -> None:
        print(f"UNLOCK for {person}", flush=True)

    def relock(self) -> None:
        print("RELOCK", flush=True)

    def close(self) -> None:
        pass


class CommandAction:
    """Run a command on unlock and on relock; EDGEFACE_EVENT and EDGEFACE_PERSON say which and for whom."""

    name = "command"

    def __init__(self, command: str, timeout_s: float = 10.0) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise ActionError("command: action needs a command, e.g. command:'/usr/local/bin/open-door'")
        self.timeout_s = timeout_s

    def _run(self, event: str, person: str) -> None:
        env = dict(os.environ, EDGEFACE_EVENT=event, EDGEFACE_PERSON=person)
        try:
            result = subprocess.run(self.argv, env=env, timeout=self.timeout_s, capture_output=True, text=True)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ActionError(f"{event} command failed: {error}") from None
        if result.returncode != 0:
            raise ActionError(f"{event} command exited {result.returncode}: {result.stderr.strip()[-300:]}")

    def unlock(self, person: str) -> None:
        self._run("unlock", person)

    def relock(self) -> None:
        self._run("relock", "")

    def close(self) -> None:
        pass


class GpioAction:
    """Drive a GPIO pin (BCM numbering) high while unlocked, through gpiozero, else libgpiod."""

    name = "gpio"

    def __init__(self, pin: int, chip: str = "/dev/gpiochip0") -> None:
        self.pin = pin
        try:
            from gpiozero import OutputDevice

            self._device = OutputDevice(pin, initial_value=False)
            self._set = lambda on: self._device.on() if on else self._device.off()
            return
        except ImportError:
            pass
        try:
            import gpiod
        except ImportError:
            raise ActionError("gpio: action needs gpiozero or gpiod (sudo apt install python3-gpiozero, "
                              "or pip install gpiozero)") from None
        request = gpiod.request_lines(chip, consumer="edgeface-lock", config={
            pin: gpiod.LineSettings(direction=gpiod.line.Direction.OUTPUT)})
        self._device = request
        self._set = lambda on: request.set_value(pin, gpiod.line.Value.ACTIVE if on else gpiod.line.Value.INACTIVE)

    def unlock(self, person: str) -> None:
        self._set(True)

    def relock(self) -> None:
        self._set(False)

    def close(self) -> None:
        self._set(False)


def make_action(spec: str):
    """'print' | 'command:CMD' | 'gpio:PIN'."""
    kind, _, argument = spec.partition(":")
    if kind == "print" and not argument:
        return PrintAction()
    if kind == "command":
        return CommandAction(argument)
    if kind == "gpio":
        try:
            return GpioAction(int(argument))
        except ValueError:
            raise ActionError(f"gpio: takes a BCM pin number, e.g. gpio:17 (got {argument!r})") from None
    raise ActionError(f"unknown action {spec!r}: use print, command:CMD or gpio:PIN")


class AuditLog:
    """Append-only JSON lines; each record is flushed, and unlock/relock records are fsynced."""

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.path = Path(path) if path else None
        self._handle = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        record = {"wall_time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **record}
        line = json.dumps(record, sort_keys=False)
        if self._handle is None:
            print(line, file=sys.stderr, flush=True)
            return
        self._handle.write(line + "\n")
        self._handle.flush()
        if record.get("action") in ("unlock", "relock"):
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
