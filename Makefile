# Heart Link: `make run` serves the app, `make test` runs the whole suite.
# Both set up everything they need on a fresh machine first.
#
# Dependencies: the direct ones are listed in pyproject.toml; requirements.txt (runtime:
# what a deployment installs) and requirements-dev.txt (runtime + tests, lint) pin every
# package, transitive ones included, with hashes, and `make deps` installs exactly those.
# After changing pyproject.toml's dependencies, run `make lock` and commit both files.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := heartlink
# Parallel test workers (pytest-xdist); `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 3

.PHONY: run test test-gevent test-fast lint lint-js lock setup deps frontend translations messages db browser bench bench-deps clean

run: setup db
	HEARTLINK_ENV=$${HEARTLINK_ENV:-development} $(BIN)/flask demo
	HEARTLINK_ENV=$${HEARTLINK_ENV:-development} $(BIN)/python app.py

# Everything: the page's unit tests (node), in-process tests, live servers, the browser,
# load and fuzz. CI runs this.
# Browser tests share one worker (--dist loadgroup), so two Chromiums never race for the CPU.
test: setup browser
	node --test tests/js/
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Every test that starts real servers, again with the workers under gevent (CI runs both).
test-gevent: setup browser
	HEARTLINK_ASYNC_MODE=gevent $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup -m live $(PYTEST_ARGS)

# The in-process tier: the page's unit tests and the Python tests without a server process or browser.
test-fast: setup
	node --test tests/js/
	$(BIN)/python -m pytest -m "not live and not browser" $(PYTEST_ARGS)

# ruff (pyflakes, pycodestyle, bugbear, import order, pyupgrade) and eslint's recommended rules.
lint: deps lint-js
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

lock: deps
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
		--no-emit-find-links -o requirements.txt pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
		--no-emit-find-links --extra dev -o requirements-dev.txt pyproject.toml

setup: deps frontend translations

deps: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-dev.txt
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

# eslint's recommended rules on the page's scripts, their node tests (node --test tests/js/), and the
# socket.io-client person of the transport tests (tests/clients).
lint-js: frontend
	npx --no-install eslint static/js tests/js tests/clients eslint.config.mjs

# Browser tests drive Debian's Chromium (Playwright cannot download its own here); the
# deployment test runs the shipped nginx config with Debian's nginx.
browser:
	@test -x /usr/bin/chromium -a -x /usr/sbin/nginx || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium nginx-light; \
		else echo "missing: run 'sudo apt-get install -y chromium nginx-light' (those tests will skip)"; fi; }

# The benchmark (docs/performance.md): the real server over the wire, driven by Node clients,
# e.g. make bench BENCH_ARGS="--pairs 500 --rate 1 --seconds 30 --compare"; the moderation queue
# (a seeded database, the console's first page and decisions over HTTP): BENCH_ARGS="--moderation";
# a 5,000-message chat in headless Chromium (bench/chat_browser.py): BENCH_ARGS="--chat-browser".
BENCH_ARGS ?=
bench: setup bench-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-deps: bench/node_modules/.package-lock.json
bench/node_modules/.package-lock.json: bench/package.json bench/package-lock.json
	npm ci --prefix bench --no-audit --no-fund

clean:
	rm -rf $(VENV) node_modules bench/node_modules
