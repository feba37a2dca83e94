PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= mysql+pymysql://root@127.0.0.1:3306/dispersa_test

.PHONY: install demo services test test-unit up clean

$(BIN)/dispersa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/dispersa

demo: install
	$(BIN)/dispersa demo

services:
	bash .ci/ensure-services

test: install services
	DISPERSA_TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m tests.create_database
	DISPERSA_TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q -p no:cacheprovider

test-unit: install
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

up: install services
	DISPERSA_BROKER=rabbitmq $(BIN)/dispersa db upgrade
	DISPERSA_BROKER=rabbitmq PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start

clean:
	rm -rf $(VENV) dispersa-demo.db* .e2e
