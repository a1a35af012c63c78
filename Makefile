# Heart Link: `make run` serves the app, `make test` runs the whole suite.
# Both set up everything they need on a fresh machine first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := heartlink

.PHONY: run test setup deps frontend translations messages db browser bench bench-deps clean lint-js

run: setup db
	HEARTLINK_ENV=$${HEARTLINK_ENV:-development} $(BIN)/flask demo
	HEARTLINK_ENV=$${HEARTLINK_ENV:-development} $(BIN)/python app.py

test: setup browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: deps frontend translations

deps: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

frontend: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

translations: deps
	$(BIN)/pybabel compile --use-fuzzy -d translations -f >/dev/null

# After changing user-visible strings: refresh the catalogue template and the translations.
messages: deps
	$(BIN)/pybabel extract -F babel.cfg -k _l --ignore-dirs=".* ._ node_modules .venv" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-wrap --ignore-obsolete

db: deps
	HEARTLINK_ENV=$${HEARTLINK_ENV:-development} $(BIN)/flask db upgrade

# eslint's recommended rules on the page's scripts and their node tests (node --test tests/js/).
lint-js: frontend
	npx --no-install eslint static/js tests/js eslint.config.mjs

# Browser tests drive Debian's Chromium (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else echo "chromium missing: run 'sudo apt-get install -y chromium' (browser tests will skip)"; fi; }

# The benchmark (docs/performance.md): the real server over the wire, driven by Node clients,
# e.g. make bench BENCH_ARGS="--pairs 500 --rate 1 --seconds 30 --compare".
BENCH_ARGS ?=
bench: setup bench-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-deps: bench/node_modules/.package-lock.json
bench/node_modules/.package-lock.json: bench/package.json bench/package-lock.json
	npm ci --prefix bench --no-audit --no-fund

clean:
	rm -rf $(VENV) node_modules bench/node_modules
