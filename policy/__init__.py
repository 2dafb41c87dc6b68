"""The gke-bluegreen policy pack: rules (``policy.rules``), offline runner (``policy.offline``) and
the CrossGuard wrapper (``policy/__main__.py``, run by the Pulumi CLI in the pack's own venv)."""
