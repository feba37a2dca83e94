PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= mysql+pymysql://root@127.0.0.1:3306/dispersa_test

.PHONY: install demo services test test-unit up clean

$(BIN)/dispersa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,tools]'
	touch $@

install: $(BIN)/dispersa

demo: install
	$(BIN)/dispersa demo

services:
	bash .ci/ensure-services

test: install services
	$(BIN)/lint-imports
	$(BIN)/mypy
	DISPERSA_TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m tests.create_database
	DISPERSA_TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q -p no:cacheprovider

test-unit: install
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

# Local development: the Procfile's processes plus the STP sandbox, on MariaDB, RabbitMQ and Redis.
# Settable: DEV_DATABASE_URL, DEV_WEB_BIND, DEV_SANDBOX_PORT, DEV_RABBITMQ_VHOST, DEV_REDIS_URL,
# DEV_WORKER_METRICS_PORT, DEV_ENV_FILE (scripts/up.sh).
.dev/stp.pem: | install
	mkdir -p .dev
	$(BIN)/python -c "from adapters.bank.signer import generate_key_pair as g; p, q = g('dev'); \
	open('.dev/stp.pem', 'wb').write(p); open('.dev/stp.pub', 'wb').write(q)"

up: install services .dev/stp.pem
	bash scripts/up.sh

clean:
	rm -rf $(VENV) dispersa-demo.db* .dev
