"""CachedPolicy (issue 14, items 3 and 4): a cache never hands one model's samples to another, independent draws of the
same prompt in one call stay independent, a duplicated cache record is not a second vote, and sharing across calls stays."""
from reasoner_kit.policy.base import Policy, Sample, SamplingParams, policy_identity
from reasoner_kit.policy.backends import HFPolicy, tiny_model_dir
from reasoner_kit.policy.wrappers import CachedPolicy, MeteredPolicy

HOT = SamplingParams(n=2, temperature=1.0, max_tokens=8, seed=0)

class Rows(Policy):
    "Test double: every sample says which model, prompt, seed, row and draw made it, so two draws never look alike."
    def __init__(self, name='m1'): self.name, self.calls = name, []
    def _generate(self, prompts, params):
        self.calls.append((list(prompts), params.n))
        return [[Sample(f"{self.name}|{p}|{params.seed}|{i}|{j}", 'stop', 1, 1) for j in range(params.n)] for i, p in enumerate(prompts)]

def texts(out): return [[s.text for s in o] for o in out]

def test_independent_draws_of_one_prompt_in_one_call():
    cp = CachedPolicy(Rows())
    a, b, c = texts(cp.generate(['p', 'p', 'q'], HOT))
    assert a != b and not set(a) & set(b)                     # two draws of 'p': four different samples
    assert len({*a, *b, *c}) == 6
    assert texts(cp.generate(['p'], HOT)) == [a]              # sharing across calls: the first draw again, from the cache
    assert texts(cp.generate(['p', 'p'], HOT)) == [a, b]
    assert cp.drawn == 6                                      # nothing drawn twice

def test_greedy_copies_share_one_decode():
    cp = CachedPolicy(Rows())
    out = texts(cp.generate(['p', 'p'], n=3, temperature=0.0, max_tokens=8))
    assert out[0] == out[1] and len(set(out[0])) == 1 and cp.drawn == 1

def test_duplicated_cache_record_is_not_a_second_vote(tmp_path):
    f = tmp_path / 'cache.jsonl'
    first = texts(CachedPolicy(Rows(), f).generate(['p'], HOT))[0]
    f.write_text(f.read_text() * 2)                           # the same chunk twice (two writers, a copied file)
    cp = CachedPolicy(Rows(), f)
    four = texts(cp.generate(['p'], SamplingParams(n=4, temperature=1.0, max_tokens=8, seed=0)))[0]
    assert four[:2] == first and len(set(four)) == 4 and cp.drawn == 2

def test_another_model_never_reuses_the_cache(tmp_path):
    f = tmp_path / 'cache.jsonl'
    CachedPolicy(Rows('m1'), f).generate(['p'], HOT)
    other = CachedPolicy(Rows('m2'), f)
    assert all(t.startswith('m2|') for t in texts(other.generate(['p'], HOT))[0]) and other.drawn == 2
    again = CachedPolicy(Rows('m1'), f)                       # the first model resumes its own samples
    assert all(t.startswith('m1|') for t in texts(again.generate(['p'], HOT))[0]) and again.drawn == 0

def test_identity_names_the_model_files(tmp_path):
    a, b = HFPolicy(str(tiny_model_dir(0)), name='x'), HFPolicy(str(tiny_model_dir(1)), name='x')
    ia = policy_identity(a)
    assert ia == policy_identity(HFPolicy(str(tiny_model_dir(0)), name='other name'))   # one model, whatever it is called
    assert ia != policy_identity(b)                                                    # same name, other weights
    assert policy_identity(CachedPolicy(a)) == policy_identity(MeteredPolicy(a)) == ia  # wrappers are the model they wrap
    assert policy_identity(Rows('m1')) != policy_identity(Rows('m2'))
