"""``python -m infra.gcs_acl``: the operator CLI (see :mod:`infra.gcs_acl.cli`)."""

import sys

from infra.gcs_acl.cli import main

sys.exit(main())
