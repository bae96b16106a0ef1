"The sub-zoo protocol (adv_kt.protocol) on small tables whose answers are known."
import csv, math
import numpy as np
import pytest
from adv_kt.protocol import (read_zoo, subzoos, subzoo_measures, resample_index, interval, protocol_table, win_rates,
                             setup_stability, rank_mean, partial_spearman, best_column, cost_table)
from adv_kt.stats import weighted_tau, top1_regret

def write_zoo(path, seeds=3, n=10, seed=0):
    "A zoo table: `good` follows accuracy, `noise` does not, `bad` reverses it; params missing (rebuilt)."
    g = np.random.default_rng(seed)
    rows = []
    for s in range(seeds):
        acc = g.permutation(n) * 2.0 + 50
        for i in range(n):
            rows.append(dict(seed=s, candidate=f'm{i}', arch='lenet', width=0.25 * (1 + i % 2), epochs=1,
                             classes='all' if i % 3 else '0 1 2', source_acc=90 + g.normal(),
                             knowledge_transfer=acc[i], train_seconds=1.0, transfer_seconds=2.0,
                             good=acc[i] + g.normal() * 0.1, noise=g.normal(), bad=-acc[i],
                             **{'seconds forward': 0.1, 'seconds good': 0.01, 'seconds alpha': 1.0}))
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    return path

def test_read_zoo_adds_static_controls_and_checks_completeness(tmp_path):
    t = read_zoo(write_zoo(tmp_path/'z.csv'))
    assert t.acc.shape == (3, 10) and {'good', 'noise', 'bad', 'source_acc (static)', 'params (static)'} == set(t.scores)
    assert t.scores['params (static)'][0, 0] != t.scores['params (static)'][0, 1]    # rebuilt per width and classes
    rows = list(csv.DictReader(open(tmp_path/'z.csv')))
    with open(tmp_path/'short.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows[:-1])
    with pytest.raises(ValueError, match='every seed needs every member'): read_zoo(tmp_path/'short.csv')

def test_measures_equal_the_one_zoo_statistics_and_known_orders(tmp_path):
    t = read_zoo(write_zoo(tmp_path/'z.csv'))
    subs = subzoos(10, 6, 50)
    m = subzoo_measures(t, subs)
    assert np.allclose(m['bad']['tau_w'], -1) and np.allclose(m['bad']['pearson'], -1)
    s, j = 1, 7
    assert m['noise']['tau_w'][s, j] == pytest.approx(weighted_tau(t.scores['noise'][s, subs[j]], t.acc[s, subs[j]]))
    assert m['noise']['regret'][s, j] == pytest.approx(top1_regret(t.scores['noise'][s, subs[j]], t.acc[s, subs[j]]))
    idx = resample_index(3, 50, 200)
    rows = {r['column']: r for r in protocol_table(m, idx)}
    assert rows['good']['tau_w'][1] > rows['noise']['tau_w'][2]          # intervals separate a real difference
    w = win_rates(m, ['good', 'noise', 'bad'], idx)
    assert w['good', 'bad'] == (1.0, 1.0, 1.0) and w['bad', 'good'] == (0.0, 0.0, 0.0)
    assert best_column(t, ['noise', 'good', 'bad']) == 'good'

def test_interval_is_two_stage():
    "A constant within each seed but different between seeds: the interval reflects the seeds, not the sub-zoos."
    V = np.repeat(np.array([[0.0], [1.0], [2.0]]), 100, 1)
    mean, lo, hi = interval(V, resample_index(3, 100, 2000))
    assert mean == 1 and lo <= 1 / 3 + 1e-9 and hi >= 5 / 3 - 1e-9

def test_setup_stability_one_when_order_never_changes_lower_with_noise(tmp_path):
    t = read_zoo(write_zoo(tmp_path/'z.csv'))
    m = subzoo_measures(t, subzoos(10, 6, 50))
    ss = setup_stability(m, ['good', 'bad', 'source_acc (static)'])
    assert ss['sub-zoo'] < 1 and all(-1 <= v <= 1 for v in ss.values())
    fixed = {c: {k: v + i for k, v in m['good'].items()} for i, c in enumerate('abc')}
    assert setup_stability(fixed, list('abc'), ('tau_w', 'pearson')) == {'sub-zoo': 1.0, 'seed': 1.0, 'measure': 1.0}

def test_rank_mean_of_a_score_with_itself_is_the_score(tmp_path):
    t = read_zoo(write_zoo(tmp_path/'z.csv'))
    subs = subzoos(10, 6, 20)
    assert np.allclose(rank_mean(t, subs, 'noise', 'noise')['tau_w'], subzoo_measures(t, subs, ['noise'])['noise']['tau_w'])

def test_partial_spearman_removes_what_the_given_score_explains(tmp_path):
    t = read_zoo(write_zoo(tmp_path/'z.csv', seeds=4, n=14))
    t.scores['logme'] = t.scores['good']
    r = partial_spearman(t, 'good', 'logme', n_boot=50)
    assert r['spearman'][0] > 0.99 and all(not math.isfinite(v) or abs(v) < 1e-9 for v in r['per_seed'])
    r = partial_spearman(t, 'good', 'noise', n_boot=200)
    assert r['partial'][0] > 0.9 and r['partial'][1] <= r['partial'][0] <= r['partial'][2]

def test_cost_table_adds_the_forward_pass(tmp_path):
    rows = {r['scorer']: r for r in cost_table(read_zoo(write_zoo(tmp_path/'z.csv')))}
    assert rows['good']['seconds'] == pytest.approx(0.11) and rows['alpha (FGSM)']['seconds'] == 1.0
    assert rows['head-only fine-tuning (ground truth)']['fraction'] == 1 and rows['good']['zoo'] == pytest.approx(1.1)

def test_protocol_page_shows_what_the_committed_tables_give():
    "The stored digits table of the protocol page equals the table recomputed from the committed zoo CSV."
    import json
    from pathlib import Path
    from adv_kt.protocol import table_markdown
    nbs = Path(__file__).resolve().parents[1]/'nbs'
    cells = [c for c in json.loads((nbs/'12a_selection_protocol.ipynb').read_text())['cells']
             if c['cell_type'] == 'code' and ''.join(c['source']).rstrip().endswith('Markdown(table_markdown(rows_digits))')]
    assert len(cells) == 1
    stored = ''.join(next(o for o in cells[0]['outputs'] if 'text/markdown' in o.get('data', {}))['data']['text/markdown'])
    t = read_zoo(nbs/'results_digits_zoo'/'model_selection.csv', 'digits')
    subs = subzoos(len(t.members))
    assert stored == table_markdown(protocol_table(subzoo_measures(t, subs), resample_index(len(t.seeds), len(subs))))
