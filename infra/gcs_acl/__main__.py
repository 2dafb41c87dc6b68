"""``python -m infra.gcs_acl``: the operator CLI (see :mod:`infra.gcs_acl.cli`).

Importing google-cloud-storage takes most of a second: a Ctrl-C meanwhile is one line and exit
130 like any other (:func:`infra.cli.guard_start`), not a traceback from inside an import.
"""

from infra.cli import guard_start

guard_start("error: interrupted while starting; nothing changed")

from infra.cli import run
from infra.gcs_acl.cli import main

run(main, "nothing sent, nothing changed")
