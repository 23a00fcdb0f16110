# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench clean catalog kit

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m intake.demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy keys intake review

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Source-page languages (intake/i18n.py): extract the messages, add any new language, update
# every catalogue, then compile the .mo files (kept in git, so a fresh clone runs as it is).
LOCALES := es fr de ru ar zh_Hans
TRANSLATIONS := intake/translations
BABEL_EXTRACT := $(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --add-location=file \
	--sort-by-file -w 100 --project=Cairn

catalog: $(STAMP)
	mkdir -p build
	$(BABEL_EXTRACT) -o build/messages.pot .
	for locale in $(LOCALES); do \
		test -f $(TRANSLATIONS)/$$locale/LC_MESSAGES/messages.po || \
		$(BIN)/pybabel init -i build/messages.pot -d $(TRANSLATIONS) -l $$locale -w 100; \
	done
	$(BIN)/pybabel update -i build/messages.pot -d $(TRANSLATIONS) -w 100 --ignore-obsolete \
		--ignore-pot-creation-date
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

bench: $(STAMP)
	$(BIN)/python bench/crypto.py

# The review side for an offline laptop, as build/kit/ (docs/reviewers.md). Signed with the
# release key in $KIT_SIGNING_KEY, or with a throwaway key, said loudly.
kit: $(STAMP)
	$(BIN)/python kit/build.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
