# Thin wrappers around the kit's commands. Everything runs inside .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PRESET ?= laptop
UNIT   ?= all
JOBS   ?= 1

.PHONY: venv sandbox kernel lab test test-fast run release bench grade doctor nbval clean

venv: $(VENV)/.installed

# Re-installs whenever the dependencies change. constraints.txt pins the tested versions.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $@

# Grading runs student code under bubblewrap: installed from Debian's packages when this runs as
# root with apt-get (CI, course servers); elsewhere it says what to install.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap; }; \
	  else echo "bubblewrap (bwrap) is missing; grading needs it: sudo apt-get install bubblewrap"; fi; }

kernel: venv
	$(BIN)/python -m ipykernel install --user --name metarl-course --display-name "Python (metarl-course)"

lab: venv kernel
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks

test: venv sandbox
	$(BIN)/python -m pytest

test-fast: venv sandbox
	$(BIN)/python -m pytest -m "not slow"

run: venv
	$(BIN)/metarl-course run $(UNIT) --preset $(PRESET)

release: venv
	$(BIN)/metarl-course release

# make bench NAME=maml-nav PRESET=paper   (make bench NAME=list shows them)
bench: venv
	@test -n "$(NAME)" || { echo "usage: make bench NAME=<benchmark> [PRESET=laptop]  (NAME=list shows them)"; exit 2; }
	$(BIN)/metarl-course bench $(NAME) --preset $(PRESET)

# make grade UNIT=01 SUBMISSIONS=submitted OUT=grades/01 [JOBS=4]
grade: venv sandbox
	@test -n "$(SUBMISSIONS)" -a -n "$(OUT)" -a "$(UNIT)" != all || { \
	  echo "usage: make grade UNIT=<unit> SUBMISSIONS=<dir> OUT=<dir> [JOBS=1]"; exit 2; }
	$(BIN)/metarl-course grade $(UNIT) --submissions $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS)

doctor: venv
	$(BIN)/metarl-course doctor

nbval: venv
	METARL_PRESET=ci $(BIN)/python -m pytest --nbval-lax solutions/

clean:
	rm -rf build .pytest_cache
