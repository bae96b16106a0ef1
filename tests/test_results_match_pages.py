"""The digits results the landing page and README quote (`nbs/results_digits/`, written by `adv_kt_reproduce --preset
digits`) are the ones the experiment pages store: every stored table on pages 10 and 11 equals the table computed
again from the committed JSON, and the landing page's stored headline equals its recomputation."""
import json
from pathlib import Path
import pytest
from adv_kt.experiments import paper_table, correlation_table

NBS = Path(__file__).resolve().parents[1]/'nbs'
RES = NBS/'results_digits'

def rows(part): return json.loads((RES/f'{part}.json').read_text())['rows']

def stored_markdown(nb, source):
    "The text/markdown output of the cell whose source is exactly `source`."
    cells = [c for c in json.loads((NBS/nb).read_text())['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).strip() == source]
    assert len(cells) == 1, f"{nb}: {len(cells)} cells with source {source!r}"
    outs = [o for o in cells[0].get('outputs', []) if 'text/markdown' in o.get('data', {})]
    assert outs, f"{nb}: the cell {source!r} has no stored markdown output"
    return ''.join(outs[0]['data']['text/markdown'])

CASES = [('10_adv_to_knowledge.ipynb', 'adv_to_knowledge', "Markdown(paper_table(rows, 'fgsm'))", lambda r: paper_table(r, 'fgsm')),
         ('10_adv_to_knowledge.ipynb', 'adv_to_knowledge', "Markdown(paper_table(rows, 'pgd'))", lambda r: paper_table(r, 'pgd')),
         ('10_adv_to_knowledge.ipynb', 'adv_to_knowledge', "Markdown(correlation_table(rows, convention='official'))",
          lambda r: correlation_table(r, convention='official')),
         ('11_knowledge_to_adv.ipynb', 'knowledge_to_adv', "Markdown(paper_table(rows, 'pgd'))", lambda r: paper_table(r, 'pgd')),
         ('11_knowledge_to_adv.ipynb', 'knowledge_to_adv', "Markdown(correlation_table(rows, convention='official'))",
          lambda r: correlation_table(r, convention='official'))]

@pytest.mark.parametrize('nb,part,source,make', CASES, ids=[f'{c[0][:2]}-{c[2][9:40]}' for c in CASES])
def test_stored_tables_equal_the_committed_results(nb, part, source, make):
    assert stored_markdown(nb, source) == make(rows(part))

def test_committed_results_are_the_digits_preset():
    p = json.loads((RES/'preset.json').read_text())
    assert p['name'] == 'digits' and len(p['seeds']) >= 5
    assert {r['seed'] for r in rows('adv_to_knowledge')} == set(p['seeds'])
