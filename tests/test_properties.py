"""Property-based checks of the public API (hypothesis): generated bad arguments raise ValueError or TypeError that
names the argument; generated good arguments return finite numbers. `pytest --hypothesis-show-statistics` counts."""
import math
import numpy as np, pytest, torch
from torch import nn
from hypothesis import given, settings, strategies as st, HealthCheck
from adv_kt.attacks import pgd, fgsm
from adv_kt.metrics import transferability, bidirectional
from adv_kt.data import get_dataset, DATASETS
from adv_kt.models import get_model, ARCHS
from adv_kt.estimators import SCORERS
from adv_kt.selection import score_sources, evaluate_ranking

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
torch.manual_seed(0)
NET = nn.Sequential(nn.Flatten(), nn.Linear(12, 5)).eval()
NET2 = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).eval()
X = torch.rand(8, 3, 2, 2) * 2 - 1

def raises_naming(name, fn):
    with pytest.raises((ValueError, TypeError), match=name): fn()

bad_number = st.one_of(st.sampled_from([0, -1, -0.5, float('nan'), float('inf'), -float('inf'), True, 'x', None]),
                       st.floats(max_value=0, allow_nan=False))
bad_count = st.one_of(st.sampled_from([0, -1, 1.5, True, '2', None]), st.integers(max_value=0))

# ---------------------------------------------------------------- attacks
@FAST
@given(eps=bad_number)
def test_attacks_refuse_bad_eps(eps):
    raises_naming('eps', lambda: pgd(NET, X, eps))
    raises_naming('eps', lambda: fgsm(NET, X, eps))

@FAST
@given(steps=bad_count)
def test_pgd_refuses_bad_steps(steps):
    raises_naming('steps', lambda: pgd(NET, X, 0.1, steps=steps))

@FAST
@given(eps=st.floats(1e-3, 0.5), steps=st.integers(1, 4), norm=st.sampled_from(['linf', 'l2']), seed=st.integers(0, 99))
def test_attacks_stay_in_the_ball_and_bounds(eps, steps, norm, seed):
    xa = pgd(NET, X, eps, steps=steps, norm=norm, generator=torch.Generator().manual_seed(seed))
    d = (xa - X).flatten(1)
    size = d.abs().max(1).values if norm == 'linf' else d.norm(dim=1)
    assert torch.isfinite(xa).all() and (size <= eps * (1 + 1e-5) + 1e-6).all() and xa.min() >= -1 and xa.max() <= 1

# ---------------------------------------------------------------- metrics
@FAST
@given(bs=bad_count)
def test_metrics_refuse_bad_batch_size(bs):
    raises_naming('batch_size', lambda: transferability(NET, NET2, X, batch_size=bs, progress=False))
    raises_naming('batch_size', lambda: bidirectional(NET, NET2, X, batch_size=bs, progress=False))

@FAST
@given(conv=st.text(max_size=8).filter(lambda s: s not in ('paper', 'official')))
def test_metrics_refuse_unknown_convention(conv):
    raises_naming('convention', lambda: transferability(NET, NET2, X, convention=conv, progress=False))

@FAST
@given(labels=st.lists(st.integers(-5, 10), min_size=8, max_size=8).filter(lambda l: min(l) < 0 or max(l) >= 3))
def test_metrics_refuse_labels_outside_the_reference_classes(labels):
    raises_naming('labels', lambda: transferability(NET, NET2, X, labels=torch.tensor(labels), reference=NET2,
                                                     progress=False))
BASELINES = {n: (s.needs, s.fn) for n, s in SCORERS.items() if s.needs != 'gradient'}   # the forward-pass scorers

@FAST
@given(eps=st.floats(0.01, 0.4), seed=st.integers(0, 999), conv=st.sampled_from(['paper', 'official']))
def test_metrics_are_finite_and_alpha2_in_range(eps, seed, conv):
    from adv_kt.attacks import Attack
    atk = Attack(eps, steps=2, generator=torch.Generator().manual_seed(seed))
    for r in (transferability(NET, NET2, X, attack=atk, convention=conv, progress=False),
              *bidirectional(NET, NET2, X, attack=atk, convention=conv, progress=False)):
        assert all(math.isfinite(v) for v in (r.alpha1, r.alpha2, r.alpha12))
        assert r.alpha1 >= 0 and -1e-9 <= r.alpha2 <= 1 + 1e-9

# ---------------------------------------------------------------- data and models
@FAST
@given(name=st.one_of(st.text(max_size=12).filter(lambda s: s not in DATASETS), st.just(['digits_uci']), st.just(3)))
def test_get_dataset_refuses_unknown_names(name):
    raises_naming('dataset', lambda: get_dataset(name, 'test'))

@FAST
@given(split=st.text(max_size=8).filter(lambda s: s not in ('train', 'test')))
def test_get_dataset_refuses_unknown_splits(split):
    raises_naming('split', lambda: get_dataset('digits_uci', split))

@FAST
@given(classes=st.lists(st.integers(-3, 14), min_size=1, max_size=4).filter(lambda c: min(c) < 0 or max(c) > 9 or len(set(c)) < len(c)))
def test_get_dataset_refuses_bad_classes(classes):
    raises_naming('class', lambda: get_dataset('digits_uci', 'test', classes))

@FAST
@given(classes=st.sets(st.integers(0, 9), min_size=1, max_size=10))
def test_get_dataset_class_subsets(classes):
    d = get_dataset('digits_uci', 'test', sorted(classes))
    assert d.images.dtype == torch.uint8 and set(d.labels.tolist()) <= set(range(len(classes))) and len(d) > 0

@FAST
@given(arch=st.sampled_from(list(ARCHS)), k=bad_count)
def test_get_model_refuses_bad_num_classes(arch, k):
    raises_naming('num_classes', lambda: get_model(arch, k))

@FAST
@given(arch=st.sampled_from(list(ARCHS)), w=bad_number)
def test_get_model_refuses_bad_width(arch, w):
    raises_naming('width', lambda: get_model(arch, 10, width=w))

@settings(max_examples=15, deadline=None)
@given(arch=st.sampled_from(list(ARCHS)), k=st.integers(1, 12), ch=st.sampled_from([1, 3]), w=st.sampled_from([0.0625, 0.125, 0.25]))
def test_get_model_outputs_are_finite(arch, k, ch, w):
    m = get_model(arch, k, in_channels=ch, width=w).eval()
    with torch.no_grad(): out = m(torch.rand(2, ch, 32, 32) * 2 - 1)
    assert out.shape == (2, k) and torch.isfinite(out).all()

# ---------------------------------------------------------------- estimators
def _problem(seed, n=40, k=3, d=5):
    g = np.random.default_rng(seed)
    y = np.arange(n) % k
    f = g.normal(size=(n, d)) + y[:, None]
    p = np.exp(f[:, :4]); p /= p.sum(1, keepdims=True)
    return f, p, y

@FAST
@given(name=st.sampled_from(list(BASELINES)),
       bad=st.sampled_from(['negative', 'fraction', 'single', 'short', 'nan', '2d']))
def test_estimators_refuse_bad_labels(name, bad):
    kind, fn = BASELINES[name]
    f, p, y = _problem(0)
    x = f if kind == 'features' else p
    y = {'negative': y - 1, 'fraction': y + 0.5, 'single': y * 0, 'short': y[:-2], 'nan': y + np.nan,
         '2d': y[:, None]}[bad]
    raises_naming('labels', lambda: fn(x, y))

@FAST
@given(name=st.sampled_from(list(BASELINES)), seed=st.integers(0, 10_000), k=st.integers(2, 5), n=st.integers(10, 60))
def test_estimators_are_finite_on_good_input(name, seed, k, n):
    kind, fn = BASELINES[name]
    f, p, y = _problem(seed, n=max(n, k), k=k)
    assert math.isfinite(fn(f if kind == 'features' else p, y))

# ---------------------------------------------------------------- selection
@FAST
@given(bs=bad_count)
def test_score_sources_refuses_bad_batch_size(bs):
    y = torch.arange(8) % 5
    raises_naming('batch_size', lambda: score_sources(NET, {'a': NET2}, (X, y), batch_size=bs))

@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 100))
def test_score_sources_is_finite(seed):
    torch.manual_seed(seed)
    y = torch.arange(8) % 5
    cands = {f'c{i}': nn.Sequential(nn.Flatten(), nn.Linear(12, 4)).eval() for i in range(3)}
    s = score_sources(NET, cands, (X, y), scorers=('leep', 'nce', 'h_score'), seed=seed)
    assert all(v is None or math.isfinite(v) for col in s.columns for v in s.column(col).values())

@FAST
@given(acc=st.one_of(st.just([1, 2, 3]), st.just({'a': float('nan'), 'b': 1.0, 'c': 2.0}), st.just({'a': 'x', 'b': 1, 'c': 2})))
def test_evaluate_ranking_refuses_bad_accuracy(acc):
    raises_naming('accuracy', lambda: evaluate_ranking({'a': 1.0, 'b': 2.0, 'c': 3.0}, acc))

@FAST
@given(vals=st.lists(st.floats(-10, 10), min_size=4, max_size=8, unique=True), seed=st.integers(0, 50))
def test_evaluate_ranking_is_finite(vals, seed):
    names = [f'm{i}' for i in range(len(vals))]
    acc = {n: float(i) for i, n in enumerate(names)}
    rep = evaluate_ranking({n: v for n, v in zip(names, vals)}, acc, n_boot=50, seed=seed)
    assert all(math.isfinite(r['tau_w']) for r in rep.to_rows())
