"""README.md is generated from nbs/index.ipynb (its markdown cells, in order): the notebook is the source, as for the library.

Run `make readme` (this file with `--write`) after editing nbs/index.ipynb; `pytest tests/layout` fails if they differ.
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

def render_readme(nb_path:Path=ROOT / 'nbs' / 'index.ipynb') -> str:
    "The README text: the notebook's markdown cells joined by blank lines."
    nb = json.loads(nb_path.read_text())
    return '\n\n'.join(''.join(c['source']).strip('\n') for c in nb['cells'] if c['cell_type'] == 'markdown') + '\n'

def test_settings_name_the_readme_notebook():
    cfg = (ROOT / 'settings.ini').read_text()
    name = next(l.split('=', 1)[1].strip() for l in cfg.splitlines() if l.startswith('readme_nb'))
    assert (ROOT / 'nbs' / name).exists(), f"settings.ini names readme_nb = {name}, which is not in nbs/"

def test_readme_is_generated_from_index():
    assert (ROOT / 'README.md').read_text() == render_readme(), "README.md differs from nbs/index.ipynb: edit the notebook, then run `make readme`"

def test_render_keeps_sections_in_order(tmp_path):
    nb = {'cells': [{'cell_type': 'markdown', 'source': ['# a\n', 'x']}, {'cell_type': 'code', 'source': ['1']},
                    {'cell_type': 'markdown', 'source': ['## b']}], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}
    (tmp_path / 'i.ipynb').write_text(json.dumps(nb))
    assert render_readme(tmp_path / 'i.ipynb') == '# a\nx\n\n## b\n'

if __name__ == '__main__' and sys.argv[1:] == ['--write']:
    (ROOT / 'README.md').write_text(render_readme()); print('README.md written from nbs/index.ipynb')
