"""A pair whose alphas are undefined (no sample with a nonzero own-attack deviation) is recorded, cached, flagged in
the tables and left out of the statistics, instead of failing the whole experiment."""
from types import SimpleNamespace
import torch, torch.nn as nn
from adv_kt.experiments import (get_preset, alpha_rows, summarize, correlate, learned_note, paper_table,
                                effect_summary, METRICS)
from adv_kt.metrics import NoUsableSample, transferability

def constant_model():
    m = nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 10))
    nn.init.zeros_(m[1].weight); nn.init.constant_(m[1].bias, 1.0)   # the output ignores the input
    return m.eval()

def test_alpha_rows_record_an_undefined_pair(tmp_path):
    p = get_preset('smoke')
    torch.manual_seed(0)
    reference = nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 10)).eval()
    x = torch.rand(16, 1, 32, 32); y = reference(x).argmax(1).detach()
    ref, dead = SimpleNamespace(key='ref', model=reference), SimpleNamespace(key='dead', model=constant_model())
    try: transferability(reference, dead.model, x, labels=y, reference=reference, progress=False)
    except NoUsableSample: pass
    else: raise AssertionError("a constant measured model should leave no usable sample")
    rows = alpha_rows(ref, dead, ref, x, y, 'fgsm', p, 0, tmp_path)
    assert {r['convention'] for r in rows} == {'official', 'paper'}
    assert all(r['alpha_error'].startswith('x: no usable sample') and r['n_used'] == 0 for r in rows)
    assert all(r[m] is None for r in rows for m in METRICS)
    assert alpha_rows(ref, dead, ref, x, y, 'fgsm', p, 0, tmp_path) == rows          # cached, not recomputed

def test_undefined_rows_are_left_out_and_named():
    base = dict(experiment='adv_to_knowledge', attack='fgsm', convention='official', source_learned=True,
                source_diverged=False, min_source_acc=90.0, reference_acc=97.0, n_used=300)
    rows = [dict(base, source=s, arch=s, seed=k, knowledge_transfer=70 + 5 * i + k, source_acc=95 + i,
                 alpha1=0.3 + 0.1 * i + 0.01 * k, alpha2=0.1 + 0.02 * i - 0.01 * k, alpha12=0.03 + 0.01 * i)
            for i, s in enumerate(('mlp', 'lenet', 'alexnet', 'resnet18')) for k in range(3)]
    rows[0] = dict(rows[0], **dict.fromkeys(METRICS), n_used=0, alpha_error='x: no usable sample (300 ...)')
    s = {d['model']: d for d in summarize(rows, 'fgsm')}
    assert s['mlp']['n_undefined'] == 1 and s['mlp']['knowledge_transfer'] == 71.0      # 70 left in, mean of 3
    assert abs(s['mlp']['alpha1'] - 0.315) < 1e-12                                     # 2 seeds with alphas
    assert '∅ 1/3 no alphas' in paper_table(rows, 'fgsm')
    assert 'mlp seed 0, fgsm (x: no usable sample' in learned_note(rows).replace('Fully Connected (MLP)', 'mlp')
    c = correlate(rows, 'fgsm', n_boot=50)
    assert all(v is not None for v in c.values())
    assert effect_summary(rows, 'fgsm', n_boot=50)['levels']['n'] == 11
