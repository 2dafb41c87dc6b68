"""End-to-end proof of a blue/green release on a deployed stack: ``python -m infra.e2e``.

Given a stack that `pulumi up` has deployed (Minikube's ``local``, or a throwaway GKE stack in
CI's e2e workflow), the driver takes one app through a whole release with the release tool, as a
user would run it (``python -m infra.release STEP --apply``): start, promote, rollback, promote,
finish, then a start whose candidate answers 500. Meanwhile a load generator sends steady
requests to the live URL. The run passes when no request failed across every switch, the failed
candidate's smoke Job failed its update while the live color kept serving, and after each step
the cluster, the stack file and ``status --json`` agree on the live color
(:mod:`infra.e2e.scenario`).

Modules: :mod:`~infra.e2e.load` (the requests), :mod:`~infra.e2e.cluster` (kubectl),
:mod:`~infra.e2e.tool` (the release tool, the Pulumi CLI and the stack file, from outside),
:mod:`~infra.e2e.scenario` (the steps and checks), ``__main__`` (the command line).
"""
