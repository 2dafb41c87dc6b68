"""The dynamic provider behind :class:`infra.components.delay.ScaleDownDelay`, the pause before the
previous color scales down: it sleeps on an update that changes the active color.

Its module path is part of every stack's state. ``pulumi.dynamic.Resource`` pickles the provider
instance with dill into the ``__provider`` input (pulumi/pulumi ``sdk/python/lib/pulumi/dynamic/
dynamic.py`` ``serialize_provider``, at 1b59498), and dill pickles a class of an importable module
by reference: the state holds ``infra.delay`` + ``DelayProvider``, nothing more. Every later
update, refresh and delete of the resource runs ``python -m pulumi.dynamic`` from the project root,
which imports it by that path. So it stays here, importable as ``infra.delay``, holding no state
and importing nothing of the project, while the resource lives with the other components; a move
would change ``__provider`` on every stack and break the engine's calls for states written before
it. tests/infra/test_delay.py pins the pickled path.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi.dynamic


class DelayProvider(pulumi.dynamic.ResourceProvider):
    """Sleeps on update when ``active_color`` changed."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_="delay", outs=dict(props))

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        changed = [k for k in ("active_color", "seconds") if olds.get(k) != news.get(k)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[])

    def update(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        if olds.get("active_color") != news.get("active_color"):
            time.sleep(float(news.get("seconds") or 0))
        return pulumi.dynamic.UpdateResult(outs=dict(news))
