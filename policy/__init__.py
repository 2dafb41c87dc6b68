"""The gke-bluegreen policy pack: the rules and their one table (``policy.rules``), the offline
runner (``policy.offline``) and the CrossGuard wrapper (``policy/__main__.py``, run by the Pulumi
CLI in the pack's own venv)."""
