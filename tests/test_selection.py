"""adv_kt.selection beyond the notebook: the rank statistics against scipy, evaluate_ranking's bookkeeping,
score_sources on tiny models (order independence, skipped entries, bad input), checkpoints, and the
`adv_kt_rank` command end to end with checkpoints written to tmp_path."""
import json, math, shutil, subprocess, sys

import numpy as np
import pytest
import torch
from torch import nn

from adv_kt.attacks import Attack
from adv_kt.models import get_model
from adv_kt.selection import (ALPHA_COLUMNS, SCORERS, evaluate_ranking, load_checkpoint, main, model_outputs,
                              save_checkpoint, score_sources)
from adv_kt.stats import top1_regret, weighted_tau, pearson as _pearson, spearman as _spearman, kendall as _kendall


# ---------------------------------------------------------------- rank statistics (adv_kt.stats)
@pytest.mark.parametrize('seed', range(10))
def test_statistics_match_scipy(seed):
    stats = pytest.importorskip('scipy.stats')
    g = np.random.default_rng(seed)
    n = int(g.integers(3, 15))
    x = g.integers(0, 5, n).astype(float) if seed % 2 else g.normal(size=n)   # half the cases full of ties
    y = g.integers(0, 5, n).astype(float) if seed % 3 else x + g.normal(size=n)
    if len(set(x)) < 2 or len(set(y)) < 2: return
    assert weighted_tau(x, y) == pytest.approx(stats.weightedtau(x, y).statistic, abs=1e-12)
    assert _spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert _pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert _kendall(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)


def test_weighted_tau_is_symmetric_and_rank_based():
    g = np.random.default_rng(1)
    x, y = g.normal(size=10), g.normal(size=10)
    assert weighted_tau(x, y) == pytest.approx(weighted_tau(y, x), abs=1e-12)
    assert weighted_tau(np.exp(x), y ** 3) == pytest.approx(weighted_tau(x, y), abs=1e-12)   # monotone maps
    # not antisymmetric: negating y moves the weight from one end of the ranking to the other
    assert weighted_tau(x, -y) != pytest.approx(-weighted_tau(x, y), abs=1e-3)


def test_statistics_refuse_what_they_cannot_define():
    with pytest.raises(ValueError, match='constant'): weighted_tau([2, 2, 2], [1, 2, 3])
    with pytest.raises(ValueError, match='constant'): _pearson([1, 2, 3], [5, 5, 5])
    with pytest.raises(ValueError, match='NaN'): weighted_tau([1, float('nan'), 3], [1, 2, 3])
    with pytest.raises(ValueError, match='one length'): top1_regret([1, 2], [1, 2, 3])
    assert top1_regret([1.0], [0.7]) == 0.0


ACC = dict(a=0.9, b=0.8, c=0.7, d=0.6, e=0.5)


def test_evaluate_ranking_perfect_reversed_and_constant():
    cols = {'good': {k: v * 10 for k, v in ACC.items()}, 'bad': {k: -v for k, v in ACC.items()},
            'flat': {k: 1.0 for k in ACC}}
    rep = evaluate_ranking(cols, ACC, n_boot=200)
    good, bad, flat = rep.row('good'), rep.row('bad'), rep.row('flat')
    assert good['tau_w'] == pytest.approx(1) and good['regret'] == 0 and good['top1'] == 'a'
    assert bad['tau_w'] == pytest.approx(-1) and bad['regret'] == pytest.approx(0.4) and bad['top1'] == 'e'
    assert flat['tau_w'] is None and flat['pearson'] is None and 'constant' in flat['note']
    assert flat['regret'] == pytest.approx(0.9 - np.mean(list(ACC.values())))   # all tied at the top
    assert good['tau_w_lo'] == good['tau_w_hi'] == pytest.approx(1)
    assert 0 < good['n_boot_tau_w'] <= 200
    assert '–' in rep.markdown() and 'nan' not in rep.markdown().lower()
    assert rep.to_csv().count('\n') == 4


def test_evaluate_ranking_is_seeded_and_checks_input():
    g = np.random.default_rng(0)
    scores = {k: v + g.normal(0, 0.1) for k, v in ACC.items()}
    a, b = evaluate_ranking(scores, ACC, seed=3), evaluate_ranking(scores, ACC, seed=3)
    c = evaluate_ranking(scores, ACC, seed=4)
    assert a.rows == b.rows and a.rows[0]['tau_w'] == c.rows[0]['tau_w']
    assert (a.rows[0]['pearson_lo'], a.rows[0]['pearson_hi']) != (c.rows[0]['pearson_lo'], c.rows[0]['pearson_hi'])
    with pytest.raises(ValueError, match='missing for'): evaluate_ranking(scores, {'a': 0.9})
    with pytest.raises(ValueError, match='finite'): evaluate_ranking(scores, {**ACC, 'a': float('nan')})
    with pytest.raises(ValueError, match='columns'): evaluate_ranking(scores, ACC, columns=['nope'])
    few = evaluate_ranking({'a': 1.0, 'b': 2.0}, ACC)
    assert few.rows[0]['tau_w'] is None and 'fewer than 3' in few.rows[0]['note']


# ---------------------------------------------------------------- scoring tiny models
def tiny(arch='mlp', classes=4, channels=1, seed=0):
    torch.manual_seed(seed)
    return get_model(arch, classes, in_channels=channels, width=0.1 if arch == 'mlp' else 0.5).eval()


@pytest.fixture(scope='module')
def setup():
    ref = tiny(seed=0)
    x = torch.rand(60, 1, 32, 32) * 2 - 1
    with torch.no_grad(): y = ref(x).argmax(1)
    y[:10] = (y[:10] + 1) % 4                                         # 10 samples the reference gets wrong
    y[10:14] = torch.arange(4)                                        # every class present
    cands = {'m1': tiny(seed=1), 'm2': tiny(seed=2), 'lenet': tiny('lenet', 6, seed=3)}
    return ref, cands, x, y


def test_scores_are_complete_finite_and_timed(setup):
    ref, cands, x, y = setup
    res = score_sources(ref, cands, (x, y))
    fwd = ['leep', 'nce', 'h_score', 'logme', 'transrate', 'sfda', 'knn', 'gbc']
    assert res.columns == list(ALPHA_COLUMNS) + fwd
    assert all(v is not None and math.isfinite(v) for col in res.values.values() for v in col)
    assert all(t is not None and t >= 0 for ts in res.seconds.values() for t in ts)
    assert set(res.seconds) == {'alpha', 'forward', *fwd}
    correct = int((ref(x).argmax(1) == y).sum())
    assert res.info['n_correct'] == correct < 60
    assert all(0 < n <= correct for n in res.n_alpha)
    rows = res.to_rows()
    assert len(rows) == 3 and rows[0]['candidate'] == 'm1' and 'seconds alpha' in rows[0] and rows[0]['alpha samples'] == res.n_alpha[0]
    assert res.to_csv().count('\n') == 4 and 'nan' not in res.markdown().lower()


def test_scores_do_not_depend_on_zoo_order(setup):
    ref, cands, x, y = setup
    a = score_sources(ref, cands, (x, y), scorers=('alpha',))
    b = score_sources(ref, dict(reversed(list(cands.items()))), (x, y), scorers=('alpha',))
    for c in ALPHA_COLUMNS: assert a.column(c) == pytest.approx(b.column(c), abs=1e-12)


def test_attack_is_reseeded_and_custom_callables_work(setup):
    ref, cands, x, y = setup
    atk = Attack(0.2, steps=2, generator=torch.Generator().manual_seed(123))
    a = score_sources(ref, cands, (x, y), attack=atk, scorers=('alpha',), seed=5)
    b = score_sources(ref, cands, (x, y), attack=atk, scorers=('alpha',), seed=5)
    assert a.values == b.values and 'PGD-2' in a.info['attack']
    det = lambda model, xb: Attack(0.2, steps=1, random_start=False)(model, xb)
    c = score_sources(ref, cands, (x, y), attack=det, scorers=('alpha',), correct_only=False)
    assert c.info['n_correct'] < 60 and max(c.n_alpha) > c.info['n_correct']   # every sample offered


def test_list_of_candidates_and_scorer_subset(setup):
    ref, cands, x, y = setup
    res = score_sources(ref, list(cands.values()), (x, y), scorers=('logme', 'leep'))
    assert res.names == ['0:mlp', '1:mlp', '2:lenet'] and res.columns == ['logme', 'leep']
    assert 'alpha' not in res.seconds


def test_broken_candidates_are_skipped_not_nan(setup):
    ref, cands, x, y = setup
    nan_model = tiny(seed=4)
    with torch.no_grad(): nan_model.head.weight.fill_(float('nan'))   # finite features, NaN predictions
    res = score_sources(ref, {'ok': cands['m1'], 'nan_head': nan_model}, (x, y))
    assert set(res.column('h_score')) == {'ok', 'nan_head'}           # features are fine
    assert set(res.column('leep')) == {'ok'} and set(res.column('alpha1 T->S')) == {'ok'}
    assert ('nan_head', 'leep') in res.skipped and ('nan_head', 'alpha') in res.skipped
    assert not any(isinstance(v, float) and math.isnan(v) for col in res.values.values() for v in col)
    assert 'Skipped:' in res.markdown()
    with pytest.raises(ValueError, match='NaN'):
        score_sources(ref, {'nan_head': nan_model}, (x, y), scorers=('leep',), strict=True)


def test_bad_input_fails_before_any_work(setup):
    ref, cands, x, y = setup
    calls = []
    def spy(model, xb): calls.append(1); return xb
    bad = [
        (dict(candidates={'rgb': tiny(channels=3)}), 'cannot take the target inputs'),
        (dict(target_data=(x[:0], y[:0])), 'empty'),
        (dict(target_data=(x, y + 4)), 'reference model has 4 outputs'),
        (dict(target_data=(x, y[:-1])), 'labels for'),
        (dict(target_data=(x, torch.full_like(y, 2))), 'only one class'),
        (dict(target_data=(x, y.double() + 0.5)), 'integer'),
        (dict(target_data=x), r'\(x, y\)'),
        (dict(candidates=[]), 'empty'),
        (dict(candidates={'x': 'not a model'}), 'nn.Module'),
        (dict(scorers=('alpha', 'fid')), 'scorers'),
        (dict(convention='squared'), 'convention'),
    ]
    for change, msg in bad:
        kw = dict(reference=ref, candidates=cands, target_data=(x, y), attack=spy, **{})
        kw.update(change)
        with pytest.raises(ValueError, match=msg): score_sources(**kw)
    assert calls == []
    nan_ref = tiny(seed=0)
    with torch.no_grad(): nan_ref.head.bias.fill_(float('nan'))
    with pytest.raises(ValueError, match='reference'): score_sources(nan_ref, cands, (x, y))


def test_image_data_is_accepted():
    from adv_kt.data import get_dataset
    data = get_dataset('digits_uci', 'test')
    data = data.subset(torch.arange(0, len(data), 8))
    ref = tiny(classes=10, seed=0)
    res = score_sources(ref, {'m': tiny(classes=3, seed=1)}, data, scorers=('h_score', 'nce'))
    assert res.info['n_target'] == len(data) and set(res.column('h_score')) == {'m'}


# ---------------------------------------------------------------- models and checkpoints
def test_model_outputs_reads_the_last_linear_input_of_plain_modules():
    m = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.Tanh(), nn.Linear(5, 3))
    x = torch.randn(7, 3, 2, 2)
    f, p = model_outputs(m, x, batch_size=3)
    with torch.no_grad(): assert torch.allclose(f, m[:3](x)) and torch.allclose(p, m(x).softmax(1))
    with pytest.raises(ValueError, match='no `features`'): model_outputs(nn.Flatten(), x)


def test_train_cache_files_are_checkpoints(tmp_path):
    from adv_kt.train import History, TrainConfig, cached_fit
    model = tiny(classes=10)
    r = cached_fit(dict(kind='source', arch='mlp', dataset='x'), lambda: (model, History('last')), TrainConfig(epochs=1), cache=tmp_path)
    loaded = load_checkpoint(r.path)
    x = torch.rand(3, 1, 32, 32)
    with torch.no_grad(): assert torch.equal(loaded(x), model(x))


def test_checkpoint_errors(tmp_path):
    (tmp_path/'junk.pt').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='cannot be read'): load_checkpoint(tmp_path/'junk.pt')
    m = tiny()
    save_checkpoint(m, tmp_path/'m.pt')
    ck = torch.load(tmp_path/'m.pt', weights_only=True)
    ck['config']['num_classes'] = 9
    torch.save(ck, tmp_path/'wrong.pt')
    with pytest.raises(ValueError, match='does not match'): load_checkpoint(tmp_path/'wrong.pt')
    with pytest.raises(ValueError, match='config'): save_checkpoint(nn.Linear(2, 2), tmp_path/'x.pt')


# ---------------------------------------------------------------- the command line
def run_cli(args):
    exe = shutil.which('adv_kt_rank')
    cmd = [exe] if exe else [sys.executable, '-c', 'from adv_kt.selection import cli; cli()']
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp('ckpt')
    save_checkpoint(tiny(classes=10, seed=0), d/'ref.pt')
    for i, (arch, k) in enumerate([('mlp', 10), ('mlp', 5), ('lenet', 10)]):
        save_checkpoint(tiny(arch, k, seed=i + 1), d/f'cand{i}.pt')
    save_checkpoint(tiny(classes=10, channels=3), d/'rgb.pt')
    (d/'acc.json').write_text(json.dumps({'cand0': 0.5, 'cand1': 0.7, 'cand2': 0.6}))
    return d


def test_cli_ranks_checkpoints_end_to_end(checkpoints):
    d = checkpoints
    out = run_cli(['--reference', d/'ref.pt', '--candidates', d/'cand0.pt', d/'cand1.pt', d/'cand2.pt',
                   '--target', 'digits_uci', '--split', 'test', '--n', 40, '--all-samples',
                   '--csv', d/'scores.csv', '--accuracy', d/'acc.json'])
    assert out.returncode == 0, out.stderr
    assert '3 candidates on digits_uci/test (40 samples' in out.stdout and 'sorted by alpha12 T->S' in out.stdout
    table = [l for l in out.stdout.splitlines() if l.startswith('| cand') and not l.startswith('| candidate')]
    assert len(table) == 6                                            # scores and seconds, 3 rows each
    col = next(l for l in out.stdout.splitlines() if l.startswith('| candidate')).split(' | ').index('alpha12 T->S')
    values = [float(l.split(' | ')[col]) for l in table[:3]]
    assert values == sorted(values, reverse=True)                     # sorted by the default column
    assert '| score | n | weighted tau |' in out.stdout and '| leep | 3 |' in out.stdout
    csv_lines = (d/'scores.csv').read_text().splitlines()
    assert len(csv_lines) == 4 and csv_lines[0].startswith('candidate,alpha1 T->S')


def test_cli_scorer_subset_and_sort(checkpoints):
    d = checkpoints
    out = run_cli(['--reference', d/'ref.pt', '--candidates', d/'cand0.pt', d/'cand1.pt', '--target', 'digits_uci',
                   '--n', 30, '--scorers', 'logme', 'nce', '--sort', 'nce'])
    assert out.returncode == 0, out.stderr
    assert 'alpha' not in out.stdout.split('sorted by')[1] and '| candidate | logme | nce |' in out.stdout


@pytest.mark.parametrize('args,msg', [
    (['--candidates', 'rgb.pt'], 'rgb.pt: cannot take inputs of shape (1, 32, 32)'),
    (['--candidates', 'missing.pt'], 'missing.pt: no such file'),
    (['--candidates', 'cand0.pt', '--sort', 'fid'], "unknown column 'fid'"),
    (['--candidates', 'cand0.pt', '--n', '0'], '--n: must be >= 1'),
    (['--candidates', 'cand0.pt', '--target', 'nope'], 'nope: not a folder, a file or a registered dataset'),
])
def test_cli_errors_are_one_line_and_exit_2(checkpoints, args, msg):
    d = checkpoints
    args = [str(d/a) if a.endswith('.pt') else a for a in args]
    base = ['--reference', d/'ref.pt', '--target', 'digits_uci', '--n', 20, '--all-samples']
    out = run_cli(base + args)
    assert out.returncode == 2 and msg in out.stderr and 'Traceback' not in out.stderr, out.stderr


def test_zoo_caches_alphas_and_forward_scores_apart(tmp_path):
    "Registering a scorer re-runs the members' forward pass only: the cached alphas are read, not recomputed."
    from types import SimpleNamespace
    from adv_kt.experiments import get_preset
    from adv_kt.estimators import register_scorer, forward_scorers
    from adv_kt.zoo import score_member
    torch.manual_seed(0)
    p = get_preset('smoke')
    ref = SimpleNamespace(key='ref', model=get_model('lenet', 10, in_channels=1).eval())
    src = SimpleNamespace(key='src', model=get_model('lenet', 10, in_channels=1).eval())
    x, y = torch.rand(40, 1, 32, 32) * 2 - 1, torch.arange(40) % 10
    a = score_member(ref, 'm', src, x, y, p, 0, 'fgsm', tmp_path)
    assert set(ALPHA_COLUMNS) | set(forward_scorers()) == set(a.columns)
    kinds = lambda: sorted(f.name.split('-')[0] for f in (tmp_path/'measurements').iterdir())
    assert kinds() == ['zoo_forward', 'zoo_scores']
    try:
        register_scorer('mean_confidence', 'probs', lambda probs, labels: probs.max(1).values.double().mean().item())
        b = score_member(ref, 'm', src, x, y, p, 0, 'fgsm', tmp_path)
    finally: SCORERS.pop('mean_confidence')
    assert kinds() == ['zoo_forward', 'zoo_forward', 'zoo_scores']           # one new forward entry, no new alphas
    assert 'mean_confidence' in b.columns and all(a.values[c] == b.values[c] for c in ALPHA_COLUMNS)
    assert b.seconds['alpha'] == a.seconds['alpha']                          # read from the cache, not re-timed
    pg = score_member(ref, 'm', src, x, y, p, 0, 'pgd', tmp_path)
    assert set(pg.columns) == set(ALPHA_COLUMNS)


def test_rank_offers_every_registered_scorer():
    "`adv_kt_rank --scorers` accepts every registered scorer, the newer ones included."
    from fastcore.script import anno_parser
    from adv_kt.selection import adv_kt_rank
    choices = next(a.choices for a in anno_parser(adv_kt_rank)._actions if a.dest == 'scorers')
    assert list(choices) == list(SCORERS) and {'sfda', 'knn', 'gbc'} <= set(choices)
