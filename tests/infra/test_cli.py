"""infra/cli.py: an error of every command-line tool is one line (a usage error exit 2), and
Ctrl-C one line and exit 130, in a fresh process where the process is what is tested (the
interpreter's exit code, signals), else through each tool's ``main``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.cli import error
from infra.doctor.__main__ import main as doctor_main
from infra.offline.render import main as render_main
from infra.paths import ROOT
from infra.release.__main__ import main as release_main

#: What a user might mistype, for each tool, and the words its one line must hold.
USAGE_ERRORS = [
    (
        ["infra.offline.render", "--stack", "dev", "--out", "/nonexistent/x", "--bogus"],
        "unrecognized arguments: --bogus",
    ),
    (["infra.release", "launch"], "invalid choice: 'launch'"),
    (["infra.offline.render"], "required: --stack, --out"),
    (["infra.doctor"], "required: --stack"),
    (["infra.release"], "required: command"),
    (
        ["infra.release", "finish", "--stack", "dev", "--app", "kubia", "--idle-replicas", ""],
        "--idle-replicas: '' is not a whole number from 0 to 1000",
    ),
    (
        ["infra.release", "verify", "--stack", "dev", "--app", "kubia", "--requests", "1e3"],
        "--requests: '1e3' is not a whole number from 1 to 1000",
    ),
]
#: Each tool's ``main`` (what ``python -m`` runs inside :func:`infra.cli.run`).
MAINS: dict[str, Callable[[list[str]], int]] = {
    "infra.offline.render": render_main,
    "infra.doctor": doctor_main,
    "infra.release": release_main,
}


def _assert_one_usage_line(code: object, out: str, err: str, words: str) -> None:
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and words in err, err
    assert err.startswith("error: ") and "--help)" in err


@pytest.mark.parametrize(("argv", "words"), USAGE_ERRORS[:2])
def test_a_usage_error_is_one_line_and_exit_2(argv: list[str], words: str) -> None:
    """Through ``python -m``, as a user meets it: one tool's options, another's subcommands."""
    result = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    _assert_one_usage_line(result.returncode, result.stdout, result.stderr, words)


@pytest.mark.parametrize(("argv", "words"), USAGE_ERRORS[2:])
def test_every_tools_usage_errors_are_one_line_and_exit_2(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same through each tool's ``main`` (the process around it is tested above)."""
    module, *args = argv
    with pytest.raises(SystemExit) as exit_:
        MAINS[module](args)
    out, err = capsys.readouterr()
    _assert_one_usage_line(exit_.value.code, out, err, words)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter with Ctrl-C at its default (as in a terminal)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_ctrl_c_while_starting_is_one_line() -> None:
    result = _python(
        "from infra.cli import guard_start\n"
        "guard_start()\n"
        "import os, signal, time\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(30)\n"
    )
    assert (result.returncode, result.stderr) == (
        130,
        "interrupted: while starting, nothing done\n",
    )


def test_ctrl_c_inside_the_pulumi_program_is_one_line_and_leaves_no_scratch(
    tmp_path: Path,
) -> None:
    """A real SIGINT, from another thread at a moment nobody chose, while the SDK's event loop
    runs the program over and over (what a render or the release tool spends its time on). The
    tool says one line, exits 130 and removes its scratch folders; no KeyboardInterrupt is raised
    inside the loop, where asyncio would log it or a weakref callback swallow it."""
    result = _python(
        "import os, signal, tempfile, threading\n"
        f"tempfile.tempdir = {str(tmp_path)!r}\n"
        "from infra.cli import run\n"
        "from infra.offline import program, stackfile\n"
        "config = stackfile.merged('dev', (), ())\n"
        "def main():\n"
        "    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
        "    for _ in range(200):\n"
        "        program.run(config)\n"
        "    return 0\n"
        "run(main, 'nothing written')\n"
    )
    assert (result.returncode, result.stderr) == (130, "interrupted: nothing written\n")
    assert list(tmp_path.iterdir()) == [], "a scratch folder was left behind"


def test_ctrl_c_waits_for_an_uninterrupted_block_then_says_what_it_did() -> None:
    result = _python(
        "import os, signal, sys\n"
        "from infra.cli import run, uninterrupted\n"
        "def main():\n"
        "    with uninterrupted('the file was written'):\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        print('block finished', flush=True)\n"
        "    print('never here')\n"
        "    return 0\n"
        "run(main, 'nothing written')\n"
    )
    assert (result.returncode, result.stdout) == (130, "block finished\n")
    assert result.stderr == "interrupted: the file was written\n"


def test_a_usage_error_is_still_exit_2_under_run() -> None:
    result = _python(
        "from infra.cli import OneLineParser, run\n"
        "run(lambda: OneLineParser(prog='tool').parse_args(['--x']) and 0, 'nothing')\n"
    )
    assert result.returncode == 2
    assert result.stderr == "error: unrecognized arguments: --x (see tool --help)\n"


def test_an_error_is_one_line_and_the_code_to_exit_with(capsys: pytest.CaptureFixture[str]) -> None:
    assert error("the bucket does not exist", 1) == 1
    assert capsys.readouterr() == ("", "error: the bucket does not exist\n")


def test_ctrl_c_while_starting_says_the_tools_own_line() -> None:
    result = _python(
        "from infra.cli import guard_start\n"
        "guard_start('error: interrupted while starting; nothing changed')\n"
        "import os, signal, time\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(30)\n"
    )
    assert (result.returncode, result.stderr) == (
        130,
        "error: interrupted while starting; nothing changed\n",
    )


def test_an_interruptible_block_gets_the_first_presses_and_ignores_the_rest() -> None:
    """What the registry ACL tool needs: the first press stops its work, the second stops the
    wait for its threads; later ones, and any while it says what it did, change nothing. A
    signal a process sends itself is handled before ``os.kill`` returns (POSIX ``kill``): the
    sleep is only room for one that were late."""
    result = _python(
        "import os, signal, time\n"
        "from infra.cli import interruptible, run\n"
        "def press(n):\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        time.sleep(0.1)\n"
        "        print(n, 'ignored', flush=True)\n"
        "    except KeyboardInterrupt:\n"
        "        print(n, 'raised', flush=True)\n"
        "def main():\n"
        "    with interruptible(2) as presses:\n"
        "        for n in range(3):\n"
        "            press(n)\n"
        "    with interruptible(2) as presses:\n"
        "        presses.settle()\n"
        "        press(3)\n"
        "    return 3\n"
        "run(main, 'nothing done')\n"
    )
    assert (result.returncode, result.stderr) == (3, "")
    assert result.stdout.splitlines() == ["0 raised", "1 raised", "2 ignored", "3 ignored"]


def test_after_an_interruptible_block_ctrl_c_ends_the_tool_again() -> None:
    result = _python(
        "import os, signal, time\n"
        "from infra.cli import interruptible, run\n"
        "def main():\n"
        "    with interruptible(1):\n"
        "        pass\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(30)\n"
        "    return 0\n"
        "run(main, 'nothing sent')\n"
    )
    assert (result.returncode, result.stderr) == (130, "interrupted: nothing sent\n")


# ------------------------------------------------------------------ a reader that went away


def _tool(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, text=True, timeout=120, check=False, **kwargs
    )


def _closed_pipe() -> int:
    """The write end of a pipe whose reader is gone, as in ``tool | true`` (or ``| head -1``
    once head has its line)."""
    read, write = os.pipe()
    os.close(read)
    return write


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["infra.doctor", "--stack", "local"], None),
        (["infra.offline.render", "--stack", "local", "--out", "{out}"], 0),
        (["infra.release", "status", "--stack", "dev"], 0),
    ],
)
def test_output_to_a_closed_pipe_is_dropped_silently(
    tmp_path: Path, argv: list[str], code: int | None
) -> None:
    argv = [a.replace("{out}", str(tmp_path / "out")) for a in argv]
    pipe = _closed_pipe()
    try:
        result = _tool(argv, stdout=pipe, stderr=subprocess.PIPE)
    finally:
        os.close(pipe)
    assert result.stderr == ""
    full = _tool(argv, capture_output=True)
    assert result.returncode == (full.returncode if code is None else code), "the work's own code"
    if "--out" in argv:
        assert (tmp_path / "out/resources.json").is_file(), "the render was written all the same"


def test_an_error_line_to_a_closed_pipe_keeps_its_exit_code() -> None:
    """``tool 2>&1 | head -0``: the error line has nowhere to go; the exit code still says it."""
    pipe = _closed_pipe()
    try:
        result = _tool(["infra.release", "status", "--stack", "staging"], stdout=pipe, stderr=pipe)
    finally:
        os.close(pipe)
    assert result.returncode == 2


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_output_to_a_full_disk_is_one_line() -> None:
    with Path("/dev/full").open("w") as full:
        result = _tool(
            ["infra.release", "status", "--stack", "dev"], stdout=full, stderr=subprocess.PIPE
        )
    assert (result.returncode, result.stderr) == (
        1,
        "error: No space left on device (writing stdout): free some space, then run it again\n",
    )


# ------------------------------------------------------------------ SIGTERM, as Ctrl-C


def test_sigterm_mid_render_is_one_line_and_leaves_no_scratch(tmp_path: Path) -> None:
    """A real SIGTERM (a `kill`, a cancelled CI job) to the render while the program runs: the
    same line as Ctrl-C, exit 130, the scratch folders removed and --out untouched."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.offline.render", "--stack", "prod", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(scratch.glob("gke-bluegreen-*")) and proc.poll() is None:
        assert time.monotonic() < deadline, "the render never started its program"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert (proc.returncode, stdout, stderr) == (130, "", "interrupted: nothing written\n")
    assert list(scratch.iterdir()) == [], "a scratch folder was left behind"
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["tmp"]


def test_sigterm_counts_as_a_press_in_an_interruptible_block() -> None:
    """The registry ACL tool stops its work cleanly on SIGTERM too, and says what it did."""
    result = _python(
        "import os, signal, time\n"
        "from infra.cli import interruptible, run\n"
        "def main():\n"
        "    with interruptible(1):\n"
        "        try:\n"
        "            os.kill(os.getpid(), signal.SIGTERM)\n"
        "            time.sleep(5)\n"
        "        except KeyboardInterrupt:\n"
        "            print('stopped cleanly', flush=True)\n"
        "    return 130\n"
        "run(main, 'nothing sent')\n"
    )
    assert (result.returncode, result.stdout, result.stderr) == (130, "stopped cleanly\n", "")
