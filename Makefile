# The two commands of the README. Both create (or reuse) the local virtual environment .venv.
#   make demo   - release the assignment and grade the bundled sample class offline
#   make test   - run the whole test suite
VENV    ?= .venv
PYTHON  ?= python3
STAMP   := $(VENV)/.installed
RUN     := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/python

.PHONY: demo test setup
demo: $(STAMP)
	$(RUN) -m autograder demo

test: $(STAMP)
	$(RUN) -m pytest

setup: $(STAMP)

# Reinstall when the dependencies or the system package list change.
$(STAMP): pyproject.toml .ci/system-packages.sh
	bash .ci/system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)
