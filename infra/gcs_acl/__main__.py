"""``python -m infra.gcs_acl``: the operator CLI (see :mod:`infra.gcs_acl.cli`).

Importing google-cloud-storage takes most of a second: a Ctrl-C meanwhile is one line and exit
130 like any other, not a traceback from inside an import.
"""

import signal
import sys

try:
    from infra.gcs_acl.cli import main
except KeyboardInterrupt:
    sys.stderr.write("error: interrupted while starting; nothing changed\n")
    sys.exit(130)

# From here main() handles Ctrl-C itself; before it starts and after it returns, while the
# interpreter shuts down, a press is ignored (Python would otherwise die of the signal, or print
# a traceback from wherever it landed).
signal.signal(signal.SIGINT, signal.SIG_IGN)
sys.exit(main())
