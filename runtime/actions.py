"""What the lock does when it decides: the unlock action (pluggable) and the append-only audit log."""

from __future__ import annotations

import json
import os
import queue
import shlex
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from edgeface.runtime.errors import EdgefaceError


class ActionError(EdgefaceError, RuntimeError):
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


def make_action(spec: str, timeout_s: float = 5.0):
    """'print' | 'command:CMD' | 'gpio:PIN'; a command is killed after `timeout_s` seconds."""
    if not (0 < timeout_s < float("inf")):
        raise ActionError(f"--action-timeout must be a finite number of seconds > 0 (got {timeout_s!r})")
    kind, _, argument = spec.partition(":")
    if kind == "print" and not argument:
        return PrintAction()
    if kind == "command":
        return CommandAction(argument, timeout_s)
    if kind == "gpio":
        try:
            return GpioAction(int(argument))
        except ValueError:
            raise ActionError(f"gpio: takes a BCM pin number, e.g. gpio:17 (got {argument!r})") from None
    raise ActionError(f"unknown action {spec!r}: use print, command:CMD or gpio:PIN")


class AuditLog:
    """Append-only JSON lines, created 0600; every record is flushed, unlock intents and relocks are fsynced.

    Rotation: past `max_bytes` the file becomes `<audit>.1` (older ones shift up to `<audit>.<keep>`); a file
    renamed away by logrotate is noticed at the next record and a new one is opened at the path. A record that
    cannot be written (full disk, I/O error) makes `write` return False and is said once on stderr: the lock
    then refuses to unlock (an unlock must be on record first) but keeps relocking.
    """

    def __init__(self, path: str | os.PathLike | None, max_bytes: int = 10 * 2**20, keep: int = 5) -> None:
        self.path = Path(path) if path else None
        self.max_bytes, self.keep = max_bytes, keep
        self._handle = None
        self._lock = threading.Lock()
        self.failures = 0
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._open()

    def _open(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._handle = os.fdopen(fd, "a", encoding="utf-8")
        info = os.fstat(fd)
        self._inode = info.st_ino
        self._regular = stat.S_ISREG(info.st_mode)  # /dev/null or a pipe: nothing to rotate or fsync

    def _maybe_rotate(self) -> None:
        if not self._regular:
            return
        try:
            info = os.stat(self.path)
            moved = info.st_ino != self._inode
        except FileNotFoundError:
            moved = True
        if not moved and info.st_size < self.max_bytes:
            return
        self._handle.close()
        if not moved:
            for index in range(self.keep - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{index}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{index + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._open()

    def write(self, record: dict, sync: bool = False) -> bool:
        record = {"wall_time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **record}
        line = json.dumps(record, sort_keys=False)
        if self._handle is None:
            print(line, file=sys.stderr, flush=True)
            return True
        with self._lock:
            try:
                self._maybe_rotate()
                self._handle.write(line + "\n")
                self._handle.flush()
                if self._regular and (sync or record.get("action") in ("unlock", "relock")):
                    os.fsync(self._handle.fileno())
            except (OSError, ValueError) as error:  # ValueError: the handle was closed by a failed reopen
                self.failures += 1
                if self.failures == 1:
                    print(f"audit: cannot write {self.path} ({error.strerror or error}); unlocking is refused "
                          "until it can", file=sys.stderr, flush=True)
                return False
        return True

    def close(self) -> None:
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError:
                pass


class Door:
    """The strike, driven by one worker thread so that a slow or hanging action never blocks the decision loop.

    Fail safe: `start` relocks before the first frame (the previous run may have died with the door open: kill
    -9, power cut); `close` relocks on every way out. Every unlock is on record (fsynced) before the action runs;
    a relock that fails is retried every `retry_s` seconds with an `alarm` record until it succeeds."""

    def __init__(self, action, audit: AuditLog, retry_s: float = 1.0) -> None:
        self.action, self.audit, self.retry_s = action, audit, retry_s
        self._jobs: queue.Queue = queue.Queue()
        self.errors = 0
        self._worker = threading.Thread(target=self._work, name="edgeface-door", daemon=True)
        self._worker.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            kind, person, record = job
            while True:
                try:
                    self.action.unlock(person) if kind == "unlock" else self.action.relock()
                    break
                except Exception as error:  # a relay or a script failing must not stop the lock
                    self.errors += 1
                    if kind == "unlock":
                        self.audit.write({**record, "action": "unlock_failed", "error": str(error)})
                        break
                    self.audit.write({**record, "action": "alarm", "error": f"relock failed: {error}; retrying"},
                                     sync=True)
                    time.sleep(self.retry_s)  # until it works; close() stops waiting after its timeout
            self._jobs.task_done()

    def start(self, **record) -> None:
        self.relock(reason="start", **record)
        self.wait()

    def unlock(self, person: str, record: dict) -> bool:
        """Record the intent (fsynced), then queue the action; False (and no unlock) if it cannot be recorded."""
        if not self.audit.write({**record, "action": "unlock"}, sync=True):
            return False
        self._jobs.put(("unlock", person, record))
        return True

    def relock(self, reason: str, **record) -> None:
        record = {**record, "action": "relock", "reason": reason}
        self.audit.write(record, sync=True)
        self._jobs.put(("relock", "", record))

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Until every queued action has run (or `timeout_s`); True when they all have."""
        deadline = time.monotonic() + timeout_s
        while self._jobs.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._jobs.unfinished_tasks

    def close(self, reason: str, timeout_s: float = 30.0) -> None:
        """Relock (whatever the door's state is believed to be) and release the action."""
        self.relock(reason=reason)
        done = self.wait(timeout_s)
        if not done:
            self.audit.write({"action": "alarm", "error": f"relock did not complete within {timeout_s:g} s at exit"},
                             sync=True)
        self._jobs.put(None)
        try:
            self.action.close()
        except Exception as error:
            self.audit.write({"action": "alarm", "error": f"closing the action failed: {error}"}, sync=True)
