# Every target sets up its own virtual environment first; nothing outside .venv is assumed
# beyond python3 >= 3.11 (and, for the browser tests, Debian's chromium, installed when missing).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
READY  := $(VENV)/.compiled
DATA   ?= data/sample
OUT    ?= reports
JOBS   ?= 2

.PHONY: setup report test test-fast lab app bench bench-browser sample chromium cjk-font clean

setup: $(READY)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,dask,bench,app]'
	touch $@

# An editable install leaves perfkit uncompiled; where PYTHONDONTWRITEBYTECODE is set (containers,
# CI) every report kernel would compile it again, about 0.05 s of each account's page. Compiled
# again whenever a source file changes.
$(READY): $(STAMP) $(wildcard perfkit/*.py perfkit/*/*.py)
	$(PY) -m compileall -q perfkit
	touch $@

## make report: render the weekly report of every sample account into reports/
report: $(READY)
	$(VENV)/bin/perfkit check $(DATA)
	$(VENV)/bin/perfkit report $(DATA) --out $(OUT) --jobs $(JOBS)

## make test: every test, the browser ones included
test: $(READY) chromium cjk-font
	$(PY) -m pytest -q

test-fast: $(READY)
	$(PY) -m pytest -q -m "not browser and not slow"

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The browser tests check that Chinese labels render as characters, not boxes: a CJK font is needed.
cjk-font:
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  echo "installing Debian's fonts-wqy-microhei (Chinese glyphs) for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null; }

## make lab: JupyterLab on the project's environment, the explorer open in a working copy.
## The working copy (notebooks/work/, ignored by git) keeps your outputs; the tracked notebook
## stays clean. A newer tracked notebook replaces the copy, keeping the old one as explore.ipynb.~N~.
WORK     ?= notebooks/work
LAB_ARGS ?=
APP_ARGS ?=
$(WORK)/explore.ipynb: notebooks/explore.ipynb
	mkdir -p $(@D)
	cp --backup=numbered $< $@
	touch $@

# Jupyter refuses to run as root unless told; containers often run as root.
AS_ROOT  := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

# A saved widget output would show "model not found" when the copy is opened again: the saved
# copy says how to open the explorer again instead (perfkit/explore/saving.py).
SAVE_HOOK := --ContentsManager.pre_save_hook=perfkit.explore.saving.without_widget_views

lab: $(READY) $(WORK)/explore.ipynb
	$(VENV)/bin/jupyter lab $(AS_ROOT) $(SAVE_HOOK) $(LAB_ARGS) $(WORK)/explore.ipynb

## make app: the explorer without code, served by Voila (runs the tracked notebook, never saves it),
## with app/voila/templates/perfkit: Voila's lab template without its CDN links, so it works offline
app: $(READY)
	JUPYTER_PATH=$(CURDIR)/app $(VENV)/bin/voila --template=perfkit $(APP_ARGS) notebooks/explore.ipynb

## make bench: the benchmarks (not part of make test)
bench: $(READY)
	$(PY) benchmarks/run.py

## make bench-browser: the explorer's timings in Chromium (JupyterLab, 1 M-order account, every
## chart open), median of RUNS runs beside the peer (plain plotly figures); about 3 minutes
RUNS ?= 5
bench-browser: $(READY) chromium
	$(PY) benchmarks/browser.py --runs $(RUNS)

sample: $(READY)
	$(VENV)/bin/perfkit sample $(DATA) --replace

clean:
	rm -rf $(VENV) .pytest_cache
