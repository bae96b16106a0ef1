"""adv_kt.estimators beyond the notebook: bounds and invariances over many random problems, LogME against an
independent MacKay iteration with explicit matrices, input types, and bad input for every score."""
import math

import numpy as np
import pytest
import torch

from adv_kt.estimators import SCORERS
from adv_kt.estimators import (check_labels, h_score, leep, log_evidence, logme, max_evidence, nce, transrate)
BASELINES = {n: (s.needs, s.fn) for n, s in SCORERS.items() if s.needs != 'gradient'}   # the forward-pass scorers


def problem(seed, n=120, k=4, d=6, z=5, signal=1.0):
    "Features, source predictions and balanced labels with some label information."
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    f = signal * torch.randn(k, d, generator=g, dtype=torch.float64)[y] + torch.randn(n, d, generator=g, dtype=torch.float64)
    logits = torch.randn(n, z, generator=g, dtype=torch.float64)
    logits[torch.arange(n), (y * 7) % z] += 2 * signal
    return f, logits.softmax(1), y


def entropy(y):
    p = torch.bincount(y).double() / len(y)
    p = p[p > 0]
    return -(p * p.log()).sum().item()


SHAPES = [(120, 4, 6, 5), (40, 3, 60, 3), (9, 3, 20, 2), (300, 10, 16, 12)]   # includes D > n


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('n,k,d,z', SHAPES)
def test_bounds_hold_on_random_problems(seed, n, k, d, z):
    f, p, y = problem(seed, n, k, d, z, signal=seed / 2)
    H = entropy(y)
    assert leep(p, y) <= 1e-12
    assert -H - 1e-12 <= nce(p, y) <= 1e-12
    assert -1e-9 <= h_score(f, y) <= min(d, k - 1) + 1e-6
    prior = torch.bincount(y).double() / n
    L0 = (-0.5 * (torch.log(2 * math.pi * prior) + 1)).mean().item()
    assert logme(f, y) >= L0 - 1e-12
    assert transrate(f, y) >= -1e-8                                   # balanced classes


@pytest.mark.parametrize('name', list(BASELINES))
@pytest.mark.parametrize('seed', range(3))
def test_renaming_classes_changes_nothing(name, seed):
    kind, fn = BASELINES[name]
    f, p, y = problem(seed)
    x = f if kind == 'features' else p
    names = torch.randperm(4, generator=torch.Generator().manual_seed(seed)) * 3 + 11   # other names, other order
    assert fn(x, names[y]) == pytest.approx(fn(x, y), abs=1e-9)
    if kind == 'probs':
        cols = torch.randperm(p.shape[1], generator=torch.Generator().manual_seed(seed))
        assert fn(p[:, cols], y) == pytest.approx(fn(p, y), abs=1e-9)


@pytest.mark.parametrize('name', list(BASELINES))
def test_numpy_lists_and_float32_agree(name):
    kind, fn = BASELINES[name]
    f, p, y = problem(0)
    x = (f if kind == 'features' else p).float()                      # what a model produces
    ref = fn(x, y)
    assert fn(x.numpy(), y.numpy()) == ref
    assert fn(x.tolist(), y.tolist()) == ref
    assert fn(x.double(), y.double()) == pytest.approx(ref, abs=1e-12)


def mackay_explicit(F, y, iters=2000):
    "MacKay's evidence maximisation with explicit D x D matrices (no eigendecomposition), then the direct evidence."
    F, y = np.asarray(F, float), np.asarray(y, float)
    n, D = F.shape
    FtF, Fty = F.T @ F, F.T @ y
    eig = np.linalg.eigvalsh(FtF).clip(0)                              # F^T F is PSD: round-off negatives are 0
    alpha, beta = 1.0, 1.0
    for _ in range(iters):
        A = alpha * np.eye(D) + beta * FtF
        m = beta * np.linalg.solve(A, Fty)
        gamma = (beta * eig / (alpha + beta * eig)).sum()
        alpha_new, beta_new = gamma / (m @ m), (n - gamma) / ((F @ m - y) ** 2).sum()
        done = abs(math.log(alpha_new / beta_new) - math.log(alpha / beta)) < 1e-12
        alpha, beta = alpha_new, beta_new
        if done: break
    return log_evidence(F, y, alpha, beta)


@pytest.mark.parametrize('n,d', [(60, 5), (25, 8), (10, 30)])
def test_logme_matches_an_explicit_mackay_iteration(n, d):
    f, _, y = problem(n + d, n=n, k=3, d=d)
    onehot = torch.nn.functional.one_hot(y, 3).double()
    ev = max_evidence(f, onehot)
    for c in range(3):
        assert ev.evidence[c].item() == pytest.approx(mackay_explicit(f, onehot[:, c]), abs=1e-6)
        assert ev.evidence[c].item() == pytest.approx(log_evidence(f, onehot[:, c], ev.alpha[c].item(), ev.beta[c].item()), abs=1e-9)
    assert logme(f, y) == pytest.approx(ev.evidence.mean().item(), abs=1e-12)


def test_log_evidence_vectorised_equals_scalar():
    f, _, y = problem(1, n=20, d=3)
    a, b = torch.tensor([0.1, 1.0, 30.0], dtype=torch.float64), torch.tensor([0.5, 2.0], dtype=torch.float64)
    grid = log_evidence(f, y.double(), a[:, None], b[None, :])
    assert grid.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            assert grid[i, j].item() == pytest.approx(log_evidence(f, y.double(), a[i].item(), b[j].item()), abs=1e-12)


def test_fixed_point_never_beaten_by_random_search():
    f, _, y = problem(7, n=30, d=4)
    yy = (y == 1).double()
    best = max_evidence(f, yy).evidence.item()
    g = np.random.default_rng(0)
    for la, lb in g.uniform(-10, 10, (300, 2)):
        assert log_evidence(f, yy, math.exp(la), math.exp(lb)) <= best + 1e-9


def test_extreme_scales_stay_finite():
    f, p, y = problem(2)
    for scale in (1e-6, 1e6):
        for fn in (h_score, logme, transrate):
            assert math.isfinite(fn(f * scale, y))
    assert h_score(f * 1e6, y) == pytest.approx(h_score(f, y), rel=1e-6)   # H-score is scale invariant


def test_single_class_is_refused():
    "One target class cannot rank transfers: every score says so instead of returning a 'perfect' number."
    f, p, _ = problem(3)
    y = torch.zeros(len(f), dtype=torch.long)
    for fn, x in ((leep, p), (nce, p), (h_score, f), (logme, f), (transrate, f)):
        with pytest.raises(ValueError, match='at least 2 distinct classes'): fn(x, y)


def test_argument_checks_name_the_argument():
    f, p, y = problem(0)
    with pytest.raises(ValueError, match='^source:'): nce(torch.full((len(y),), -1), y)       # not blamed on labels
    with pytest.raises(ValueError, match='max_iter'): logme(f, y, max_iter=0)
    for tol in (-1, float('nan'), True):
        with pytest.raises(ValueError, match='tol'): logme(f, y, tol=tol)
    with pytest.raises(ValueError, match='features'): logme(torch.tensor(1.0), y)             # 0-d: ValueError too
    with pytest.raises(ValueError, match='eps'): transrate(f, y, eps=True)
    assert transrate(f, y, eps=np.float32(1e-4)) == pytest.approx(transrate(f, y, eps=1e-4), rel=1e-6)
    big = y.double(); big[0] = 1e20
    with pytest.raises(ValueError, match='too large'): leep(p, big)


def test_transrate_equals_the_papers_formula_computed_directly():
    "TransRate as the paper's snippet (and tllib) define it: R(A) = 1/2 logdet(I_D + A^T A / (n_A eps)), 1/K per class."
    f, _, y = problem(1, n=90, d=7)
    Z, yy, eps = (f - f.mean(0)).numpy(), y.numpy(), 1e-4
    R = lambda A: 0.5 * np.linalg.slogdet(np.eye(A.shape[1]) + A.T @ A / (len(A) * eps))[1]
    want = R(Z) - np.mean([R(Z[yy == c]) for c in np.unique(yy)])
    assert transrate(f, y) == pytest.approx(want, rel=1e-9)
