"""What the browser tests do on a page: run a notebook in JupyterLab, check what it shows, drive a panel and a tree view."""
import json, re
from pathlib import Path

REPR = re.compile(r'\b(VBox|HBox|Box|GridBox|Tab|Accordion|Output|HTML|Button|IntSlider|FloatSlider|Dropdown|Play|'
                  r'IntProgress|FloatProgress|Label|Text|IntText|TreeView|\w+Panel)\((children|value|description|layout|outputs)=')

def page_problems(page) -> list:
    "Everything on the page that means a widget failed: error banners, widgets shown as their text repr, JS errors."
    outs = page.query_selector_all('.jp-OutputArea-output')  # outputs only: the code cells may well say `Button(description=`
    text = '\n'.join(o.inner_text() for o in outs) if outs else page.inner_text('body')
    bad = [f'"Error displaying widget" on the page' for _ in range(text.count('Error displaying widget'))][:1]
    bad += [f'widget shown as its text repr: {m.group(0)}...' for m in REPR.finditer(text)][:3]
    return bad + list(page.js_errors)

def open_notebook(page, lab, rel:str, timeout_s:float=120):
    "Open `rel` in JupyterLab and wait until its kernel is idle (fails if a kernel-selection dialog appears)."
    page.goto(f'{lab.url}/lab/tree/{rel}?reset&token={lab.token}')   # reset: no tabs restored from an earlier test
    page.wait_for_function('() => window.jupyterapp && window.jupyterapp.shell.currentWidget && '
                           'window.jupyterapp.shell.currentWidget.sessionContext', timeout=timeout_s * 1000)
    page.wait_for_function("""() => {
        if (document.querySelector('.jp-Dialog')) return true;
        const s = window.jupyterapp.shell.currentWidget.sessionContext;
        return s.session && s.session.kernel && s.session.kernel.status === 'idle'; }""", timeout=timeout_s * 1000)
    dialog = page.query_selector('.jp-Dialog')
    assert dialog is None, f'{rel}: JupyterLab asks to select a kernel (the notebook has no kernelspec): {dialog.inner_text()[:200]}'
    return page.evaluate_handle('() => window.jupyterapp.shell.currentWidget.node').as_element()   # this notebook's panel

def shutdown_kernel(page):
    "Shut the open notebook's kernel down (one kernel at a time on a 2-core machine)."
    try: page.evaluate('() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()')
    except Exception: pass

def run_all(page, rel:str, workdir:Path, timeout_s:float=240) -> dict:
    "Run every cell in the browser, save, and return the saved notebook (fails on a cell error or an unrun cell)."
    page.evaluate("""() => { window.__rk_done = null;
        window.jupyterapp.commands.execute('notebook:run-all-cells').then(r => window.__rk_done = 'ok:' + r,
                                                                      e => window.__rk_done = 'error:' + e); }""")
    page.wait_for_function('() => window.__rk_done !== null', timeout=timeout_s * 1000)
    done = page.evaluate('() => window.__rk_done')
    status = page.evaluate('() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status')
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30000)
    nb = json.loads((workdir/rel).read_text())
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'code': continue
        for o in c.get('outputs', []):
            assert o['output_type'] != 'error', f"{rel}: cell {i} failed: {o['ename']}: {o['evalue']}\n{''.join(c['source'])[:300]}"
        assert c.get('execution_count') or not ''.join(c['source']).strip(), f"{rel}: cell {i} did not run (run all: {done}, kernel {status})"
    return nb

SMALL = dict(problems=2, samples=2, budget=2, max_tokens=16, requests=2, rounds=1)   # a quick run on the tiny model

def set_slider(page, panel, name:str, value) -> bool:
    "Type `value` into the readout of the panel's slider labelled `name` (as a user can); False if there is none."
    for sl in panel.query_selector_all('.widget-slider'):
        lab = sl.query_selector('.widget-label')
        if lab is None or lab.inner_text().strip() != name: continue
        ro = sl.query_selector('.widget-readout')
        ro.click(); page.keyboard.press('Control+A'); page.keyboard.type(str(value)); page.keyboard.press('Enter')
        page.wait_for_function('([r, v]) => r.innerText.trim() === v', arg=[ro, str(value)], timeout=10000)
        return True
    return False

def run_panel(page, panel, timeout_s:float=180):
    "Pick the tiny model and small sizes in the panel's controls, press Run, wait for the status and the plot."
    for sel in panel.query_selector_all('select'):  # the policy drop-down: 'embedded' -> 'tiny (random weights, ...)'
        labels = sel.eval_on_selector_all('option', 'os => os.map(o => o.textContent.trim())')
        tiny = [l for l in labels if l.startswith('tiny')]
        if tiny and sel.evaluate('s => s.options[s.selectedIndex] ? s.options[s.selectedIndex].textContent.trim() : ""') == 'embedded':
            sel.select_option(label=tiny[0])
    for k, v in SMALL.items(): set_slider(page, panel, k, v)
    panel.query_selector('.rk-run').click()
    status = panel.query_selector('.rk-status')
    status.wait_for_element_state('visible')
    page.wait_for_function("""el => /^(done|error)\\b/i.test(el.innerText.trim())""", arg=status, timeout=timeout_s * 1000)
    text = status.inner_text().strip()
    assert text.lower().startswith('done'), f'the panel run did not finish: {text[:400]}'
    panel.wait_for_selector('.rk-plot img, .rk-plot svg', timeout=30000)
    return text

def tree_signature(view) -> str:
    "What the tree drawing shows now: the visible nodes' ids and fills."
    return view.evaluate("""v => Array.from(v.querySelectorAll('.rk-node')).filter(n => n.getBoundingClientRect().width > 0 &&
        getComputedStyle(n).display !== 'none' && getComputedStyle(n).visibility !== 'hidden')
        .map(n => (n.getAttribute('data-id') || '') + ':' + (n.getAttribute('fill') || getComputedStyle(n).fill)).join(',')""")

def click_node(page, view) -> str:
    "Click a non-root node of the view and return what `.rk-details` shows (checked to hold its step text)."
    nodes = [n for n in view.query_selector_all('.rk-node') if n.get_attribute('data-id') not in (None, '0') and n.is_visible()]
    assert nodes, 'the tree view draws no clickable node besides the root'
    node = nodes[min(1, len(nodes) - 1)]
    title = node.evaluate("n => { const t = n.querySelector('title') || (n.parentNode && n.parentNode.querySelector('title')); return t ? t.textContent : ''; }")
    node.click()
    det = view.query_selector('.rk-details') or page.query_selector('.rk-details')
    assert det is not None, 'no .rk-details element'
    lines = [l.strip() for l in title.strip().splitlines() if l.strip()]  # a summary line, then the step text
    want = (lines[1] if len(lines) > 1 else lines[0] if lines else '')[:30]
    page.wait_for_function("""([d, w]) => d.innerText.trim().length > 0 && d.innerText.includes(w) && /visits/i.test(d.innerText)""",
                           arg=[det, want], timeout=30000)
    return det.inner_text()

def move_round(page, view) -> None:
    "Move the round slider to its first round and wait for the drawing to change."
    before = tree_signature(view)
    rng = view.query_selector('input[type=range].rk-round, .rk-round input[type=range]')
    if rng is not None:
        rng.evaluate("r => { r.value = r.min; r.dispatchEvent(new Event('input', {bubbles: true})); r.dispatchEvent(new Event('change', {bubbles: true})); }")
    else:  # an ipywidgets IntSlider: keyboard on its handle
        handle = view.query_selector('.rk-round .noUi-handle')
        assert handle is not None, 'no round slider (.rk-round) in the tree view'
        handle.focus(); handle.press('Home')
        for _ in range(50):
            if tree_signature(view) != before: break
            handle.press('ArrowLeft')
    for _ in range(40):
        if tree_signature(view) != before: return
        page.wait_for_timeout(250)
    raise AssertionError('moving the round slider did not change the drawing')

def find_tree_view(root):
    "The tree view under `root` (a page or an element): `.rk-treeview`, else the smallest element holding both the nodes and `.rk-details`."
    v, node = root.query_selector('.rk-treeview'), root.query_selector('.rk-node')
    if v is not None or node is None: return v
    return node.evaluate_handle("""n => { let e = n; while (e && !(e.querySelector && e.querySelector('.rk-details'))) e = e.parentElement;
        return e; }""").as_element()
