# OneStop: `make up` runs the whole suite with demo data, `make test` runs every test.
SHELL := /bin/bash
PY := .venv/bin/python
KAFKA := deploy/local/kafka/kafka.sh
PG := deploy/local/postgres/pg.sh
PROM := deploy/local/prometheus/prom.sh
STACK := deploy/local/stack.sh
S3PROXY := deploy/local/s3proxy/s3proxy.sh
DBS := onestop_intake onestop_processing onestop_notifications onestop_reporting
# `make test` has a broker of its own (port 19092, state in .run/test/), so test events never reach the
# stack `make up` runs; both share the one PostgreSQL cluster (tests create their own databases).
TEST_KAFKA := KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093 KAFKA_SASL_PORT=19094 ONESTOP_RUN_DIR=$(CURDIR)/.run/test $(KAFKA)
TEST_ENV := ONESTOP_KAFKA_BOOTSTRAP=localhost:19092
# The tests' S3 server (documents, libs/storage): S3Proxy on 19000, state in .run/test/.
TEST_S3PROXY := S3PROXY_PORT=19000 ONESTOP_RUN_DIR=$(CURDIR)/.run/test $(S3PROXY)

.PHONY: help bootstrap infra test-infra up down test test-fast lint asyncapi bench status k8s

help:
	@echo "make up      start Kafka, PostgreSQL, Prometheus, the four services and the console with demo data"
	@echo "make down    stop everything make up started"
	@echo "make test    install what is missing, start Kafka and PostgreSQL, run lint and all tests"

bootstrap:
	@deploy/local/bootstrap.sh

infra: bootstrap
	@$(KAFKA) start
	@$(PG) install && $(PG) start && $(PG) createdbs $(DBS)
	@$(PROM) install

up: infra
	@$(PROM) start
	@$(PY) deploy/local/dev_ca.py
	@$(STACK) up
	@$(PY) deploy/local/seed.py
	@echo
	@echo "OneStop is up:"
	@$(PY) deploy/local/demo_accounts.py
	@echo "  intake         http://127.0.0.1:8001/docs   (desk API, public look-up)"
	@echo "  processing     http://127.0.0.1:8002/docs   (workflow)"
	@echo "  notifications  http://127.0.0.1:8003/docs   (SMS / e-mail notices)"
	@echo "  reporting      http://127.0.0.1:8004/docs   (Form 06, indicators)"
	@echo "  prometheus     http://127.0.0.1:9090        kafka localhost:9092   logs .run/logs/"

down:
	@$(STACK) down || true
	@$(TEST_KAFKA) stop || true
	@$(TEST_S3PROXY) stop || true
	@$(S3PROXY) stop || true
	@$(PROM) stop || true
	@$(KAFKA) stop || true
	@$(PG) stop || true

status:
	@$(STACK) status; $(KAFKA) status || true; $(PG) status || true

lint: bootstrap
	@.venv/bin/ruff check libs services onestop tests deploy bench
	@.venv/bin/mypy libs services onestop

test-infra: bootstrap
	@$(TEST_KAFKA) start
	@$(TEST_S3PROXY) start
	@$(PG) install && $(PG) start && $(PG) createdbs $(DBS)  # also creates the onestop role the tests use
	@$(PROM) install

test: test-infra lint
	@$(TEST_ENV) $(PY) -m pytest -q -p no:cacheprovider

test-fast: bootstrap
	@$(PY) -m pytest -q -p no:cacheprovider tests/unit tests/contract

asyncapi: bootstrap
	@$(PY) -m onestop.asyncapi --write

# Benchmarks use the test broker too: their tens of thousands of synthetic dossiers must not reach the
# topics `make up`'s stack consumes.
bench: test-infra
	@$(TEST_ENV) $(PY) bench/run.py $(ARGS)

k8s: bootstrap
	@$(PY) deploy/k8s/generate.py
