# Everyday commands. `make help` lists them. Offline targets need only `make setup`; preview and
# up need the Pulumi CLI, a backend login and cloud credentials (see docs/delivery.md).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PY      := .venv/bin/python
# The Pulumi CLI every target runs: $PULUMI as the tools read it (infra/pulumi_cli.py), else pulumi.
PULUMI  ?= pulumi
TOOLS   := .venv-tools/bin
OUT     := out
# The policy pack a preview/up runs: CI passes the base branch's copy to judge a pull request.
POLICY  := policy
STACKS  := $(patsubst stacks/Pulumi.%.yaml,%,$(wildcard stacks/Pulumi.*.yaml))
# Stacks on the local platform are scanned with the local checkov config (no registry digests).
LOCAL_STACKS := $(patsubst stacks/Pulumi.%.yaml,%,$(shell grep -l 'platform: *local' stacks/Pulumi.*.yaml 2>/dev/null))
DOCKERFILES  := $(shell find apps -name Dockerfile -not -path '*/node_modules/*' 2>/dev/null | sort)
# Every shell script (tests/delivery/test_shell.py finds the same set and checks it too).
SHELL_SCRIPTS := .ci/run $(shell find scripts -name '*.sh' 2>/dev/null | sort)
# Stacks a target works on: STACK=name, or every stack. NO_RENDER=1: policy and scan use the
# renders already in $(OUT) (e.g. one made with --set overrides).
SELECTED = $(if $(STACK),$(STACK),$(STACKS))
CHECKOV  = BC_SKIP_MAPPING=TRUE $(TOOLS)/checkov --quiet --compact

define need_stack
$(if $(STACK),,$(error STACK is required: make $@ STACK=<one of: $(STACKS)>))
$(if $(filter $(STACK),$(STACKS)),,$(error unknown STACK '$(STACK)': stacks are $(STACKS)))
endef

# In the recipe, not at parse time: `make -n` still shows what a target would run.
define need_venv
@test -x $(PY) || { echo "error: $(PY) is missing: run make setup first (it creates .venv)" >&2; exit 2; }
endef

define need_pulumi
$(if $(shell command -v $(PULUMI)),,$(error the Pulumi CLI ($(PULUMI)) is not installed: https://www.pulumi.com/docs/install/))
endef

.PHONY: help setup lock runtime-venv policy-venv test lint render doctor policy scan preview up cluster clean

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'
	@echo "  stacks: $(STACKS)"

setup: ## project venv, tool venvs, policy pack venv, system packages (scripts/install.sh)
	bash scripts/install.sh

lock: ## regenerate the hash-pinned locks from the .in ranges (ARGS=--upgrade moves every pin)
	bash scripts/lock.sh $(ARGS)

runtime-venv: ## just the program's runtime venv (.venv from the requirements.txt lock), for deploy jobs
	test -x $(PY) || python3 -m venv .venv
	.venv/bin/pip install -q --require-hashes -r requirements.txt

policy-venv: ## the CrossGuard pack's own venv ($(POLICY)/.venv from its lock; POLICY=dir for another copy)
	test -x $(POLICY)/.venv/bin/python || python3 -m venv $(POLICY)/.venv
	$(POLICY)/.venv/bin/pip install -q --require-hashes -r $(POLICY)/requirements.txt

test: ## the test suite (pytest; ARGS=... passes arguments)
	$(PY) -m pytest $(ARGS)

lint: ## ruff, ruff format --check, mypy, import-linter's layer contracts, actionlint, zizmor, shellcheck
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports
	$(TOOLS)/actionlint
	$(TOOLS)/zizmor --offline --no-config --no-progress .github
	shellcheck -x $(SHELL_SCRIPTS)

doctor: ## what `pulumi up` on STACK still needs on this machine and in the stack file
	$(need_stack)
	$(need_venv)
	$(PY) -m infra.doctor --stack $(STACK)

render: ## offline render of STACK (or every stack) into out/<stack>
	$(if $(STACK),$(need_stack))
	@for s in $(SELECTED); do $(PY) -m infra.offline.render --stack $$s --out $(OUT)/$$s; done

policy: $(if $(NO_RENDER),,render) ## every policy rule over the offline render of STACK (or every stack)
	$(PY) -m policy.offline $(addprefix $(OUT)/,$(SELECTED))

scan: $(if $(NO_RENDER),,render) ## checkov over the rendered manifests of STACK (or every stack) and the Dockerfiles
	@for s in $(SELECTED); do \
	  cfg=.checkov.yaml; case " $(LOCAL_STACKS) " in *" $$s "*) cfg=.checkov-local.yaml;; esac; \
	  echo "== checkov: $$s manifests ($$cfg)"; \
	  $(CHECKOV) --config-file $$cfg --framework kubernetes -d $(OUT)/$$s/manifests; \
	done
	@echo "== checkov: Dockerfiles"
	$(CHECKOV) --config-file .checkov.yaml --framework dockerfile $(addprefix -f ,$(DOCKERFILES))

preview: policy-venv ## pulumi preview of STACK with the policy pack
	$(need_stack)
	$(need_pulumi)
	$(PULUMI) preview --stack $(STACK) --policy-pack $(POLICY) --diff --refresh

up: policy-venv ## pulumi up of STACK: refresh first, policy pack on
	$(need_stack)
	$(need_pulumi)
	$(PULUMI) up --stack $(STACK) --refresh --policy-pack $(POLICY)

cluster: ## a Kubernetes control plane on 127.0.0.1 (tests/real/cluster.py; needs make setup): prints its kubeconfig, Ctrl-C stops it
	$(PY) -m tests.real.cluster

clean: ## remove offline renders
	rm -rf $(OUT)
