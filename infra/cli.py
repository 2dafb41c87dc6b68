"""What the project's command-line tools share, so that every input a user can type, Ctrl-C
included, gets one line:

* a usage error is ``error: ... (see PROG --help)`` and exit 2, instead of argparse's usage block;
* Ctrl-C is one line and exit 130 wherever it lands: while the tool starts (importing the Pulumi
  SDKs takes most of a second), while it works, or while the interpreter shuts down.

Ctrl-C does not raise KeyboardInterrupt inside the tools' work: the Pulumi SDK runs the program in
an event loop, and an exception raised at an arbitrary point there is logged by asyncio or, inside
a weakref callback, swallowed ("Exception ignored in ..."), and the run went on. Instead the tool
says what was done and exits at once. Work that must not stop halfway (replacing a file, a
``pulumi up`` child that handles Ctrl-C itself) runs in :func:`uninterrupted`: a press waits for
the block to end. Scratch folders made by :func:`scratch_dir` are removed on the way out.

A tool calls :func:`guard_start` first thing when run as a program, before its imports, and ends
with ``run(main, ...)``. ``infra/gcs_acl`` has its own (it imports nothing of ``infra/``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors, its subcommands' included, are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


class _Interrupts:
    """Where a Ctrl-C finds the tool: the message for now, open critical blocks, scratch."""

    message = "nothing done"
    depth = 0
    pending: str | None = None
    scratch: list[Path] = []  # noqa: RUF012 - one process, one list


def _leave(message: str) -> NoReturn:
    for path in _Interrupts.scratch:
        shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    os.write(2, f"interrupted: {message}\n".encode())
    os._exit(130)


def _on_sigint(_signum: int, _frame: FrameType | None) -> None:
    if _Interrupts.depth:
        _Interrupts.pending = _Interrupts.pending or _Interrupts.message
        return
    _leave(_Interrupts.message)


def guard_start() -> None:
    """From now on Ctrl-C ends the tool with one line and exit 130 (before :func:`run` too)."""
    _Interrupts.message = "while starting, nothing done"
    signal.signal(signal.SIGINT, _on_sigint)


@contextlib.contextmanager
def uninterrupted(done: str) -> Iterator[None]:
    """A block Ctrl-C does not cut: a press waits for its end, then the tool exits 130 saying
    ``done`` (what the block completed). Outside :func:`run` (tests, the Pulumi program) this
    changes nothing."""
    _Interrupts.depth += 1
    try:
        yield
    except BaseException:
        _Interrupts.depth -= 1
        if _Interrupts.pending is not None and not _Interrupts.depth:
            _leave(_Interrupts.pending)  # the block failed: say what was true at the press
        raise
    _Interrupts.depth -= 1
    if _Interrupts.pending is not None and not _Interrupts.depth:
        _leave(done)


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed at the end of the block and also when Ctrl-C ends the tool."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _Interrupts.scratch.append(path)
    try:
        yield path
    finally:
        _Interrupts.scratch.remove(path)
        shutil.rmtree(path, ignore_errors=True)


def run(main: Callable[[], int], interrupted: str) -> NoReturn:
    """Runs ``main`` and exits with its code. Ctrl-C meanwhile prints ``interrupted:
    <interrupted>`` (what was or was not done) and exits 130; once ``main`` has returned, Ctrl-C
    is ignored while the interpreter shuts down."""
    _Interrupts.message = interrupted
    signal.signal(signal.SIGINT, _on_sigint)
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
