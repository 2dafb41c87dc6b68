"""README's promises, checked against the code: the two commands, the secrets flow and the error a
missing secret gives, the local stack's access, the doctor."""

from __future__ import annotations

import re
import shutil
import subprocess

from infra import config
from infra.config import secrets as secrets_section
from infra.offline import stackfile
from infra.paths import ROOT
from infra.settings import ConfigError
from tests.prerequisites import unavailable

README = (ROOT / "README.md").read_text()


def test_quick_start_has_exactly_the_two_commands() -> None:
    block = README.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["bash scripts/test-all.sh", "pulumi up --stack dev"]
    assert "scripts/test-all.sh" in (ROOT / ".ci" / "run").read_text(), "CI runs the same"


def test_the_secret_commands_are_the_ones_the_stacks_need() -> None:
    documented = set(re.findall(r"pulumi config set --secret --path '(secrets\.[\w.-]+)'", README))
    for stack in ("imageview", "prod"):
        config = stackfile.config_of(stackfile.stack_document(stack))
        needed = {
            f"secrets.{app}.{key}"
            for app, keys in secrets_section.declared_keys(config).items()
            for key in keys
        }
        assert needed, f"{stack} declares secrets"
        assert needed <= documented, f"README lacks the commands for {needed - documented}"


def test_the_missing_secret_error_is_quoted_exactly() -> None:
    values = {k.split(":", 1)[1]: v for k, v in stackfile.merged("imageview").values.items()}
    values.pop("secrets")
    try:
        config.parse(values, "imageview", None)
    except ConfigError as err:
        message = str(err)
    assert message in README, message
    assert secrets_section.set_command("imageview", "id") in message


def test_local_access_and_doctor_are_documented() -> None:
    local = stackfile.stack_document("local")["config"]["gke-bluegreen:apps"]
    assert local["kubia"]["service"]["name"] == "kubia-http"
    assert "minikube service kubia-http --url" in README
    assert "make doctor STACK=dev" in README
    if shutil.which("make") is None:
        unavailable("make is missing")
    # What the documented command would run, without running it.
    make = subprocess.run(
        ["make", "-n", "doctor", "STACK=dev"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert make.returncode == 0, make.stderr
    assert "-m infra.doctor --stack dev" in make.stdout, make.stdout


def test_the_live_color_refusal_is_quoted_as_the_program_says_it() -> None:
    from tests.infra.test_cutover import PINNED_SECRETS, _released

    raw, _ = _released(apps__imageview__colors__blue={"source": "apps/imageview/blue"})
    try:
        config.parse(raw, "imageview", PINNED_SECRETS)
    except ConfigError as err:
        message = str(err)
    digest = "b" * 64
    # The content tag follows the app's code (apps/lib too), so any tag stands for it.
    tag = re.compile(r"src-[0-9a-f]{12}")
    quoted = tag.sub("src-TAG", message.replace(digest, "bbbb…bbbb"))
    assert quoted in tag.sub("src-TAG", README), message


def test_the_canary_abort_quoted_is_the_saved_run() -> None:
    """README "Canary releases" quotes bench/release/canary-runs.md (made by
    bench/release/canary_runs.py): every line of the quote is a line of that file."""
    section = README.split("**How an abort looks**", 1)[1]
    quote = section.split("```\n", 1)[1].split("```", 1)[0].splitlines()
    saved = set((ROOT / "bench/release/canary-runs.md").read_text().splitlines())
    assert len(quote) > 5
    missing = [line for line in quote if line not in saved]
    assert not missing, f"run bench/release/canary_runs.py and quote it again: {missing}"
