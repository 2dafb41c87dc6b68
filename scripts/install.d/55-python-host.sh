# shellcheck shell=bash
# The Python language host of the real tier (tests/real): our own, in Python
# (tools/python-host/host.py), since Pulumi's Go host cannot be had from the module proxy
# (tools/README.md). Writes two wrappers into .tools/bin (git-ignored) that the CLI finds on PATH:
#   pulumi-language-python         the language host, run by this checkout's .venv
#   pulumi-resource-pulumi-python  the dynamic-provider plugin: `python -u -m pulumi.dynamic`,
#                                  as Pulumi's own sdk/python/dist script runs it
# The wrappers name absolute paths of this checkout, so they are rewritten on every install
# (cheap: two small files). Sourced by scripts/install.sh.
python_host_bin=.tools/bin
python_host_root=$(pwd)
mkdir -p "$python_host_bin"
printf '#!/bin/sh\nexec "%s/.venv/bin/python" -u "%s/tools/python-host/host.py" "$@"\n' \
  "$python_host_root" "$python_host_root" >"$python_host_bin/pulumi-language-python"
printf '#!/bin/sh\nexec "%s/.venv/bin/python" -u -m pulumi.dynamic "$@"\n' \
  "$python_host_root" >"$python_host_bin/pulumi-resource-pulumi-python"
chmod +x "$python_host_bin/pulumi-language-python" "$python_host_bin/pulumi-resource-pulumi-python"
echo "python host: wrappers in $python_host_bin"
