"""Sequential revision strategies: self_refine and strawberry on the tiny model (batching, determinism, bookkeeping),
a scripted policy for the stop rules, and the embedded model end to end."""
import pytest
from reasoner_kit.core import KitError
from reasoner_kit.policy.base import Policy, Sample
from reasoner_kit.search.base import SearchConfig, get_strategy
from reasoner_kit.reward.scorers import ArithmeticScorer
from reasoner_kit.search.refine import (FINAL_PROMPT, NUDGES, NO_MISTAKES, SelfRefine, Strawberry, no_mistakes,
                                 strawberry_traces, task_text)

def q(text): return [{'role': 'user', 'content': text}]
P1 = [q('What is 2+3?')]
P3 = [q('What is 2+3?'), q('What is 4+4?'), 'What is 1+6?']

class CountingPolicy(Policy):
    "A proxy that records the size of every batched call made to another policy."
    def __init__(self, inner): self.inner, self.name, self.sizes = inner, inner.name, []
    def _generate(self, prompts, params):
        self.sizes.append(len(prompts)); return self.inner._generate(prompts, params)

class ScriptedPolicy(Policy):
    """Test double for control flow only: `_generate` returns preset replies chosen by `script(prompt)`.
    It never stands in for a model's results; it lets a test drive the stop rules deterministically."""
    name = 'scripted'
    def __init__(self, script): self.script, self.sizes = script, []
    def _generate(self, prompts, params):
        self.sizes.append(len(prompts))
        return [[Sample(t, 'stop', 1, len(t.split())) for t in [self.script(p)] * params.n] for p in prompts]

# ---- self_refine -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('prompts', [P1, P3])
def test_self_refine_one_call_per_phase(tiny, prompts):
    pol = CountingPolicy(tiny)
    res = get_strategy('self_refine', budget=5, max_tokens=6).run(prompts, pol)
    assert len(res) == len(prompts)
    assert pol.sizes == [len(prompts)] * 5         # draft + 2 x (critique, revise), whatever the batch size
    for r in res:
        assert [h['kind'] for h in r.steps] == ['draft', 'critique', 'revision', 'critique', 'revision']
        assert r.tokens == sum(h['tokens'] for h in r.steps) > 0
        assert len(r.candidates) == 3 and r.text == r.candidates[-1]['text']
        assert [v['critique'] is not None for v in r.candidates] == [True, True, False]

def test_self_refine_rounds_from_budget():
    assert [SelfRefine(budget=b).rounds for b in (1, 2, 3, 4, 5, 8)] == [1, 1, 1, 1, 2, 3]

def test_self_refine_deterministic_and_scorer_picks_best(tiny):
    a = get_strategy('self_refine', budget=3, max_tokens=6, seed=1).run(P3, tiny)
    b = get_strategy('self_refine', budget=3, max_tokens=6, seed=1).run(P3, tiny, ArithmeticScorer())
    assert [r.steps for r in a] == [r.steps for r in b]
    for r in b:
        best = max(reversed(r.candidates), key=lambda v: v['score'])   # ties go to the later version
        assert r.text == best['text'] and all(v['score'] is not None for v in r.candidates)

def test_self_refine_stop_rule_scripted():
    # Prompt A's draft is right and the critic says so at once; B's draft is wrong, the critic says why,
    # the revision fixes it, and the second critique is clean.
    def script(p):
        last = p[-1]['content']
        if 'reviewer' in last: return '2 + 5 = 7. The answer is 7.'                   # the revision turn
        if 'proposed solution' in last:                                                # the critic's chat
            return f'**{NO_MISTAKES}**' if '= 7' in last or '= 5' in last else 'Step 1 is wrong: 2 + 5 = 7, not 8.'
        return '2 + 3 = 5. The answer is 5.' if '2+3' in last else '2 + 5 = 8. The answer is 8.'
    pol = ScriptedPolicy(script)
    res = get_strategy('self_refine', budget=8).run([q('A: 2+3?'), q('B: 2+5?')], pol)
    assert pol.sizes == [2, 2, 1, 1]                 # draft, critique both, revise B only, critique B; then both stop
    assert [h['kind'] for h in res[0].steps] == ['draft', 'critique']
    assert [h['kind'] for h in res[1].steps] == ['draft', 'critique', 'revision', 'critique']
    assert (res[0].answer, res[1].answer) == ('5', '7')
    assert res[1].candidates[0]['answer'] == '8' and res[1].candidates[0]['critique'].startswith('Step 1 is wrong')
    assert res[1].tokens == sum(h['tokens'] for h in res[1].steps)

def test_no_mistakes_parsing():
    assert all(map(no_mistakes, ['NO MISTAKES', 'No mistakes.', '**NO MISTAKES**\nAll good.', 'There are no errors!', 'None.']))
    assert not any(map(no_mistakes, ['', 'Step 2 is wrong.', 'No mistakes in step 1, but step 2 is wrong.',
                                     'If there are no mistakes, reply with exactly: NO MISTAKES']))

def test_bad_prompts_rejected(tiny):
    with pytest.raises(KitError, match='end with a user message'):
        get_strategy('self_refine').run([q('x') + [{'role': 'assistant', 'content': 'The'}]], tiny)
    with pytest.raises(KitError, match='final_every'):
        Strawberry(final_every=0).run(P1, tiny)
    assert task_text('plain') == 'plain'

# ---- strawberry --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('prompts', [P1, P3])
def test_strawberry_one_call_per_turn(tiny, prompts):
    pol = CountingPolicy(tiny)
    res = get_strategy('strawberry', max_steps=4, max_step_tokens=6).run(prompts, pol)
    assert len(res) == len(prompts)
    assert pol.sizes == [len(prompts)] * 4           # one call per turn, whatever the batch size
    for r in res:
        roles = [m['role'] for m in r.steps]
        assert roles == ['system', 'user'] + ['assistant', 'user'] * 3 + ['assistant']
        assert r.tokens == sum(m.get('tokens', 0) for m in r.steps) > 0
        assert r.candidates[0]['turns'] == 4 and r.candidates[0]['final'] is False
        assert r.text == r.steps[-1]['content']

def test_strawberry_deterministic(tiny):
    cfg = SearchConfig(max_steps=3, max_step_tokens=4, seed=0)
    assert strawberry_traces(P3, tiny, cfg) == strawberry_traces(P3, tiny, cfg)

def test_strawberry_nudges_reproducible():
    # The nudges do not depend on what the model says: a scripted policy that never answers exposes them quickly.
    pol = ScriptedPolicy(lambda conv: 'One more small step.')
    cfg = SearchConfig(max_steps=9, seed=0)
    user = lambda conv: [m['content'] for m in conv if m['role'] == 'user'][1:]
    a = strawberry_traces(P3, pol, cfg)
    assert a == strawberry_traces(P3, pol, cfg)
    assert user(a[0]) == user(strawberry_traces(P1, pol, cfg)[0])        # a prompt's nudges do not depend on the batch
    us = user(a[0])
    assert [u == FINAL_PROMPT for u in us] == [False, True, False, False, True, False, False, True]  # turns 3, 6, 9
    assert all(u in NUDGES for u in us if u != FINAL_PROMPT)
    seeds = {tuple(user(strawberry_traces(P1, pol, SearchConfig(max_steps=9, seed=s))[0])) for s in range(4)}
    assert len(seeds) > 1                                                 # the seed changes the nudges
    twins = strawberry_traces([P1[0], P1[0]], pol, cfg)
    assert user(twins[0]) != user(twins[1])                               # copies of one prompt get different nudges

def test_strawberry_stop_rule_scripted():
    # A answers in tags when first asked (turn 3); B answers "The answer is" on turn 1 (not asked: it goes on) and
    # again when asked (stops at turn 3 too); C never answers and runs to max_steps.
    def script(conv):
        asked, who = conv[-1]['content'] == FINAL_PROMPT, conv[1]['content']
        if who == 'A': return '<final_answer>5</final_answer>' if asked else 'I add 2 and 3.'
        if who == 'B': return 'The answer is 9.'
        return 'I am still thinking about 4.'
    pol = ScriptedPolicy(script)
    res = Strawberry(max_steps=5, final_every=3).run([q('A'), q('B'), q('C')], pol)
    assert pol.sizes == [3, 3, 3, 1, 1]
    assert [r.candidates[0]['turns'] for r in res] == [3, 3, 5]
    assert [r.candidates[0]['final'] for r in res] == [True, True, False]
    assert (res[0].answer, res[0].text) == ('5', '<final_answer>5</final_answer>')
    assert res[1].answer == '9'
    assert res[2].steps[-2]['content'] == FINAL_PROMPT                    # the last turn always asks
    assert strawberry_traces([q('A')], ScriptedPolicy(script), SearchConfig(max_steps=5))[0][-1]['content'] == '<final_answer>5</final_answer>'

def test_strawberry_out_of_turns_keeps_last_stated_answer():
    # The answer stated on turn 1 (not asked: the loop goes on) is the result when no final answer ever comes.
    pol = ScriptedPolicy(lambda conv: 'The answer is 7.' if len(conv) == 2 else 'Hmm, let me think again.')
    r = Strawberry(max_steps=4).run(P1, pol)[0]
    assert pol.sizes == [1] * 4 and r.candidates[0]['final'] is False
    assert (r.text, r.answer) == ('The answer is 7.', '7')

def test_strawberry_tags_stop_any_turn():
    pol = ScriptedPolicy(lambda conv: '<final_answer>4</final_answer>')
    res = get_strategy('strawberry', max_steps=10).run(P3, pol)
    assert pol.sizes == [3] and [r.answer for r in res] == ['4'] * 3

# ---- the embedded model ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_both_end_to_end_embedded(embedded):
    from reasoner_kit.data import load_task, to_messages
    ps = [to_messages(p) for p in load_task('arith', 'test', limit=2, level=1)]
    sr = get_strategy('self_refine', budget=3, max_tokens=96).run(ps, embedded)
    st = get_strategy('strawberry', max_steps=3, max_step_tokens=48).run(ps, embedded)
    for r in sr:
        assert r.steps[0]['kind'] == 'draft' and r.tokens == sum(h['tokens'] for h in r.steps) > 0
        assert r.text in [v['text'] for v in r.candidates]
    for r in st:
        assert r.steps[0]['role'] == 'system' and r.steps[-1]['role'] == 'assistant'
        assert 1 <= r.candidates[0]['turns'] <= 3 and r.tokens == sum(m.get('tokens', 0) for m in r.steps) > 0
