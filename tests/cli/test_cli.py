"""The reasoner-kit command: bad input gives one line and a non-zero exit, no traceback."""
import subprocess, sys, os
from pathlib import Path
import pytest

EXE = str(Path(sys.executable).parent / 'reasoner-kit')

def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, 'REASONER_KIT_QUIET': '1'})

@pytest.mark.parametrize('args,msg', [
    (['eval', '--task', 'gsm9k', '--policy', 'tiny'], 'unknown task'),
    (['eval', '--policy', 'nope'], 'unknown policy spec'),
    (['eval', '--policy', 'openai:m@http://127.0.0.1:9/v1', '--limit', '1'], 'cannot reach the server'),
    (['eval', '--task', '/no/such/file.jsonl', '--policy', 'tiny'], 'file not found'),
    (['eval', '--samples', 'many'], 'invalid int value'),
    (['bogus'], 'invalid choice'),
    (['search', '--policy', 'tiny', '--strategy', 'self_consistency', '--set', 'parallel=4'], "bad option 'parallel=4' for self_consistency"),
    (['search', '--policy', 'tiny', '--strategy', 'mcts', '--set', 'value=guess'], "value='guess' is not valid"),
    (['search', '--policy', 'tiny', '--strategy', 'mcts', '--set', 'parallel=0'], 'parallel must be >= 1'),
    (['serve', '--policy', 'tiny', '--scorer', 'prn:x'], "unknown scorer 'prn:x'"),
])
def test_bad_input_one_line(args, msg):
    r = run(*args)
    assert r.returncode != 0
    assert msg in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert 'Traceback' not in r.stderr

def test_eval_writes_results(tmp_path):
    r = run('eval', '--policy', 'tiny', '--limit', '3', '--samples', '2', '--max-tokens', '8', '--out', str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert '| tiny / arith |' in r.stdout
    assert (tmp_path / 'samples.jsonl').read_text().count('\n') == 3

def test_search_takes_strategy_options_by_name(tmp_path):
    "An option of MCTS's own Config (parallel) through --set, the same name get_strategy and the API take."
    r = run('search', '--policy', 'tiny', '--strategy', 'mcts', '--limit', '1', '--budget', '2', '--max-tokens', '8',
            '--set', 'parallel=2', '--set', 'max_steps=2', '--set', 'max_step_tokens=4', '--out', str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert '| mcts | 2 | 1 |' in r.stdout
