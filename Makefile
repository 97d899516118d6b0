# The two commands of the README. Both create (or reuse) the local virtual environment .venv.
#   make demo            - release the assignment and grade the bundled sample class offline
#   make test            - run the whole test suite
# For instructors:
#   make student-wheel   - build the student package's wheel next to the source notebook, so
#                          `nbgrader generate_assignment` ships it with the release (README)
VENV    ?= .venv
PYTHON  ?= python3
STAMP   := $(VENV)/.installed
RUN     := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/python
# The grader: the student package plus the grading stack ([grader]), the grader's own
# TensorFlow (tensorflow-cpu, [grader-tf]) and the test tools ([test]).
EXTRAS  := grader,grader-tf,test

.PHONY: demo test setup student-wheel
demo: $(STAMP)
	$(RUN) -m autograder demo

test: $(STAMP)
	$(RUN) -m pytest

setup: $(STAMP)

student-wheel: $(STAMP)
	rm -f source/nn_basics/nn_basics_autograder-*.whl
	$(VENV)/bin/pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir source/nn_basics .

# Reinstall when the dependencies or the system package list change.
$(STAMP): pyproject.toml .ci/system-packages.sh
	bash .ci/system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	touch $(STAMP)
