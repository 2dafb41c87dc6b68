"""Where the project's tools find the Pulumi CLI: ``$PULUMI`` (a path or a command name), else
``pulumi`` on PATH. The release tool and the doctor both ask here, so a stand-in CLI set with
``PULUMI=/path/to/stand-in`` is the one every tool runs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

ENV = "PULUMI"
DEFAULT = "pulumi"


def find_pulumi(env: Mapping[str, str] | None = None) -> str | None:
    """The Pulumi CLI's path, or None when ``$PULUMI`` (default ``pulumi``) names nothing
    executable."""
    environ = os.environ if env is None else env
    name = environ.get(ENV) or DEFAULT
    return shutil.which(name, path=environ.get("PATH"))


def wanted(env: Mapping[str, str] | None = None) -> str:
    """What the user asked for, for messages: ``$PULUMI`` or ``pulumi``."""
    environ = os.environ if env is None else env
    return environ.get(ENV) or DEFAULT
