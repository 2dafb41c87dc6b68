"""infra/config/record.py: a release record's pin reads back as the release tool writes it."""

from __future__ import annotations

from infra.config import record as record_section
from infra.settings import ColorPin
from tests.infra.config.cases import parsed, with_value

A = "apps.imageview"


def test_a_pin_entry_reads_back_as_the_same_pin() -> None:
    digest = "gcr.io/p/imageview@sha256:" + "a" * 64
    app = parsed(with_value(f"{A}.colors.blue.image", digest)).apps["imageview"]
    pin = ColorPin(color="blue", image=digest, config="c" * 64)
    entry = record_section.pin_entry(pin, secrets="d" * 64)
    assert entry["secrets"] == "d" * 64 and "secrets" not in record_section.pin_entry(pin)
    raw = with_value(f"{A}.colors.blue.image", digest)
    raw = with_value(f"{A}.release.live", entry, raw)
    raw = with_value(f"{A}.release.allowLiveChange", True, raw)
    assert parsed(raw).apps["imageview"].release.live == pin
    assert app.release.live is None
