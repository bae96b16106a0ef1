"""tools/paper_check.py, the full-size GPU check of the paper preset, in its small form: every section runs on this
CPU (fit next to a bare loop, the paper preset end to end from a localhost mirror, then again from an empty cache:
the same tables) and reports. The `native` section (the cost of determinism on a GPU) is left to the GPU run."""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_paper_check_small_runs_every_section(tmp_path):
    env = {**os.environ, 'OUT': str(tmp_path)}
    r = subprocess.run([sys.executable, 'tools/paper_check.py', '--small', '--jobs', '1', '--device', 'cpu',
                        '--sections', 'fit', 'paper', 'repeat'],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    res = json.loads((tmp_path/'paper_check.json').read_text())
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert set(res['fit']) == {'mlp', 'lenet', 'alexnet', 'resnet18', 'resnet50'}
    assert all(v['fit_img_s'] > 0 and v['bare_img_s'] > 0 and v['ratio'] > 0 for v in res['fit'].values())
    paper = res['paper']
    assert paper['adv_to_knowledge_seconds'] > 0 and paper['knowledge_to_adv_seconds'] > 0
    assert isinstance(paper['adv_to_knowledge_diverged'], list)
    assert Path(paper['report']).read_text().startswith('# adv_kt reproduction: preset `paper`')
    assert res['repeat']['identical'] is True and res['repeat']['differ'] == [] and 'native' not in res
    assert 'projection' not in res          # rates of reduced widths would project nothing (adv_kt.scale tests it)
