"""What the project's command-line tools share, so that every input a user can type, Ctrl-C
included, gets one line:

* an error is one ``error: ...`` line on stderr and an exit code (:func:`error`); a usage error is
  ``error: ... (see PROG --help)`` and exit 2, instead of argparse's usage block;
* Ctrl-C is one line and exit 130 wherever it lands: while the tool starts (importing the Pulumi
  SDKs takes most of a second), while it works, or while the interpreter shuts down.

Ctrl-C does not raise KeyboardInterrupt inside the tools' work: the Pulumi SDK runs the program in
an event loop, and an exception raised at an arbitrary point there is logged by asyncio or, inside
a weakref callback, swallowed ("Exception ignored in ..."), and the run goes on. Instead the tool
says what was done and exits at once. Work that must not stop halfway (replacing a file, a
``pulumi up`` child that handles Ctrl-C itself) runs in :func:`uninterrupted`: a press waits for
the block to end. Scratch folders made by :func:`scratch_dir` are removed on the way out.

Work that stops itself cleanly and then says what it did (the registry ACL tool: its worker
threads let the requests in flight finish, then it prints the partial summary) runs in
:func:`interruptible` instead: there the first presses raise KeyboardInterrupt in the main
thread, for that work to catch, and later ones are ignored.

A tool calls :func:`guard_start` first thing when run as a program, before its imports, and ends
with ``run(main, ...)``. This module imports nothing of ``infra/``: ``infra/gcs_acl``, which
stands alone, uses it too.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import NoReturn

EXIT_USAGE = 2
"""The exit code of a command line the tool refuses (and of a value it refuses, nothing done)."""
EXIT_INTERRUPTED = 130
"""The exit code after Ctrl-C (128 + SIGINT, as a shell reports it)."""
STARTING = "interrupted: while starting, nothing done"
"""What a tool says on Ctrl-C while it starts, unless it says otherwise (:func:`guard_start`)."""


def error(message: str, code: int) -> int:
    """Writes the one line ``error: <message>`` to stderr and returns ``code``, the exit code
    to end with."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors, its subcommands' included, are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise SystemExit(error(f"{message} (see {self.prog} --help)", EXIT_USAGE))


class _Interrupts:
    """Where a Ctrl-C finds the tool: the line to say now, open critical blocks, scratch."""

    line = "interrupted: nothing done"
    depth = 0
    pending: str | None = None
    scratch: list[Path] = []  # noqa: RUF012 - one process, one list


def _leave(line: str) -> NoReturn:
    for path in _Interrupts.scratch:
        shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    os.write(2, f"{line}\n".encode())
    os._exit(EXIT_INTERRUPTED)


def _on_sigint(_signum: int, _frame: FrameType | None) -> None:
    if _Interrupts.depth:
        _Interrupts.pending = _Interrupts.pending or _Interrupts.line
        return
    _leave(_Interrupts.line)


def guard_start(line: str = STARTING) -> None:
    """From now on Ctrl-C ends the tool with ``line`` and exit 130 (before :func:`run` too)."""
    _Interrupts.line = line
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
        _leave(f"interrupted: {done}")


class Presses:
    """Ctrl-C inside :func:`interruptible`: the SIGINT handler, and how many presses raise."""

    def __init__(self, raising: int) -> None:
        self.raising = raising
        """Presses that raise KeyboardInterrupt; later ones are ignored."""
        self.count = 0
        """Presses so far."""

    def settle(self) -> None:
        """From now on presses are ignored: the work has ended and the tool says what it did
        (a KeyboardInterrupt there would cut that short, or show a traceback)."""
        self.raising = 0

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        if self.count <= self.raising:
            raise KeyboardInterrupt


@contextlib.contextmanager
def interruptible(presses: int) -> Iterator[Presses]:
    """A block whose work stops itself on Ctrl-C: each of the first ``presses`` presses raises
    KeyboardInterrupt in the main thread (the work catches it: a first press stops the work, a
    second stops waiting for what it left running), later ones are ignored, and so is any press
    after :meth:`Presses.settle`. The handler before the block is back after it. Signals reach
    only the main thread: elsewhere nothing is installed."""
    handler = Presses(presses)
    if threading.current_thread() is not threading.main_thread():
        yield handler
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGINT, previous)


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
    _Interrupts.line = f"interrupted: {interrupted}"
    signal.signal(signal.SIGINT, _on_sigint)
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
