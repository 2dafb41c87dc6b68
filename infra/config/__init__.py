"""Stack configuration, read once and validated into frozen, typed settings.

Components never read ``pulumi.Config``; they receive the :class:`~infra.settings.Settings` built
here. Every bad value raises :class:`~infra.settings.ConfigError` (one line naming the key, the
value and what is allowed) before any resource is registered, so a typo never leaves a
half-applied stack. One module per section: :mod:`.cluster`, :mod:`.registry`, :mod:`.apps`,
:mod:`.secrets`; :mod:`.reader` holds the converters they share, :mod:`.kubernetes` the
Kubernetes API's own field rules, :mod:`.load` the entry points.

Structured values are set the way ``pulumi config set --path`` stores them, e.g.
``pulumi config set --path 'apps.imageview.activeColor' green``. App secrets live under the
separate top-level secret key ``secrets`` (``pulumi config set --secret --path
'secrets.imageview.key' VALUE``) so that non-secret settings never become secret.
"""

from infra.config.load import KEYS, load, parse

__all__ = ["KEYS", "load", "parse"]
