"""Shared pytest fixtures: the tiny random-weight policy (fast) and the embedded model (integration)."""
import os
import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
os.environ.setdefault('REASONER_KIT_QUIET', '1')

def pytest_collection_modifyitems(config, items):
    import torch
    if torch.cuda.is_available(): return
    skip = pytest.mark.skip(reason='needs a CUDA GPU')
    for it in items:
        if 'cuda' in it.keywords: it.add_marker(skip)

@pytest.fixture(scope='session')
def tiny():
    from reasoner_kit.policy.base import load_policy
    return load_policy('tiny')

@pytest.fixture(scope='session')
def embedded():
    from reasoner_kit.policy.base import load_policy
    return load_policy('embedded')
