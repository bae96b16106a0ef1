"""The results the landing page, README and experiment pages quote are the committed outputs of `adv_kt_reproduce`
(`nbs/results_digits/` for `--preset digits`, `nbs/results_fashion/` for `--preset fashion`): every stored table
listed below equals the table computed again from the committed JSON, so a reader can recompute every number."""
import json
from pathlib import Path
import pytest
from adv_kt.experiments import (paper_table, correlation_table, effect_summary, effect_tables, order_note,
                                learned_note)

NBS = Path(__file__).resolve().parents[1]/'nbs'
RESULTS = dict(digits=NBS/'results_digits', fashion=NBS/'results_fashion')

def rows(preset, part): return json.loads((RESULTS[preset]/f'{part}.json').read_text())['rows']

def stored_markdown(nb, source):
    "The text/markdown output of the cell whose source is exactly `source`."
    cells = [c for c in json.loads((NBS/nb).read_text())['cells']
             if c['cell_type'] == 'code' and ''.join(c['source']).strip() == source]
    assert len(cells) == 1, f"{nb}: {len(cells)} cells with source {source!r}"
    outs = [o for o in cells[0].get('outputs', []) if 'text/markdown' in o.get('data', {})]
    assert outs, f"{nb}: the cell {source!r} has no stored markdown output"
    return ''.join(outs[0]['data']['text/markdown'])

effects = lambda a: lambda r: effect_tables(effect_summary(r, a))
E1, E2, MANY = 'adv_to_knowledge', 'knowledge_to_adv', 'many_sources'
P10, P10B, P11, P15 = ('10_adv_to_knowledge.ipynb', '10b_many_sources.ipynb', '11_knowledge_to_adv.ipynb',
                       '15_second_dataset.ipynb')
CASES = [  # (page, preset, part, cell source, the table from the committed rows)
    (P10, 'digits', E1, "Markdown(paper_table(rows, 'fgsm'))", lambda r: paper_table(r, 'fgsm')),
    (P10, 'digits', E1, "Markdown(paper_table(rows, 'pgd'))", lambda r: paper_table(r, 'pgd')),
    (P10, 'digits', E1, "Markdown(correlation_table(rows, convention='official'))",
     lambda r: correlation_table(r, convention='official')),
    (P10, 'digits', E1, "Markdown(order_note(rows, 'fgsm'))", lambda r: order_note(r, 'fgsm')),
    (P10, 'digits', E1, "eff = {a: effect_summary(rows, a) for a in ('fgsm', 'pgd')}\nMarkdown(effect_tables(eff['fgsm']))",
     effects('fgsm')),
    (P10, 'digits', E1, "Markdown(effect_tables(eff['pgd']))", effects('pgd')),
    (P11, 'digits', E2, "Markdown(paper_table(rows, 'pgd'))", lambda r: paper_table(r, 'pgd')),
    (P11, 'digits', E2, "Markdown(correlation_table(rows, convention='official'))",
     lambda r: correlation_table(r, convention='official')),
    (P11, 'digits', E2, "eff = effect_summary(rows, 'pgd')\nMarkdown(effect_tables(eff))", effects('pgd')),
    (P10B, 'digits', MANY, "Markdown(correlation_table(rows))", correlation_table),
    (P10B, 'digits', MANY, "eff = {a: effect_summary(rows, a) for a in ('fgsm', 'pgd')}\nMarkdown(effect_tables(eff['fgsm']))",
     effects('fgsm')),
    (P10B, 'digits', MANY, "Markdown(effect_tables(eff['pgd']))", effects('pgd')),
    (P10B, 'fashion', MANY, "Markdown(correlation_table(rows_f))", correlation_table),
    (P10B, 'fashion', MANY, "eff_f = {a: effect_summary(rows_f, a) for a in ('fgsm', 'pgd')}\nMarkdown(effect_tables(eff_f['fgsm']))",
     effects('fgsm')),
    (P10B, 'fashion', MANY, "Markdown(effect_tables(eff_f['pgd']))", effects('pgd')),
    (P15, 'fashion', E2, "Markdown(correlation_table(rows, ('pgd',)))", lambda r: correlation_table(r, ('pgd',))),
    (P15, 'fashion', E2, "Markdown(effect_tables(effect_summary(rows, 'pgd')))", effects('pgd')),
]

@pytest.mark.parametrize('nb,preset,part,source,make', CASES,
                         ids=[f'{c[0][:3]}-{c[1]}-{c[3][9:40]}' for c in CASES])
def test_stored_tables_equal_the_committed_results(nb, preset, part, source, make):
    assert stored_markdown(nb, source) == make(rows(preset, part))

@pytest.mark.parametrize('preset,parts,n_seeds', [('digits', (E1, E2, MANY), 5), ('fashion', (E2, MANY), 3)])
def test_committed_results_are_the_presets(preset, parts, n_seeds):
    p = json.loads((RESULTS[preset]/'preset.json').read_text())
    assert p['name'] == preset and len(p['seeds']) == n_seeds
    for part in parts:
        assert {r['seed'] for r in rows(preset, part)} == set(p['seeds'])
        assert (RESULTS[preset]/f'{part}.csv').exists()

def test_many_sources_has_16_sources_and_names_what_did_not_learn():
    "16 sources per seed; the points below the preset's threshold are the ones page 10b names."
    below = {}
    for preset in RESULTS:
        r = rows(preset, MANY)
        assert len({x['source'] for x in r}) == 16
        below[preset] = sorted({(x['source'], x['seed']) for x in r if not x['source_learned']})
    assert below == dict(digits=[('alexnet w×0.5', 2), ('resnet18 e×0.2', 1)],
                         fashion=[('mlp w×0.5', 1), ('resnet18 e×0.2', 1)])
    page = json.loads((NBS/P10B).read_text())
    text = ''.join(''.join(c['source']) for c in page['cells'] if c['cell_type'] == 'markdown')
    text = ' '.join(text.split())
    for named in ('AlexNet at half width fell to 78.1% on seed 2', 'reached 88.7% on seed 1',
                  'collapsed to chance (16.7%) on seed 1', 'reached 73.4% on seed 1'):
        assert named in text, named
