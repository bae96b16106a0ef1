"""A source whose training diverges is caught where it happens, recorded in the cache, flagged in rows, tables,
figures and the report, and the experiment goes on with the other sources, whose numbers do not change."""
import json
from dataclasses import replace
import pytest
from adv_kt.experiments import get_preset, run_adv_to_knowledge, correlation_table, paper_table, learned_note
from adv_kt.reproduce import reproduce
from adv_kt.train import TrainingDiverged
from adv_kt.zoo import run_model_selection, ZOO

def exploding(p):
    "`p` with the MLP's recipe at learning rate 1e6 (the issue's CPU reproduction)."
    return get_preset(p, recipes={**p.recipes, 'mlp': {**p.recipes.get('mlp', {}), 'lr': 1e6}})

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp('div')
    p = get_preset('smoke', seeds=(0,))
    good = run_adv_to_knowledge(p, d/'cache', progress=False)
    bad = run_adv_to_knowledge(exploding(p), d/'cache', progress=False)
    return p, good, bad, d

def test_diverged_source_is_flagged_and_the_others_are_unchanged(runs):
    p, good, bad, _ = runs
    mlp = [r for r in bad if r['source'] == 'mlp']
    assert mlp and all(r['source_diverged'] and r['alpha1'] is None and r['knowledge_transfer'] is None for r in mlp)
    assert 'mlp on digits_mnist (lr 1e+06): training diverged in epoch 1, step ' in mlp[0]['diverged_error']
    assert [r for r in bad if r['source'] != 'mlp'] == [r for r in good if r['source'] != 'mlp']
    assert not any(r['source_diverged'] for r in good)

def test_tables_and_notes_name_it(runs):
    _, _, bad, _ = runs
    assert '✗ 1/1 diverged' in paper_table(bad, 'fgsm')
    note = learned_note(bad)
    assert '1 of 5 (source, seed) points have no values' in note and '(MLP) seed 0' in note
    assert 'nan' not in correlation_table(bad).lower()

def test_the_record_answers_a_rerun_without_training(runs, monkeypatch):
    p, _, bad, d = runs
    import adv_kt.train as T
    monkeypatch.setattr(T, 'fit', lambda *a, **k: pytest.fail('a recorded divergence must not be retrained'))
    assert run_adv_to_knowledge(exploding(p), d/'cache', progress=False) == bad
    with pytest.raises(TrainingDiverged, match='recorded in'):
        from adv_kt.experiments import source_model
        source_model(exploding(p), 'mlp', None, 0, d/'cache')

def test_report_names_it_and_the_zoo_goes_on(runs, tmp_path):
    p, _, _, d = runs
    report = reproduce(exploding(p), tmp_path/'out', d/'cache', progress=False, parts=('adv_to_knowledge',), jobs=1)
    md = report.read_text()
    assert 'training diverged' in md and '(MLP) seed 0' in md
    rows = json.loads((tmp_path/'out'/'adv_to_knowledge.json').read_text())['rows']
    assert sum(r['source_diverged'] for r in rows) == 4            # 2 attacks x 2 conventions
    members = tuple(m for m in ZOO if m.arch in ('mlp', 'lenet'))[:3]
    st = run_model_selection(exploding(p), 0, members, cache=d/'cache', progress=False, n_boot=50)
    assert set(st.info['diverged']) == {m.name for m in members if m.arch == 'mlp'}
    assert len(st.rows) == len(members) - len(st.info['diverged'])
    assert 'training diverged' in st._repr_markdown_()

def test_constant_column_says_why():
    rows = [dict(experiment='adv_to_knowledge', source=a, seed=0, attack='pgd', convention='official',
                 knowledge_transfer=25.0, alpha1=v, alpha2=v, alpha12=v, source_learned=True)
            for a, v in (('mlp', 0.1), ('lenet', 0.2), ('alexnet', 0.3))]
    t = correlation_table(rows, ['pgd'], n_boot=20)
    assert 'undefined: knowledge transfer is constant' in t and 'nan' not in t.lower()
