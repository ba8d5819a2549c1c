# Quickstart on a fresh machine: `make plan ENV=dev` and `make test` do all set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ENV    ?= dev
STAMP  := $(VENV)/.installed

.PHONY: install setup plan place check test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,ansible]'
	touch $(STAMP)

install: $(STAMP)

## Solve placements (writes stacks/placements/$(ENV).json when the config changed), then plan offline.
plan: $(STAMP)
	$(BIN)/newinfra place $(ENV)
	$(BIN)/newinfra plan $(ENV)

place: $(STAMP)
	$(BIN)/newinfra place $(ENV)

check: $(STAMP)
	$(BIN)/newinfra check $(ENV)

## What the slow real-target tests need from the machine (debootstrap, Ubuntu's archive keyring, promtool): installed
## once with apt-get as root (sudo when not root), then a no-op that costs a few milliseconds.
setup:
	@if [ "$$(id -u)" = 0 ]; then ansible/ci-setup.sh; \
	elif command -v sudo >/dev/null; then sudo ansible/ci-setup.sh; \
	else echo "make setup: needs root (or sudo) to install debootstrap and promtool: run ansible/ci-setup.sh as root" >&2; exit 2; fi

## Everything, including the slow real-target tests (chroot Ansible targets, moto server, promtool rule tests).
test: $(STAMP) setup
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check newinfra stacks components cost_model policies tests benchmarks ansible/stack_inventory.py
	@# mypy reads the package as the wheel lays it out (pyproject [tool.mypy]); errors name build/typecheck paths.
	rm -rf build/typecheck && mkdir -p build/typecheck/newinfra
	cd build/typecheck/newinfra && ln -s ../../../newinfra/* . && ln -s ../../../components ../../../cost_model ../../../policies .
	$(BIN)/mypy
	cd ansible && ../$(BIN)/ansible-playbook --syntax-check -i inventory/localhost.yml playbooks/*.yml
	cd ansible && ../$(BIN)/ansible-lint --offline --profile production

bench: $(STAMP)
	$(BIN)/python benchmarks/plan_bench.py
	$(BIN)/python benchmarks/cost_model_bench.py
	$(BIN)/python benchmarks/policy_bench.py
	$(BIN)/python benchmarks/cost_bench.py
	$(BIN)/python benchmarks/report_bench.py

clean:
	rm -rf build $(VENV)
