"""Ray for everything that samples: a pool of actors gives exactly the records of one process, survives a SIGKILLed
actor with nothing lost or written twice, and resumes a run a process started. One local 2-CPU cluster, the tiny model."""
import json, os, signal, threading, time
import pytest

ray = pytest.importorskip('ray', reason='Ray is not installed (pip install "ray>=2.40"): the Ray pool tests need it')

from reasoner_kit.core import read_jsonl
from reasoner_kit.data import load_task
from reasoner_kit.evaluate import EvalConfig, evaluate
from reasoner_kit.policy.base import load_policy, policy_identity
from reasoner_kit.policy.ray_pool import PolicyPool

N = 1000                                                        # problems of the big evaluation
CFG = EvalConfig(samples=2, greedy=False, temperature=1.0, max_tokens=4, chunk=25)   # one sampled call per chunk: cheap

@pytest.fixture(scope='module')
def cluster():
    os.environ['RAY_USAGE_STATS_ENABLED'] = '0'
    from reasoner_kit.policy.ray_pool import ray_init
    ray_init(num_cpus=2)                                         # ray.init(num_cpus=2), no dashboard; retried if the machine is too busy to start it
    yield ray
    ray.shutdown()

@pytest.fixture(scope='module', autouse=True)
def one_thread():
    "Decode here on one thread, as each 1-CPU actor does: the records must match to the last token."
    import torch
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

@pytest.fixture(scope='module')
def hf_tiny():
    return load_policy('tiny', engine='hf')

@pytest.fixture(scope='module')
def pool(cluster):
    p = PolicyPool('tiny', actors=2, engine='hf')
    yield p
    p.close()

@pytest.fixture(scope='module')
def problems():
    return load_task('arith', 'test', limit=N)

@pytest.fixture(scope='module')
def local_run(hf_tiny, problems, tmp_path_factory):
    "The one-process evaluation every Ray run must reproduce: its samples.jsonl, as lines of text."
    d = tmp_path_factory.mktemp('local')
    evaluate(hf_tiny, problems, CFG, out=d)
    return (d / 'samples.jsonl').read_text().splitlines()

def _lines(d): return (d / 'samples.jsonl').read_text().splitlines()

def test_eval_identical(pool, hf_tiny, problems, local_run, tmp_path):
    assert pool.policy.identity() == policy_identity(hf_tiny)   # the same settings: the folders are interchangeable
    s = evaluate(None, problems, CFG, out=tmp_path, pool=pool)
    assert s['problems'] == N and len(local_run) == N
    assert _lines(tmp_path) == local_run                        # the same records, texts and grades, in the same order
    recs = [json.loads(l) for l in local_run]
    assert len({r['id'] for r in recs}) == N and all(len(r['samples']) == 2 and 'text' in r['samples'][0] for r in recs)
    assert pool.usage['calls'] >= N // CFG.chunk                 # every chunk ran on an actor

def test_actor_sigkill_loses_nothing(pool, problems, local_run, tmp_path):
    n, f, pids, killed = N // 2, tmp_path / 'samples.jsonl', pool.pids(), []   # the first half: the same chunks as the big run
    def killer():                                                # SIGKILL one actor once a few chunks are on disk
        while not (f.exists() and len(f.read_bytes().splitlines()) >= 4 * CFG.chunk): time.sleep(0.05)
        os.kill(pids[0], signal.SIGKILL); killed.append(pids[0])
    t = threading.Thread(target=killer, daemon=True); t.start()
    evaluate(None, problems[:n], CFG, out=tmp_path, pool=pool)
    t.join(5)
    assert killed                                                # the actor died mid-run ...
    new = pool.pids()
    assert pids[0] not in new and len(new) == 2                  # ... and Ray restarted it
    lines = _lines(tmp_path)
    keys = [json.loads(l)['id'] for l in lines]
    assert len(lines) == n and len(set(keys)) == n               # nothing lost, nothing twice: in the file itself
    assert lines == local_run[:n]                                # and the retried chunks made the same records

def test_switch_local_then_ray(pool, hf_tiny, problems, local_run, tmp_path):
    n, calls = N // 2, [0]                                       # the first half of the big run: the same chunks
    half = n // 2
    real = hf_tiny.generate
    def dies_halfway(*a, **kw):                                  # the local process is "killed" after half the chunks
        if calls[0] == half // CFG.chunk: raise KeyboardInterrupt('killed')
        calls[0] += 1; return real(*a, **kw)
    hf_tiny.generate = dies_halfway
    try:
        with pytest.raises(KeyboardInterrupt): evaluate(hf_tiny, problems[:n], CFG, out=tmp_path)
    finally: del hf_tiny.generate
    with open(tmp_path / 'samples.jsonl', 'a') as fh: fh.write('{"id": "arith-torn", "sam')   # a kill mid-write, too
    assert len(read_jsonl(tmp_path / 'samples.jsonl')) == half
    evaluate(None, problems[:n], CFG, out=tmp_path, pool=pool)  # the rest on Ray, same folder
    assert _lines(tmp_path) == local_run[:n]                     # the same file as one local run in one go

def test_synth_identical(pool, hf_tiny, tmp_path):
    from reasoner_kit.synth.strawberry import StrawberryRecipe
    mk = lambda: StrawberryRecipe(problems=6, traces=2, max_steps=2, max_step_tokens=4, verify_tokens=4, chunk=2)
    here = mk().run(hf_tiny, tmp_path / 'here', policy_name='tiny', contamination=False)
    there = mk().run(None, tmp_path / 'ray', policy_name='tiny', contamination=False, pool=pool)
    for f in ['traces.jsonl', *(f'{fmt}.jsonl' for fmt in here['sizes'])]:
        assert (tmp_path / 'ray' / f).read_text() == (tmp_path / 'here' / f).read_text(), f
    assert len(read_jsonl(tmp_path / 'here' / 'traces.jsonl')) == 6
    assert there['sizes'] == here['sizes'] and there['usage'] == here['usage']   # the actors' tokens are counted too
