"""Outcome grading against the benchmark references."""
import ast, operator

import pytest
from reasoner_kit.core import read_jsonl
from reasoner_kit.data import load_task, data_dirs
from reasoner_kit.grading import grade, math_equal, extract_answer, answer_reward

def _raw(name):
    "The rows of a local benchmark file as the dataset ships them, or skip."
    f = next((d / name for d in data_dirs() if (d / name).exists()), None)
    if f is None: pytest.skip(f'no local {name}')
    return read_jsonl(f)

def test_gsm8k_loader_answer_is_what_the_reference_says():
    "Graded against the dataset's own reference text (its '#### N' line), not the 'The answer is N.' the loader writes from its own answer."
    raw, ps = _raw('gsm8k_test.jsonl'), load_task('gsm8k', 'test')
    assert len(ps) == len(raw) == 1319 and [p.question for p in ps] == [r['question'] for r in raw]
    assert all(r['answer'].count('####') == 1 for r in raw)
    assert sum(grade(p.answer, r['answer']) for p, r in zip(ps, raw)) == 1319
    assert sum(grade(p.answer, r['answer']) for p, r in zip(ps, raw[1:] + raw[:1])) < 100   # another problem's reference: not a match

@pytest.mark.skipif(not data_dirs(), reason='no local benchmark data')
def test_math500_references_grade_99():
    ps = load_task('math500')
    assert sum(grade(p.answer, p.solution) for p in ps) >= 495

@pytest.mark.skipif(not data_dirs(), reason='no local benchmark data')
def test_wrong_answers_do_not_grade():
    ps = load_task('gsm8k', 'test')[:200]
    # shift every answer by one: none may grade as equal
    assert not any(math_equal(p.answer, str(float(p.answer) + 1)) for p in ps)

def _value(expr):
    "The value of an arith equation's left side: integers, + - * / and brackets, computed here, not by the generator."
    def ev(n):
        if isinstance(n, ast.Constant) and isinstance(n.value, int): return n.value
        ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
        assert isinstance(n, ast.BinOp) and type(n.op) in ops, ast.dump(n)
        return ops[type(n.op)](ev(n.left), ev(n.right))
    return ev(ast.parse(expr, mode='eval').body)

def test_arith_references_grade():
    "The answer is the equation's value computed independently; the reference grades as it, and as no other number."
    ps = load_task('arith', 'test', limit=200)
    for p in ps:
        lhs, _ = p.metadata['equation'].split(' = ')
        assert _value(lhs) == float(p.answer), p.metadata['equation']
        assert grade(p.answer, p.solution) and not grade(str(int(p.answer) + 1), p.solution)

def test_reward_fn_in_threads():
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as ex:
        r = list(ex.map(lambda c: answer_reward([c], answer=[r'\frac{1}{2}'])[0], [r'\boxed{0.5}', r'\boxed{\frac{2}{4}}', 'no']))
    assert r == [1.0, 1.0, 0.0]
