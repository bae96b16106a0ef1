"""SFDA, k-NN accuracy and GBC against independent implementations written from the authors' code, on fixed
features: the authors' steps in numpy/scipy/scikit-learn, loops where the package vectorises."""
import math
import numpy as np
import pytest
import torch
from scipy import linalg
from adv_kt.estimators import SCORERS, sfda, knn_accuracy, gbc
from adv_kt.selection import score_sources

def features(seed, n=300, d=40, k=10, signal=0.7, scale=1.0):
    "Class-structured features with unbalanced classes, float64."
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)                                              # every class present
    return scale * (signal * rng.normal(size=(k, d))[y] + rng.normal(size=(n, d))), y

# ---------------------------------------------------------------- SFDA
# TencentARC/SFDA @ 3b7edf76bd682acb1eba4f4c5eb7ea7f3f7f6c59: metrics.py `_cov` (12-20), `_class_means` (34-58),
# class `SFDA` (128-212), `SFDA_Score` (485-510); utils.py `iterative_A` (237-248).
def power_eig(A, steps=3):
    x = A.sum(axis=1)
    for _ in range(steps):
        t = A @ x; v = t / np.linalg.norm(t)
        t = A @ v; x = t / np.linalg.norm(t)
    return x @ A @ v

def lda_fit_proba(X, y, shrinkage=None):
    "The authors' route: generalised eigenproblem of (St - Sw, Sw), coefficients from all eigenvectors."
    classes = np.unique(y)
    prior = np.array([np.mean(y == c) for c in classes])
    means = np.stack([X[y == c].mean(0) for c in classes])
    Sw = sum(p * np.atleast_2d(np.cov(X[y == c].T, bias=True)) for p, c in zip(prior, classes))
    D = X.shape[1]
    if shrinkage is None: shrinkage = max(np.exp(-5 * power_eig(Sw)), 1e-10)
    St = np.cov(X.T, bias=True)
    St = (1 - shrinkage) * St + shrinkage * np.trace(St) / D * np.eye(D)
    Sws = (1 - shrinkage) * Sw + shrinkage * np.trace(Sw) / D * np.eye(D)
    evals, evecs = linalg.eigh(St - Sws, Sws)
    evecs = evecs[:, np.argsort(evals)[::-1]]
    coef = means @ evecs @ evecs.T
    scores = X @ coef.T - 0.5 * np.diag(means @ coef.T) + np.log(prior)
    e = np.exp(scores - scores.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True), means, shrinkage

def sfda_reference(X, y):
    X, n, k = X.copy(), len(y), len(np.unique(y))
    prob, means, shrink = lda_fit_proba(X, y)
    prob = np.exp(prob) / np.exp(prob).sum(1, keepdims=True)
    for c in range(k):
        idx = np.where(y == c)[0]
        outer = (means.sum(0) - means[c]) / (k - 1)
        w = prob[idx, c][:, None]
        X[idx] = w * X[idx] + (1 - w) * outer
    prob, _, _ = lda_fit_proba(X, y, shrink)
    return prob[np.arange(n), y].mean()

@pytest.mark.parametrize('seed,n,d,k,signal,scale', [(0, 300, 40, 10, 0.7, 1.0), (1, 300, 84, 10, 0.3, 2.0),
                                                       (2, 200, 20, 4, 1.0, 0.05), (3, 1000, 128, 4, 0.2, 1.0)])
def test_sfda_matches_the_authors_steps(seed, n, d, k, signal, scale):
    X, y = features(seed, n, d, k, signal, scale)
    assert sfda(torch.tensor(X), torch.tensor(y)) == pytest.approx(sfda_reference(X, y), abs=1e-10)

def test_sfda_refuses_the_degenerate_wide_case():
    "Few samples of wide features: the reference scores every candidate 1.0; sfda refuses with a reason."
    for seed in range(3):
        X, y = features(seed, n=50, d=41, k=10, signal=0.0, scale=3.0)           # pure noise, D = n - K + 1
        assert sfda_reference(X, y) == pytest.approx(1.0, abs=1e-9)
        with pytest.raises(ValueError, match='at most n - K = 40 dimensions'): sfda(X, y)
    X, y = features(0, n=50, d=40, k=10, signal=0.0)
    assert 0 < sfda(X, y) <= 1                                                   # D = n - K is accepted

def test_sfda_power_iteration_is_the_authors_not_the_exact_eigenvalue():
    "Three power steps: the shrinkage differs from exp(-5 * exact largest eigenvalue), as in the authors' code."
    from adv_kt.estimators import _largest_eigenvalue
    X, _ = features(0, d=30)
    A = np.cov(X.T, bias=True)
    assert _largest_eigenvalue(torch.tensor(A)) == pytest.approx(power_eig(A), rel=1e-12)
    assert _largest_eigenvalue(torch.tensor(A)) < np.linalg.eigvalsh(A).max()

# ---------------------------------------------------------------- k-NN
def knn_reference(X, y, k=10):
    "Leave-one-out by a loop: cosine similarity, majority vote, ties to the class with the nearest member."
    Z = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), np.finfo(float).tiny)
    k, hits = min(k, len(X) - 1), 0
    for i in range(len(X)):
        sim = Z @ Z[i]
        order = [j for j in np.argsort(-sim, kind='stable') if j != i][:k]
        labs = [y[j] for j in order]
        count = {c: labs.count(c) for c in labs}
        top = max(count.values())
        pred = next(c for c in labs if count[c] == top)               # first in nearest-first order
        hits += pred == y[i]
    return hits / len(X)

@pytest.mark.parametrize('seed,k', [(0, 10), (1, 10), (2, 3), (3, 1), (4, 500)])
def test_knn_matches_a_loop(seed, k):
    X, y = features(seed, n=200, d=16, k=5, signal=0.5)
    assert knn_accuracy(X, y, k=k) == pytest.approx(knn_reference(X, y, k), abs=1e-12)

def test_knn_matches_scikit_learn_leave_one_out_when_no_vote_can_tie():
    "Two classes, odd k: no tie, so scikit-learn's rule and ours agree."
    from sklearn.model_selection import LeaveOneOut, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    X, y = features(5, n=120, d=8, k=2, signal=0.4)
    ref = cross_val_score(KNeighborsClassifier(9, metric='cosine', algorithm='brute'), X, y, cv=LeaveOneOut()).mean()
    assert knn_accuracy(X, y, k=9) == pytest.approx(ref, abs=1e-12)

def test_knn_zero_features_and_bad_k():
    X, y = features(0, n=60, d=5, k=3)
    X[:5] = 0                                                          # dead units: similarity 0 to everything
    assert math.isfinite(knn_accuracy(X, y)) and knn_accuracy(X, y) == pytest.approx(knn_reference(X, y))
    for bad in (0, -1, 2.5, True): 
        with pytest.raises(ValueError, match='k: must be an integer'): knn_accuracy(X, y, k=bad)

# ---------------------------------------------------------------- GBC
# google-research/google-research @ 1d4d2f1aa6f2883a790d2ae46a6ee8ab150d8f31, stable_transfer/transferability/gbc.py:
# compute_bhattacharyya_distance, get_bhattacharyya_distance (spherical), compute_per_class_mean_and_variance
# (population variance floored at 1e-4), get_gbc_score; features reduced to 64 principal components (config).
def gbc_reference(X, y, pca=64):
    from sklearn.decomposition import PCA
    if X.shape[1] > pca: X = PCA(n_components=pca, svd_solver='full').fit_transform(X)
    stats = {c: (X[y == c].mean(0), np.maximum(X[y == c].var(0), 1e-4).mean()) for c in np.unique(y)}
    total = 0.0
    for c1 in stats:
        for c2 in stats:
            if c1 == c2: continue
            (m1, s1), (m2, s2) = stats[c1], stats[c2]
            avg = (s1 + s2) / 2
            db = np.sum((m1 - m2) ** 2 / avg) / 8 + 0.5 * (np.log(avg) - 0.5 * np.log(s1) - 0.5 * np.log(s2))
            total += np.exp(-db)
    return -total

@pytest.mark.parametrize('seed,n,d,k,signal,scale', [(0, 300, 40, 10, 0.3, 1.0), (1, 300, 128, 10, 0.2, 1.0),
                                                       (2, 100, 200, 4, 0.1, 1.0), (3, 300, 8, 3, 0.5, 0.005)])
def test_gbc_matches_the_authors_steps(seed, n, d, k, signal, scale):
    X, y = features(seed, n, d, k, signal, scale)                     # last case: the 1e-4 variance floor acts
    assert gbc(X, y) == pytest.approx(gbc_reference(X, y), rel=1e-9, abs=1e-12)

# ---------------------------------------------------------------- registry and checks
def test_new_scorers_are_registered_and_check_their_input():
    X, y = features(0, n=60, d=5, k=3)
    for name in ('sfda', 'knn', 'gbc'):
        fn = SCORERS[name].fn
        assert SCORERS[name].needs == 'features'
        for bad, msg in ((X[:, :, None], 'must be 2-D'), (np.full_like(X, np.nan), 'NaN or inf')):
            with pytest.raises(ValueError, match=msg): fn(bad, y)
        with pytest.raises(ValueError, match='labels'): fn(X, y[:-1])
        with pytest.raises(ValueError, match='distinct classes'): fn(X, y * 0)

def test_score_sources_records_a_refused_sfda_as_skipped():
    "A candidate with features wider than the sample allows gets no SFDA score, with the reason; the rest score."
    from torch import nn
    torch.manual_seed(0)
    x, y = torch.rand(30, 1, 4, 4) * 2 - 1, torch.arange(30) % 3
    ref = nn.Sequential(nn.Flatten(), nn.Linear(16, 3)).eval()
    wide = nn.Sequential(nn.Flatten(), nn.Linear(16, 40), nn.ReLU(), nn.Linear(40, 5)).eval()
    s = score_sources(ref, {'wide': wide}, (x, y), scorers=('sfda', 'knn', 'gbc'))
    assert s.values['sfda'] == [None] and 'at most n - K = 27' in s.skipped[('wide', 'sfda')]
    assert all(math.isfinite(s.values[c][0]) for c in ('knn', 'gbc'))
