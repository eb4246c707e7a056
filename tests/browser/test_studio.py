"""The reasoner studio served by Voila, in headless Chromium: it loads every step's panel, and Run works."""
import pytest
from helpers import page_problems, run_panel

pytestmark = pytest.mark.browser
STEPS = ('model', 'reward', 'search', 'learn', 'serve')

def test_studio(voila, page, out_dir):
    page.goto(f'{voila.url}/?token={voila.token}')
    page.wait_for_selector('.rk-studio', timeout=180000)   # Voila runs the notebook before it shows the page
    page.wait_for_timeout(500)
    for k in STEPS: assert page.query_selector(f'.rk-studio-{k} .rk-panel'), f'the studio has no {k} step'
    assert not page_problems(page), page_problems(page)
    page.screenshot(path=str(out_dir/'studio.png'), full_page=True)
    # step 1 (the model) and step 3 (a search) on the tiny model: Run, then the status line and the plot
    for k in ('model', 'search'):
        panel = page.query_selector(f'.rk-studio-{k} .rk-panel')
        panel.scroll_into_view_if_needed()
        status = run_panel(page, panel)
        panel.screenshot(path=str(out_dir/f'studio_{k}.png'))
        assert not page_problems(page), f'{k} ({status}): {page_problems(page)}'
