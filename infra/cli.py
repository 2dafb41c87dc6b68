"""What the project's command-line tools share, so that every input a user can type, Ctrl-C
included, gets one line:

* an error is one ``error: ...`` line on stderr and an exit code (:func:`error`); a usage error is
  ``error: ... (see PROG --help)`` and exit 2, instead of argparse's usage block;
* Ctrl-C is one line and exit 130 wherever it lands: while the tool starts (importing the Pulumi
  SDKs takes most of a second), while it works, or while the interpreter shuts down. SIGTERM (a
  ``kill``, a CI job cancelled, a container stopped) is handled exactly like Ctrl-C: the same
  line, exit 130, scratch folders removed;
* output to a reader that went away (``| head -1``) is not an error: the rest of the output is
  dropped silently, the work goes on and the exit code is the work's (:func:`run`); a tool that
  stopped halfway because ``head`` had seen enough would leave a release step half done;
* a full disk (ENOSPC, EDQUOT) that no tool's own message covers is one ``error:`` line, exit 1.

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
import errno
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO, cast

EXIT_USAGE = 2
"""The exit code of a command line the tool refuses (and of a value it refuses, nothing done)."""
EXIT_INTERRUPTED = 130
"""The exit code after Ctrl-C or SIGTERM (128 + SIGINT, as a shell reports Ctrl-C)."""
EXIT_FAILED = 1
"""The exit code of a failure no tool's own exit codes cover (a full disk)."""
#: The signals that interrupt a tool: Ctrl-C, and SIGTERM, which stops it just the same.
INTERRUPTS = (signal.SIGINT, signal.SIGTERM)
STARTING = "interrupted: while starting, nothing done"
"""What a tool says on Ctrl-C while it starts, unless it says otherwise (:func:`guard_start`)."""


def error(message: str, code: int) -> int:
    """Writes the one line ``error: <message>`` to stderr and returns ``code``, the exit code
    to end with."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type=``: a whole number from ``low`` to ``high``, else one usage line."""

    def number(text: str) -> int:
        if re.fullmatch(r"[0-9]{1,9}", text) and low <= int(text) <= high:
            return int(text)
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")

    return number


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
    with contextlib.suppress(OSError):  # stderr may be a closed pipe too
        os.write(2, f"{line}\n".encode())
    os._exit(EXIT_INTERRUPTED)


def _on_interrupt(_signum: int, _frame: FrameType | None) -> None:
    if _Interrupts.depth:
        _Interrupts.pending = _Interrupts.pending or _Interrupts.line
        return
    _leave(_Interrupts.line)


def _handle_interrupts(handler: Callable[[int, FrameType | None], object] | int) -> None:
    for signum in INTERRUPTS:
        signal.signal(signum, handler)


def guard_start(line: str = STARTING) -> None:
    """From now on Ctrl-C or SIGTERM ends the tool with ``line`` and exit 130 (before :func:`run`
    too)."""
    _Interrupts.line = line
    _handle_interrupts(_on_interrupt)


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
    after :meth:`Presses.settle`. A SIGTERM counts as a press. The handlers before the block are
    back after it. Signals reach only the main thread: elsewhere nothing is installed."""
    handler = Presses(presses)
    if threading.current_thread() is not threading.main_thread():
        yield handler
        return
    previous = {signum: signal.signal(signum, handler) for signum in INTERRUPTS}
    try:
        yield handler
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)


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


def disk_full(err: OSError) -> bool:
    """True when ``err`` says the disk (or the user's quota on it) is full."""
    return err.errno in (errno.ENOSPC, errno.EDQUOT)


class _ReaderMayLeave:
    """stdout or stderr whose reader may go away (``tool | head -1``): from then on, what is
    written goes to /dev/null instead of raising BrokenPipeError at the next ``print``. Every
    other attribute is the stream's own."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._to_devnull()
            return len(text)
        except OSError as err:
            raise self._named(err) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_devnull()
        except OSError as err:
            raise self._named(err) from None

    def _named(self, err: OSError) -> OSError:
        """``err`` naming the stream (``tool > file`` on a full disk names no file)."""
        return OSError(err.errno, err.strerror, f"writing {str(self._stream.name).strip('<>')}")

    def _to_devnull(self) -> None:
        # The same file descriptor, so that children started later write there too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def run(main: Callable[[], int], interrupted: str) -> NoReturn:
    """Runs ``main`` and exits with its code. Ctrl-C or SIGTERM meanwhile prints ``interrupted:
    <interrupted>`` (what was or was not done) and exits 130; once ``main`` has returned, both
    are ignored while the interpreter shuts down. Output nobody reads any more is dropped (the
    exit code stays ``main``'s); a full disk is one line and exit 1."""
    _Interrupts.line = f"interrupted: {interrupted}"
    _handle_interrupts(_on_interrupt)
    if not isinstance(sys.stdout, _ReaderMayLeave):
        sys.stdout = cast(TextIO, _ReaderMayLeave(sys.stdout))
        sys.stderr = cast(TextIO, _ReaderMayLeave(sys.stderr))
    try:
        code = main()
        sys.stdout.flush()
    except OSError as err:
        if not disk_full(err):
            raise
        where = f" ({err.filename})" if err.filename else ""
        with contextlib.suppress(OSError):  # stderr may be on the full disk too
            error(f"{err.strerror}{where}: free some space, then run it again", EXIT_FAILED)
        code = EXIT_FAILED
    _handle_interrupts(signal.SIG_IGN)
    sys.exit(code)
