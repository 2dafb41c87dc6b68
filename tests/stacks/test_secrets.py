"""No secret value ever appears in plaintext: not in resource inputs, not in outputs, not in any
file a render writes; unset secrets get placeholders that are still secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.offline import mocks
from infra.offline.program import Render
from infra.offline.render import write

Renderer = Callable[..., Render]
SECRET_ID = "TOPSECRET-ID-4711"
SECRET_KEY = "TOPSECRET-KEY-0815"


def walk(value: Any, inside_secret: bool = False) -> list[tuple[Any, bool]]:
    """Every leaf with whether it sits inside a secret wrapper."""
    if mocks.is_secret(value):
        return walk(value.get("value"), True)
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in walk(v, inside_secret)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in walk(v, inside_secret)]
    return [(value, inside_secret)]


@pytest.mark.parametrize("stack", ["imageview", "prod"])
def test_secret_values_never_appear_in_plaintext(
    tmp_path: Path, stack: str, render_stack: Renderer
) -> None:
    secrets = [f"secrets.imageview.id={SECRET_ID}", f"secrets.imageview.key={SECRET_KEY}"]
    r = render_stack(stack, secrets=secrets)
    values = {SECRET_ID, SECRET_KEY, "mock-access-token"}
    seen_inside = set()
    for x in r.resources:
        for leaf, inside in walk(x.inputs):
            if isinstance(leaf, str) and any(v in leaf for v in values):
                assert inside, f"{x.type} {x.name}: secret in a plain input"
                seen_inside.add(leaf)
    assert {SECRET_ID, SECRET_KEY} <= seen_inside, "the Secret objects do carry the values"
    for leaf, inside in walk(r.outputs):
        if isinstance(leaf, str):
            assert not any(v in leaf for v in values) or inside, "secret in a plain output"
    out = tmp_path / stack
    write(r, out)
    for file in out.rglob("*"):
        if file.is_file():
            text = file.read_text()
            for v in values:
                assert v not in text, f"{file.relative_to(out)} holds a secret value"


def test_unset_secrets_get_secret_placeholders(render_stack: Renderer) -> None:
    r = render_stack("imageview")
    (secret, *_) = r.of_type("kubernetes:core/v1:Secret")
    assert mocks.is_secret(secret.inputs["stringData"])
    assert mocks.unwrap(secret.inputs["stringData"]) == {
        "id": "placeholder-imageview-id",
        "key": "placeholder-imageview-key",
    }


def test_a_number_set_as_a_secret_reaches_the_secret_as_text(render_stack: Renderer) -> None:
    """`pulumi config set --secret --path secrets.imageview.id 12345` stores a number."""
    r = render_stack("imageview", secrets=["secrets.imageview.id=12345"])
    (secret, *_) = r.of_type("kubernetes:core/v1:Secret")
    assert mocks.unwrap(secret.inputs["stringData"])["id"] == "12345"
