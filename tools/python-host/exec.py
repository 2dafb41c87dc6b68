"""Runs a Pulumi Python program for tools/python-host/host.py: configures the SDK's runtime from
the host's arguments and the config in the environment, then runs the entry point inside
``run_in_stack`` (pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec @1b59498)."""

from __future__ import annotations

import argparse
import asyncio
import os
import runpy
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

import pulumi
import pulumi.runtime

#: The host bails without a message of its own on this code (host.py, USER_ACTIONABLE_EXIT).
USER_ACTIONABLE_EXIT = 32


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="exec.py")
    for flag in ("project", "root_directory", "stack", "parallel", "dry_run", "pwd", "monitor"):
        ap.add_argument(f"--{flag}")
    for flag in ("engine", "tracing", "organization"):
        ap.add_argument(f"--{flag}")
    ap.add_argument("PROGRAM")
    ap.add_argument("ARGS", nargs="*")
    args = ap.parse_args(argv)

    pulumi.runtime.set_all_config(
        pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
    )
    settings = pulumi.runtime.Settings(
        monitor=args.monitor,
        engine=args.engine,
        project=args.project,
        stack=args.stack,
        parallel=int(args.parallel or 0),
        dry_run=args.dry_run == "true",
        organization=args.organization,
        root_directory=args.root_directory,
    )
    pulumi.runtime.configure(settings)
    sys.argv = [args.PROGRAM, *args.ARGS]
    if args.pwd:
        os.chdir(args.pwd)
    # The entry point is a folder ("." for the project) or a file; runpy runs a folder's
    # __main__.py with the folder first on sys.path, as `python DIR` does.
    program = os.path.abspath(args.PROGRAM)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Upstream: a default executor of 4 x parallel threads for the SDK's blocking RPCs.
    executor = ThreadPoolExecutor(max_workers=max(settings.parallel or 1, 1) * 4)
    loop.set_default_executor(executor)

    def run() -> None:
        runpy.run_path(program, run_name="__main__")

    code = 1
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(run))
        code = 0
    except pulumi.RunError as exc:
        pulumi.log.error(str(exc))
    except Exception:
        pulumi.log.error("Program failed with an unhandled exception:\n" + traceback.format_exc())
        code = USER_ACTIONABLE_EXIT
    finally:
        executor.shutdown(wait=True)
        loop.close()
        sys.stdout.flush()
        sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
