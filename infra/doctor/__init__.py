"""The doctor, a preflight for ``pulumi up``: what is missing on this machine and in this stack,
one line each, with what to run to fix it.

    python -m infra.doctor --stack dev        (or: make doctor STACK=dev)

Works offline: everything that needs no cloud is checked for real (tools on PATH and their versions,
the Docker engine, the Pulumi CLI's own pre-run checks on Pulumi.yaml and the stack file, the
program's config through an offline render, which secrets the stack file holds encrypted). What
needs the cloud or a backend it cannot reach is reported as ``not checked``, never as ``ok``.
Exit 0 when nothing is missing, 1 when something is, 2 for a bad argument.

One module per job: :mod:`.findings` is what a check finds and how the report shows it,
:mod:`.tools` runs a tool and reads its version, :mod:`.machine` checks this machine (the Pulumi
CLI and its backend, Docker, the GKE tools and GCP credentials), :mod:`.stack` checks the stack
(the Pulumi CLI's config rules, the program's config, the app secrets and the secrets provider),
:mod:`.check` runs them all in order, and :mod:`.__main__` is the command line. This file imports
nothing: ``python -m infra.doctor`` imports it before the command line guards Ctrl-C.
"""
