"""What registers Pulumi resources: the platform (providers, cluster, registry, the project's APIs),
the images, and each app's blue/green workload with its Services, smoke Jobs and scale-down pause.
They take validated settings (:mod:`infra.settings`), never the config parser, and apply the pure
rules beside them (:mod:`infra.naming`, :mod:`infra.cutover`, :mod:`infra.hardening`,
:mod:`infra.build_context`).
"""
