"""The families study: its declared primary endpoint (nbs/primary_endpoint.md) says what the code computes and was
committed before the results; the command writes its tables; the committed results recompute from their rows."""
import json, re, subprocess
from pathlib import Path
import numpy as np
import pytest
from adv_kt.experiments import get_preset, FAMILIES
from adv_kt.families import PRIMARY, primary_endpoint, family_means, family_table, unit_tests
from adv_kt.models import ARCHS
from adv_kt.reproduce import main

ROOT = Path(__file__).resolve().parents[1]
DECL = ROOT/'nbs'/'primary_endpoint.md'
RESULTS = {(d, k): ROOT/'nbs'/f"results_{d}_families{'' if k == 'portable' else '_native'}"
           for d in ('digits', 'fashion') for k in ('portable', 'native')}

def test_declaration_says_what_the_code_computes():
    text = ' '.join(DECL.read_text().split())
    assert f"{PRIMARY['n_perm']:,} seeded orderings" in text and f"level {PRIMARY['level']}" in text
    assert f"{PRIMARY['n_boot']:,} resamples" in text and PRIMARY['metric'] in text and 'FGSM' in text
    assert (PRIMARY['attack'], PRIMARY['convention'], PRIMARY['adjust']) == ('fgsm', 'official', 'source_acc')
    declared = re.search(r'families \(units\) \| (\d+): ([^|]+)\|', text)
    names = [re.sub(r'[^a-z0-9]', '', n.lower()) for n in declared.group(2).split(',')]
    assert int(declared.group(1)) == len(names) == len(FAMILIES)
    assert all(a in n for a, n in zip(FAMILIES, names)), list(zip(FAMILIES, names))   # same families, same order
    d, f = get_preset('digits'), get_preset('fashion')
    assert d.family_seeds == tuple(range(10)) and f.family_seeds == tuple(range(5))
    assert '| seeds | 0-9 | 0-4 |' in text
    assert d.family_references == ('resnet18', 'lenet') and f.family_references == ('lenet', 'resnet18')
    assert 'ResNet-18 (the preset\'s) and LeNet | LeNet (the preset\'s) and ResNet-18' in text

def _first_commit(path:str)->str|None:
    out = subprocess.run(['git', 'log', '--format=%H', '--reverse', '--', path], cwd=ROOT, capture_output=True,
                         text=True)
    return (out.stdout.split() or [None])[0] if out.returncode == 0 else None

def test_declaration_committed_before_the_results():
    if not (ROOT/'.git').exists(): pytest.skip('no git history in this copy')
    shallow = subprocess.run(['git', 'rev-parse', '--is-shallow-repository'], cwd=ROOT, capture_output=True, text=True)
    if shallow.stdout.strip() != 'false': pytest.skip('a shallow clone: the history that shows the order is missing')
    decl = _first_commit('nbs/primary_endpoint.md')
    assert decl, 'nbs/primary_endpoint.md is not committed'
    for folder in RESULTS.values():
        first = _first_commit(str(folder.relative_to(ROOT)))
        if first is None: continue
        r = subprocess.run(['git', 'merge-base', '--is-ancestor', decl, first], cwd=ROOT)
        assert r.returncode == 0 and first != decl, f'{folder.name} was committed before (or with) the declaration'

def test_smoke_families_part_writes_its_tables_and_reruns_identically(tmp_path):
    args = ['--preset', 'smoke', '--only', 'families', '--cache', str(tmp_path/'cache'), '--no-progress']
    assert main(args + ['--out', str(tmp_path/'a')]) == 0
    a = tmp_path/'a'
    assert {'families.csv', 'families.json', 'report.md'} <= {f.name for f in a.iterdir()}
    doc = json.loads((a/'families.json').read_text())
    p = get_preset('smoke')
    assert len(doc['rows']) == len(p.families) * len(p.family_references) * len(p.family_seeds) * 2
    assert doc['primary_endpoint'] is None             # 4 families: fewer than the endpoint needs
    assert 'fewer than the 5 it needs' in (a/'report.md').read_text()
    assert main(args + ['--out', str(tmp_path/'b')]) == 0
    assert (tmp_path/'b'/'families.csv').read_text() == (a/'families.csv').read_text()

@pytest.mark.parametrize('key', list(RESULTS), ids=['-'.join(k) for k in RESULTS])
def test_committed_results_recompute(key):
    folder = RESULTS[key]
    if not (folder/'families.json').exists(): pytest.skip(f'{folder.name} not committed')
    doc = json.loads((folder/'families.json').read_text())
    p, run = get_preset(key[0]), json.loads((folder/'preset.json').read_text())
    assert set(run['family_seeds']) <= set(p.family_seeds) and run['name'] == key[0]   # a cut run says so there
    assert {r['seed'] for r in doc['rows']} == set(run['family_seeds'])
    assert {r['source'] for r in doc['rows']} == set(p.families)
    assert {r['reference'] for r in doc['rows']} == set(p.family_references)
    e = primary_endpoint(doc['rows'])
    for k in ('estimate', 'p', 'low', 'high', 'supported', 'n_families'):
        assert e[k] == doc['primary_endpoint'][k], k
    assert json.loads((folder/'provenance.json').read_text())['kernels'] == key[1]
    assert family_table(doc['rows']) in (folder/'report.md').read_text()

@pytest.mark.parametrize('dataset', ['digits', 'fashion'])
def test_page_tables_are_the_committed_results(dataset):
    "The families page's stored table equals the table computed again from the committed rows."
    folder = RESULTS[dataset, 'portable']
    if not (folder/'families.json').exists(): pytest.skip(f'{folder.name} not committed')
    src = f"Markdown(family_table(docs['{dataset}', 'portable']['rows']))"
    cells = [c for c in json.loads((ROOT/'nbs'/'10c_architecture_families.ipynb').read_text())['cells']
             if c['cell_type'] == 'code' and ''.join(c['source']).strip() == src]
    assert len(cells) == 1, src
    stored = ''.join(next(o for o in cells[0]['outputs'] if 'text/markdown' in o.get('data', {}))['data']['text/markdown'])
    assert stored == family_table(json.loads((folder/'families.json').read_text())['rows'])
