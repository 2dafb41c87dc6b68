"""infra/cli.py: an error of every command-line tool is one line (a usage error exit 2), and
Ctrl-C one line and exit 130, in a fresh process where the process is what is tested (the
interpreter's exit code, signals), else through each tool's ``main``."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.cli import error
from infra.doctor import main as doctor_main
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
    runs the program over and over (what a render or the release tool spends its time on). A
    KeyboardInterrupt raised there was logged by asyncio or swallowed in a weakref callback and
    the run went on; now the tool says one line, exits 130 and removes its scratch folders."""
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
