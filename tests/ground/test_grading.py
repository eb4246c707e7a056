"""Outcome grading against the benchmark references."""
import pytest
from reasoner_kit.data import load_task, data_dirs
from reasoner_kit.grading import grade, math_equal, extract_answer, answer_reward

@pytest.mark.skipif(not data_dirs(), reason='no local benchmark data')
def test_gsm8k_references_all_grade():
    ps = load_task('gsm8k', 'test')
    assert sum(grade(p.answer, p.solution) for p in ps) == 1319

@pytest.mark.skipif(not data_dirs(), reason='no local benchmark data')
def test_math500_references_grade_99():
    ps = load_task('math500')
    assert sum(grade(p.answer, p.solution) for p in ps) >= 495

@pytest.mark.skipif(not data_dirs(), reason='no local benchmark data')
def test_wrong_answers_do_not_grade():
    ps = load_task('gsm8k', 'test')[:200]
    # shift every answer by one: none may grade as equal
    assert not any(math_equal(p.answer, str(float(p.answer) + 1)) for p in ps)

def test_arith_references_grade():
    ps = load_task('arith', 'test', limit=200)
    assert all(grade(p.answer, p.solution) for p in ps)

def test_reward_fn_in_threads():
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as ex:
        r = list(ex.map(lambda c: answer_reward([c], answer=[r'\frac{1}{2}'])[0], [r'\boxed{0.5}', r'\boxed{\frac{2}{4}}', 'no']))
    assert r == [1.0, 1.0, 0.0]
