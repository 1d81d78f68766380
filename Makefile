# Developer and CI commands. `make test` is what CI runs (.ci/run); see README "Testing".
# Everything installs itself into .venv (python3) and, for the ansible-core 2.21 pass, .venv-3.12.

PYTHON ?= python3
VENV   ?= .venv
PLAYBOOK  ?= playbooks/user_driven_join.yml
INVENTORY ?= playbooks/inventory/example/hosts.yml
DEMO_ARGS ?=

export PYTHON
export VENV := $(abspath $(VENV))

.PHONY: help test venv lint docs sanity units emulator integration demo bench clean

help:
	@echo "make test         everything CI runs: lint, docs, sanity, units, emulator, integration (+ 2.21 pass)"
	@echo "make lint         ansible-lint --profile production"
	@echo "make docs         build + install the collection, ansible-doc every module and role"
	@echo "make sanity       ansible-test sanity in a staged copy"
	@echo "make units        pytest tests/unit"
	@echo "make emulator     pytest tests/graph_emulator/tests"
	@echo "make integration  pytest tests/integration (real ansible-playbook against the emulator)"
	@echo "make demo         run $(PLAYBOOK) twice against a fresh emulator (PLAYBOOK=, INVENTORY=, DEMO_ARGS=--best-case)"
	@echo "make bench        run every bench/*.py"
	@echo "make clean        remove .venv*, .ansible, .demo, .bench, tests/output"

test:
	@bash .ci/test.sh all

venv lint docs sanity units emulator integration:
	@bash .ci/test.sh $@

demo:
	@bash .ci/test.sh venv >/dev/null
	@$(VENV)/bin/python .ci/demo.py --playbook $(PLAYBOOK) $(if $(INVENTORY),--inventory $(INVENTORY)) $(DEMO_ARGS)

bench:
	@bash .ci/test.sh venv >/dev/null
	@bash .ci/bench.sh $(VENV)/bin/python

clean:
	rm -rf .venv .venv-3.12 .ansible .demo .bench tests/output
