"""Browser fixtures: Debian's Chromium driven by Playwright, against a JupyterLab and a Voila server started on loopback.

The servers run from a scratch copy of the notebooks (tutorials with their slow cells dropped, on the tiny random model via
REASONER_KIT_TUTORIAL_POLICY), on a free port with a token, with the repo's .venv kernel and no network.
"""
import json, os, re, shutil, signal, socket, subprocess, sys, time, secrets, urllib.request
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[2]
NBS = REPO/'nbs'
OUT = Path(__file__).resolve().parent/'out'        # screenshots (git-ignored)
CHROMIUM = '/usr/bin/chromium'
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync']
SLOW_FLAG = re.compile(r'^\s*#\s*\|\s*(slow|notest|cuda)\b', re.M)
SHOWS = re.compile(r'\b(\w+Panel|TreeView|compare\w*)\(')                # a cell that builds a panel or a tree view...
SHOWN = re.compile(r'^(\w+|display\(.*\)|compare\w*\(.*\))\s*$')              # ...and ends by showing it
FULL = os.environ.get('REASONER_KIT_BROWSER_FULL') == '1'   # 1: run whole tutorials (nbdev_test already runs them headless)

def _missing() -> str:
    "Why the browser tests cannot run here, or ''."
    try: import playwright.sync_api  # noqa: F401
    except ImportError: return 'playwright is not installed (make install puts it in .venv)'
    if not os.access(CHROMIUM, os.X_OK): return f'{CHROMIUM} is missing (apt-get install -y chromium)'
    return ''

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def small_copy(src:Path, dst:Path) -> Path:
    "Copy a notebook for a quick browser run: no slow/notest/cuda cells, nothing after its last panel or tree view."
    nb = json.loads(src.read_text())
    cells = []
    for c in nb['cells']:
        s = ''.join(c['source'])
        if c['cell_type'] == 'code':
            if SLOW_FLAG.search(s): continue
            c = c | {'outputs': [], 'execution_count': None}
        cells.append(c)
    if not FULL:  # up to the last cell that shows a panel or a tree view: what only a browser can check
        src = lambda c: ''.join(c['source']).strip()
        shows = [i for i, c in enumerate(cells) if c['cell_type'] == 'code' and SHOWS.search(src(c)) and SHOWN.match(src(c).splitlines()[-1])]
        if shows: cells = cells[:shows[-1] + 1]
    nb['cells'] = cells
    dst.parent.mkdir(parents=True, exist_ok=True); dst.write_text(json.dumps(nb, indent=1))
    return dst

def _env(home:Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(('JUPYTER', 'MPLBACKEND'))}  # the inline plot backend
    env.update(HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', HF_DATASETS_OFFLINE='1', REASONER_KIT_QUIET='1',
               REASONER_KIT_TUTORIAL_POLICY='tiny', REASONER_KIT_ENGINE='hf', OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false',
               PYTHONHASHSEED='0', JUPYTER_CONFIG_DIR=str(home/'config'), JUPYTER_DATA_DIR=str(home/'data'),
               JUPYTER_RUNTIME_DIR=str(home/'runtime'), JUPYTER_PATH=f"{REPO/'share'/'jupyter'}:{Path(sys.prefix)/'share'/'jupyter'}",
               JUPYTER_PLATFORM_DIRS='1', JUPYTERLAB_SETTINGS_DIR=str(home/'lab-settings'),
               JUPYTERLAB_WORKSPACES_DIR=str(home/'lab-workspaces'), IPYTHONDIR=str(home/'ipython'), PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    return env

class Server:
    "A Jupyter-family server on loopback, in its own process group so teardown kills it and its kernels."
    def __init__(self, cmd:list, cwd:Path, home:Path, ready_path:str, token:str, port:int, log:Path):
        self.url, self.token, self.log = f'http://127.0.0.1:{port}', token, log
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=_env(home), stdout=log.open('w'), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 90
        while True:
            if self.proc.poll() is not None: raise RuntimeError(f'{cmd[0]} exited: {log.read_text()[-3000:]}')
            try:
                urllib.request.urlopen(f'{self.url}{ready_path}?token={token}', timeout=2).read(); break
            except Exception:
                if time.time() > deadline: self.close(); raise RuntimeError(f'{cmd[0]} did not start: {log.read_text()[-3000:]}')
                time.sleep(0.5)

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try: self.proc.wait(10)
            except subprocess.TimeoutExpired: os.killpg(self.proc.pid, signal.SIGKILL); self.proc.wait()

@pytest.fixture(scope='session')
def workdir(tmp_path_factory):
    "Scratch tree mirroring the repo: nbs/tutorials/ with small copies, nbs/studio.ipynb, and benchmarks/ linked."
    if why := _missing(): pytest.skip(why)
    root = tmp_path_factory.mktemp('browser')
    for nb in sorted((NBS/'tutorials').glob('*.ipynb')): small_copy(nb, root/'nbs'/'tutorials'/nb.name)
    if (NBS/'studio.ipynb').exists(): small_copy(NBS/'studio.ipynb', root/'nbs'/'studio.ipynb')
    (root/'benchmarks').symlink_to(REPO/'benchmarks')
    (root/'home').mkdir()
    # JupyterLab's own settings for this run: no "get notified about news?" toast over the screenshots
    news = root/'home'/'lab-settings'/'@jupyterlab'/'apputils-extension'/'notification.jupyterlab-settings'
    news.parent.mkdir(parents=True); news.write_text(json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))
    return root

@pytest.fixture(scope='module')   # gone before the next module: no server outlives the browser tests
def lab(workdir):
    "A JupyterLab server on a free loopback port, its app exposed to the page as window.jupyterapp."
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={workdir}', '--LabApp.expose_app_in_browser=True',
           '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
           '--LanguageServerManager.autodetect=False', '--LabApp.extension_manager=readonly'] + ['--allow-root'] * (os.getuid() == 0)
    srv = Server(cmd, workdir, workdir/'home', '/api/status', token, port, workdir/'lab.log')
    yield srv
    srv.close()

@pytest.fixture(scope='module')   # gone before the next module: no server outlives the browser tests
def voila(workdir):
    "A Voila server rendering the studio notebook."
    if not (workdir/'nbs'/'studio.ipynb').exists(): pytest.fail('nbs/studio.ipynb is missing')
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, '-m', 'voila', 'nbs/studio.ipynb', '--no-browser', '--Voila.ip=127.0.0.1', f'--port={port}',
           f'--token={token}', '--show_tracebacks=True', '--template=studio',
           '--VoilaConfiguration.extension_denylist=jupyterlab-jupytext']   # as `make studio`: jupytext's lab extension fails in Voila
    srv = Server(cmd, workdir, workdir/'home', '/voila/static/voila.js', token, port, workdir/'voila.log')
    yield srv
    srv.close()

@pytest.fixture(scope='module')   # gone before the next module: no server outlives the browser tests
def chromium():
    if why := _missing(): pytest.skip(why)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()

@pytest.fixture
def page(chromium):
    "A fresh page whose JavaScript errors (console errors and uncaught exceptions) are collected in page.js_errors."
    ctx = chromium.new_context(viewport={'width': 1400, 'height': 1000})
    pg = ctx.new_page()
    pg.js_errors = []
    pg.on('console', lambda m: m.type == 'error' and pg.js_errors.append(f"console: {m.text} (at {m.location.get('url')})"))
    pg.on('requestfailed', lambda r: pg.js_errors.append(f'request failed: {r.url} ({r.failure})'))
    pg.on('pageerror', lambda e: pg.js_errors.append(f'exception: {e}'))
    yield pg
    ctx.close()

@pytest.fixture(scope='session')
def out_dir():
    OUT.mkdir(exist_ok=True); return OUT
