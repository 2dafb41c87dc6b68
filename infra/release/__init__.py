"""The release tool: blue/green and canary releases without a controller. It keeps, in the stack
file, the record that makes the live color immutable, and takes the steps of a release in order.

    python -m infra.release status   --stack S [--app A] [--json]
    python -m infra.release start    --stack S --app A [--source DIR | --image REF] [--set P=V]...
    python -m infra.release shift    --stack S --app A [--weight N] [--apply]
    python -m infra.release abort    --stack S --app A [--apply]
    python -m infra.release run      --stack S --app A --apply [--plan 5,25,50,100] [waits...]
    python -m infra.release promote  --stack S --app A [--apply]
    python -m infra.release rollback --stack S --app A [--apply]
    python -m infra.release finish   --stack S --app A [--idle-replicas N] [--apply]
    python -m infra.release verify   --stack S --app A [--requests N] [--timeout S]
    python -m infra.release check    --stack S

Every step edits ``stacks/Pulumi.<stack>.yaml`` (comments and order kept) and records in
``apps.<app>.release`` what serves traffic, which the program then refuses to change in place
(:mod:`infra.cutover`). Before writing, it renders the stack before (what is deployed: each build
with the digest the outputs give its color) and after with the real program offline, compares
every resource, and prints what ``pulumi up`` will change; a step whose change would touch what
it must not (anything but its app's idle color, for a start) is refused and nothing is written.
``--apply`` then runs ``pulumi up``; after ``promote --apply`` the live URL is checked, a failure
rolls back by itself, and a check that cannot run is an error saying traffic moved unverified.
What is deployed is read from ``pulumi stack output --json`` (or ``--outputs FILE``). A step holds
the stack's lock (:mod:`.lock`) from reading the stack file to the end of its ``pulumi up``.

1. ``start``: pin the live color to what it runs (image by digest from the outputs, its config
   and secret values as its own copies), point the idle color at the new source, image or config,
   record it as the candidate. ``pulumi up`` builds and rolls only the candidate, whose smoke Job
   must pass.
2. ``promote``: move traffic to the candidate (``activeColor``), keep the previous color for a
   rollback. ``pulumi up``: the live Service moves; the previous color scales to ``idleReplicas``
   after ``scaleDownDelaySeconds``.
3. ``finish``: pin the new live color by digest, free the previous one, scale it down.

A canary app (``apps.<app>.strategy: canary``) moves traffic in steps between 1 and 2: ``shift``
gives the candidate a share (``apps.<app>.release.weight``, the app's HTTPRoute and nothing else
changes), ``abort`` sets it back to 0, and ``run --apply`` takes the whole plan unattended, with
the waits and the analysis between steps, then promotes (:mod:`.canary_run`).

``rollback``: move traffic back to the previous color (before ``finish``), or to the other color
while it still runs the previous release (after). The color traffic leaves becomes the candidate:
``promote`` re-releases it, and a second rollback is refused.

One module per job: :mod:`.document` edits the stack file, :mod:`.deployed` reads what is
deployed (and runs the Pulumi CLI), :mod:`.rendering` runs the program offline, :mod:`.changes`
compares two renders, :mod:`.steps` plans the steps (:mod:`.pins` writes what they pin),
:mod:`.run` takes one, :mod:`.lock` keeps it the only one on its stack, :mod:`.verify` checks
the live URL, :mod:`.shift` plans a canary's shares, :mod:`.canary_run` takes a canary's whole
plan, :mod:`.status` reports, and :mod:`.__main__` is the command line.
"""
