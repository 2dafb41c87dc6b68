"""One step at a time on one stack: a step holds ``stacks/.Pulumi.<stack>.yaml.lock`` from reading
the stack file to the end of its ``pulumi up``, so that two steps at once (two people, or CI and a
person) cannot both write and lose one release.

The lock is the kernel's (``flock``) on that file, so a step that is killed, even by SIGKILL,
releases it with its process; the file says who holds it (pid, host, command, since when) for the
refusal. A step that finds it free but still filled in (its holder ended without clearing it: a
kill, a crash, Ctrl-C) takes it over and says so. The lock file is git-ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from infra.offline import stackfile
from infra.release.errors import ReleaseError


def lock_path(stack: str) -> Path:
    """``stacks/.Pulumi.<stack>.yaml.lock``, beside the stack file."""
    path = stackfile.stack_file(stack)
    return path.with_name(f".{path.name}.lock")


def _holder(text: str) -> str:
    """Who a lock file names, for a sentence."""
    try:
        data = json.loads(text)
        return f"`{data['command']}` (pid {data['pid']} on {data['host']}, since {data['started']})"
    except (ValueError, KeyError, TypeError):
        return "a step that has not said who it is yet"


@contextlib.contextmanager
def locked(stack: str, command: str, out: Callable[[str], None]) -> Iterator[None]:
    """Holds the stack's lock for the block; refuses (one line, nothing done) while another
    step holds it."""
    path = lock_path(stack)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise ReleaseError(
            f"cannot open the lock {path.name} beside the stack file: {err.strerror or err}; "
            "make the stacks folder writable, then run the step again"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReleaseError(
                f"another release step holds stack {stack}: {_holder(_read(fd))}; wait for it "
                "to end (`status` then shows what it did), then run this step again"
            ) from None
        left = _read(fd)
        if left.strip():
            out(
                f"note: took over the lock of stack {stack} from {_holder(left)}, which ended "
                "without releasing it (killed or interrupted): `status` shows what it did"
            )
        _write(fd, _me(command))
        try:
            yield
        finally:
            _write(fd, "")
    finally:
        os.close(fd)  # releases the flock


def _me(command: str) -> str:
    return json.dumps(
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        }
    )


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 1 << 16).decode("utf-8", "replace")


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text.encode())
