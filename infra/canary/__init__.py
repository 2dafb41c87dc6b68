"""Canary releases through the GKE Gateway API, without an in-cluster controller: the library the
release tool's ``shift``, ``abort`` and ``run`` steps call.

* :mod:`infra.canary.route`: wait until an HTTPRoute's weights are in effect for every parent
  Gateway (``status.parents[]``, per-parent ``observedGeneration``);
* :mod:`infra.canary.split`: count answers through the Gateway by their ``X-Color`` header until
  the candidate's share is inside a stated statistical tolerance of its weight;
* :mod:`infra.canary.metrics`: the Cloud Monitoring metrics of the load balancer behind each
  GatewayClass, the one source for :mod:`infra.canary.analysis` (the verdict between steps) and
  :mod:`infra.canary.dashboard` (the per-stack dashboard JSON).

This file imports nothing: the program (``gcp.monitoring.Dashboard``) imports
:mod:`infra.canary.dashboard`, which loads neither the Kubernetes nor the Monitoring client.
"""
