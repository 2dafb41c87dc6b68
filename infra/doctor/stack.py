"""The doctor's checks of the stack: its file as the Pulumi CLI checks it before the program runs,
its config as the program checks it (an offline render), and its app secrets (set, encrypted)
with a secrets provider that can decrypt them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.config import secrets as secrets_section
from infra.doctor.findings import Checks, Finding
from infra.offline import program, stackfile
from infra.settings import ConfigError

_ENV_PHRASE = "PULUMI_CONFIG_PASSPHRASE"
_ENV_PHRASE_FILE = "PULUMI_CONFIG_PASSPHRASE_FILE"
#: Stack file keys that name its secrets provider (``pulumi stack init --secrets-provider``).
_PROVIDER_KEYS = frozenset({"encryptionsalt", "secretsprovider", "encryptedkey"})


class Stack(Checks):
    """The checks of the stack ``name``; ``env`` is where a passphrase provider finds its
    passphrase."""

    def __init__(
        self,
        name: str,
        *,
        env: Mapping[str, str] | None = None,
        findings: list[Finding] | None = None,
    ) -> None:
        super().__init__(findings)
        self.name = name
        self.env = dict(os.environ if env is None else env)

    def cli_checks(self) -> stackfile.StackConfig | None:
        try:
            merged = stackfile.merged(self.name)
        except (stackfile.EncodingError, stackfile.DuplicateKeyError) as err:
            # Refused by the tools' reader; the Pulumi CLI may read such a file its own way.
            self.add("MISSING", "Pulumi CLI checks", str(err))
            return None
        except stackfile.StackFileError as err:
            self.add(
                "MISSING",
                "Pulumi CLI checks",
                f"pulumi up would stop before the program runs: {err}",
            )
            return None
        self.add(
            "ok",
            "Pulumi CLI checks",
            f"Pulumi.yaml and {stackfile.stack_file(self.name).name} pass the CLI's pre-run checks",
        )
        return merged

    def config(self, merged: stackfile.StackConfig) -> program.Render | None:
        """The program's offline render of the stack, or ``None`` when it refuses the config."""
        try:
            render = program.run(merged)
        except ConfigError as err:
            self.add(
                "MISSING",
                "stack config",
                f"pulumi up would stop before creating anything: {err}",
            )
            return None
        self.add(
            "ok",
            "stack config",
            f"the program accepts it (offline render: {len(render.resources)} resources)",
        )
        return render

    def secrets(self) -> None:
        """The values of each declared app Secret: set and encrypted, and a provider that
        decrypts them."""
        try:
            document = stackfile.stack_document(self.name)
        except stackfile.StackFileError:
            self.add("not checked", "secrets", "needs a stack file it can read (see above)")
            return
        config = stackfile.config_of(document)
        declared = secrets_section.declared_keys(config)
        if declared:
            self._secret_values(config, declared)
        else:
            self.add("ok", "secrets", "no app declares a Secret")
        if declared or _PROVIDER_KEYS & set(document):
            # `pulumi up` opens the stack's secrets provider whether or not a value is secret.
            self._secrets_provider(document)

    def _secret_values(
        self, config: Mapping[str, Any], declared: Mapping[str, tuple[str, ...]]
    ) -> None:
        unset: list[tuple[str, str]] = []
        plain: list[tuple[str, str]] = []
        for app, keys in declared.items():
            for key in keys:
                value = secrets_section.stored(config, app, key)
                if value is None:
                    unset.append((app, key))
                elif not stackfile.has_secure(value):
                    plain.append((app, key))
        stack = f"--stack {self.name}"
        if plain:
            app, key = plain[0]
            self.add(
                "MISSING",
                "secrets",
                f"secrets.{app}.{key} is plaintext in the stack file; remove it (pulumi config rm "
                f"--path '{secrets_section.KEY}.{app}.{key}' {stack}), then set it encrypted: "
                f"{secrets_section.set_command(app, key)} {stack}",
            )
        elif unset:
            app, key = unset[0]
            more = f" (and {len(unset) - 1} more)" if len(unset) > 1 else ""
            self.add(
                "MISSING",
                "secrets",
                f"secrets.{app}.{key} is not set{more}; run: "
                f"{secrets_section.set_command(app, key)} {stack}",
            )
        else:
            self.add("ok", "secrets", f"{sum(map(len, declared.values()))} set, encrypted")

    def _secrets_provider(self, document: Mapping[str, Any]) -> None:
        if "encryptionsalt" in document:
            self._passphrase()
        elif "secretsprovider" in document or "encryptedkey" in document:
            self.add(
                "not checked",
                "secrets provider",
                f"{document.get('secretsprovider') or 'a key service'}: decrypting needs access "
                "to the key",
            )
        else:
            self.add(
                "MISSING",
                "secrets provider",
                f"the stack file has none; create the stack first: pulumi stack init {self.name} "
                "--secrets-provider passphrase (or gcpkms://projects/P/locations/L/keyRings/R/"
                "cryptoKeys/K)",
            )

    def _passphrase(self) -> None:
        """A passphrase provider reads ``PULUMI_CONFIG_PASSPHRASE``, set even if empty, else the
        file ``PULUMI_CONFIG_PASSPHRASE_FILE`` names (pulumi/pulumi,
        pkg/secrets/passphrase/manager.go at ec7e8c0, ``os.LookupEnv``)."""
        file = self.env.get(_ENV_PHRASE_FILE)
        if _ENV_PHRASE in self.env:
            self.add("ok", "secrets provider", f"passphrase, {_ENV_PHRASE} is set")
        elif file is not None and not (Path(file).is_file() and os.access(file, os.R_OK)):
            self.add(
                "MISSING",
                "secrets provider",
                f"passphrase: {_ENV_PHRASE_FILE}={file} is not a file it can read; point it at "
                f"the file holding the passphrase, or export {_ENV_PHRASE}",
            )
        elif file is not None:
            self.add("ok", "secrets provider", f"passphrase, read from {_ENV_PHRASE_FILE}")
        else:
            self.add(
                "MISSING",
                "secrets provider",
                f"the stack's secrets provider is a passphrase (encryptionsalt: in "
                f"{stackfile.stack_file(self.name).name}) and neither {_ENV_PHRASE} nor "
                f"{_ENV_PHRASE_FILE} is set, so pulumi up stops for it; export one of them",
            )
