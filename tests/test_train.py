"""adv_kt.train beyond the notebook: determinism, model selection, transfer semantics, and the checkpoint cache under
fault injection (corrupt, truncated, foreign and half-written files, unwritable folders)."""
import copy, dataclasses, os, re, warnings
from pathlib import Path

import pytest, torch
from adv_kt import train as T
from adv_kt.data import get_dataset, split_valid, stratified_split, select_classes
from adv_kt.models import get_model

REPO = Path(__file__).resolve().parents[1]
FAST = T.TrainConfig(epochs=2, progress=False, device='cpu')


@pytest.fixture(scope='module')
def digits():
    mn = get_dataset('digits_mnist', 'train')
    small = mn.subset(stratified_split(mn.labels, 0.06, seed=0)[1])          # 240 images
    tr, va = split_valid(small, 0.25, seed=0)
    te = get_dataset('digits_mnist', 'test')
    return tr, va, te.subset(torch.arange(0, len(te), 5))

def same(a, b): return all(torch.equal(a[k], b[k]) for k in a) and a.keys() == b.keys()


# ---------------------------------------------------------------- determinism and selection
@pytest.mark.parametrize('arch,width', [('lenet', 0.5), ('resnet18', 0.0625)])
def test_two_runs_identical_weights(digits, arch, width):
    tr, va, _ = digits
    torch.manual_seed(0); init = get_model(arch, 10, 1, width)
    runs = []
    for seed in (0, 0, 1):
        m = copy.deepcopy(init); T.fit(m, tr, va, dataclasses.replace(FAST, seed=seed)); runs.append(m.state_dict())
    assert same(runs[0], runs[1])
    assert not same(runs[0], runs[2])

def test_selected_epoch_weights_are_returned(digits):
    tr, va, te = digits
    torch.manual_seed(0); m = get_model('lenet', 10, 1)
    h = T.fit(m, tr, va, dataclasses.replace(FAST, epochs=4, lr=0.05), test=te)
    best = max(range(1, 5), key=lambda e: (h.rows[e - 1]['valid_acc'], -e))
    assert h.best_epoch == best
    assert T.evaluate(m, va)[1] == h.rows[best - 1]['valid_acc']
    assert h.test_acc == T.accuracy(m, te) and not m.training
    h_last = T.fit(copy.deepcopy(m), tr, va, dataclasses.replace(FAST, select='last'))
    assert h_last.best_epoch == 2

def test_select_test_is_max_over_epochs(digits):
    tr, _, te = digits
    torch.manual_seed(0); m = get_model('lenet', 10, 1)
    h = T.fit(m, tr, None, dataclasses.replace(FAST, epochs=3, select='test'), test=te)
    assert h.test_acc == max(h.col('test_acc')) == T.accuracy(m, te)

def test_fit_errors(digits):
    tr, va, _ = digits
    m = get_model('lenet', 10, 1)
    for p in m.parameters(): p.requires_grad_(False)
    with pytest.raises(ValueError, match="nothing to train"): T.fit(m, tr, va, FAST)
    with pytest.raises(ValueError, match="needs a test split"): T.fit(m, tr, va, dataclasses.replace(FAST, select='test'))


# ---------------------------------------------------------------- transfer
def test_transfer_head_only_and_bn_statistics(digits):
    tr, va, _ = digits
    torch.manual_seed(0); src = get_model('resnet18', 10, 1, 0.0625)
    T.fit(src, tr, va, FAST)
    before = copy.deepcopy(src.state_dict())
    sub = select_classes(tr, [0, 1, 2, 3])
    cfg = dataclasses.replace(FAST, select='last')
    adapt = T.transfer(src, sub, None, 'head', cfg).model.state_dict()
    freeze = T.transfer(src, sub, None, 'head', cfg, bn_stats='freeze').model.state_dict()
    full = T.transfer(src, sub, None, 'full', cfg).model.state_dict()
    assert same(src.state_dict(), before)                                       # the source is untouched
    body = [k for k in before if not k.startswith('head.')]
    stats = [k for k in body if 'running_' in k]
    weights = [k for k in body if k.endswith(('weight', 'bias'))]
    assert all(torch.equal(adapt[k], before[k]) for k in weights)
    assert not any(torch.equal(adapt[k], before[k]) for k in stats)          # official code: BN stats adapt
    assert all(torch.equal(freeze[k], before[k]) for k in body)                # frozen: the backbone is the source
    assert sum(not torch.equal(full[k], before[k]) for k in weights) == len(weights)
    assert adapt['head.weight'].shape == (4, src.feat_dim)

def test_transfer_rejects_channel_mismatch(digits):
    tr, va, _ = digits
    with pytest.raises(ValueError, match="3-channel"):
        T.transfer(get_model('lenet', 10, 3), tr, va, cfg=FAST)


# ---------------------------------------------------------------- the checkpoint cache
def test_cache_key_covers_every_hyperparameter():
    base = T.TrainConfig()
    keys = {T.cache_key({'x': 1, 'train': base.hyper()})}
    for f in dataclasses.fields(base):
        if f.name in ('device', 'progress', 'select'): continue
        v = getattr(base, f.name)
        changed = dataclasses.replace(base, **{f.name: (not v) if isinstance(v, bool) else v * 2 + 1})
        keys.add(T.cache_key({'x': 1, 'train': changed.hyper()}))
    keys.add(T.cache_key({'x': 1, 'train': dataclasses.replace(base, select='test').hyper()}))
    assert len(keys) == len(dataclasses.fields(base)) - 1      # all but device and progress, plus the base
    assert base.hyper() == dataclasses.replace(base, device='cuda', progress=False).hyper()

def test_train_source_key_covers_the_data_and_model(tmp_path, monkeypatch):
    cfg = dataclasses.replace(FAST, epochs=1)
    calls = []
    def fake_fit(model, *a, **k):
        calls.append(model.config); return T.History('valid', [dict(epoch=1, lr=0.1, valid_acc=0.5)], 1)
    monkeypatch.setattr(T, 'fit', fake_fit)
    runs = [T.train_source('digits_mnist', 'lenet', cfg=cfg, cache=tmp_path),
            T.train_source('digits_mnist', 'lenet', classes=[0, 1], cfg=cfg, cache=tmp_path),
            T.train_source('digits_uci', 'lenet', cfg=cfg, cache=tmp_path),
            T.train_source('digits_mnist', 'lenet', width=0.5, cfg=cfg, cache=tmp_path),
            T.train_source('digits_mnist', 'mlp', cfg=cfg, cache=tmp_path),
            T.train_source('digits_mnist', 'lenet', cfg=cfg, valid_frac=0.2, cache=tmp_path)]
    assert len({r.key for r in runs}) == len(runs) == len(calls)
    assert len(list(tmp_path.glob('*.pt'))) == len(runs)

@pytest.fixture
def cached(tmp_path, monkeypatch):
    "A trained checkpoint in a cache folder given by $ADV_KT_CACHE."
    monkeypatch.setenv('ADV_KT_CACHE', str(tmp_path))
    cfg = dataclasses.replace(FAST, epochs=1)
    first = T.train_source('digits_uci', 'lenet', width=0.5, cfg=cfg)
    assert first.path.parent == tmp_path and not first.cached
    return first, cfg

def no_training(monkeypatch):
    def boom(*a, **k): raise AssertionError("fit was called")
    monkeypatch.setattr(T, 'fit', boom)

def test_cache_hit_does_not_train(cached, monkeypatch):
    first, cfg = cached
    no_training(monkeypatch)
    again = T.train_source('digits_uci', 'lenet', width=0.5, cfg=cfg)
    assert again.cached and same(again.model.state_dict(), first.model.state_dict())
    assert again.history == first.history and again.accuracy == first.accuracy

@pytest.mark.parametrize('damage', ['truncate', 'garbage', 'empty', 'foreign', 'wrong_shapes'])
def test_damaged_checkpoint_is_retrained(cached, damage, tmp_path):
    first, cfg = cached
    p = first.path
    if damage == 'truncate': p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 3])
    if damage == 'garbage': p.write_bytes(os.urandom(4096))
    if damage == 'empty': p.write_bytes(b'')
    if damage == 'foreign':                                                 # another run's checkpoint under this name
        other = T.train_source('digits_uci', 'lenet', width=0.5, cfg=dataclasses.replace(cfg, seed=5))
        p.write_bytes(other.path.read_bytes())
    if damage == 'wrong_shapes':
        ck = torch.load(p, weights_only=True); ck['config']['width'] = 1.0; torch.save(ck, p)
    with pytest.warns(UserWarning, match="unusable checkpoint"):
        again = T.train_source('digits_uci', 'lenet', width=0.5, cfg=cfg)
    assert not again.cached and same(again.model.state_dict(), first.model.state_dict())   # deterministic retrain
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert T.train_source('digits_uci', 'lenet', width=0.5, cfg=cfg).cached              # repaired

def test_crash_while_saving_leaves_no_valid_file(tmp_path, monkeypatch):
    cfg = dataclasses.replace(FAST, epochs=1)
    real_save = torch.save
    def crashing_save(obj, f, *a, **k):
        real_save(obj, f, *a, **k); f.truncate(100); raise KeyboardInterrupt   # killed mid-write
    monkeypatch.setattr(torch, 'save', crashing_save)
    with pytest.raises(KeyboardInterrupt):
        T.train_source('digits_uci', 'lenet', width=0.5, cfg=cfg, cache=tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(torch, 'save', real_save)
    assert not T.train_source('digits_uci', 'lenet', width=0.5, cfg=cfg, cache=tmp_path).cached

def test_unwritable_cache_fails_before_training(tmp_path, monkeypatch):
    no_training(monkeypatch)
    blocker = tmp_path/'file'; blocker.write_text('')
    with pytest.raises(OSError, match="cannot be written.*ADV_KT_CACHE"):
        T.train_source('digits_uci', 'lenet', cfg=FAST, cache=blocker/'cache')
    monkeypatch.setenv('ADV_KT_CACHE', str(blocker/'cache'))
    with pytest.raises(OSError, match="cannot be written"):
        T.train_source('digits_uci', 'lenet', cfg=FAST)

def test_knowledge_transfer_is_cached(cached, monkeypatch):
    first, cfg = cached
    kt = T.knowledge_transfer(first, 'digits_mnist', classes=[1, 3, 4, 5], cfg=cfg)
    assert kt.model.head.out_features == 4 and not kt.cached
    no_training(monkeypatch)
    monkeypatch.setattr(T, 'transfer', lambda *a, **k: (_ for _ in ()).throw(AssertionError("transfer was called")))
    again = T.knowledge_transfer(first, 'digits_mnist', classes=[1, 3, 4, 5], cfg=cfg)
    assert again.cached and again.accuracy == kt.accuracy and same(again.model.state_dict(), kt.model.state_dict())

def test_bad_names(tmp_path):
    with pytest.raises(ValueError, match="mlp, lenet, alexnet, resnet18, resnet50"):
        T.train_source('digits_uci', 'vit_b_16', cfg=FAST, cache=tmp_path)
    with pytest.raises(ValueError, match="valid modes"):
        T.transfer(get_model('lenet', 10, 1), get_dataset('digits_uci', 'test'), mode='linear', cfg=FAST)
    fake = T.FitResult(get_model('lenet', 10, 1), T.History('valid'), key='0' * 64)
    with pytest.raises(ValueError, match="valid choices: adapt, freeze"):
        T.knowledge_transfer(fake, 'digits_uci', bn_stats='fixed', cfg=FAST, cache=tmp_path)
    with pytest.raises(ValueError, match="1-channel images, cifar10 has 3"):
        T.knowledge_transfer(fake, 'cifar10', cfg=FAST, cache=tmp_path)
    with pytest.raises(ValueError, match="valid_frac"):
        T.train_source('digits_uci', 'lenet', cfg=FAST, valid_frac=1.5, cache=tmp_path)
    assert list(tmp_path.iterdir()) == []                                     # nothing written, nothing trained

def test_no_hard_coded_cuda():
    for mod in ('data', 'models', 'train'):
        assert not re.search(r'\.cuda\(', (REPO/'adv_kt'/f'{mod}.py').read_text()), mod
