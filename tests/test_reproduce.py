"The reproduction command: bad input, a missing dataset without network, and a run killed midway then resumed."
from dataclasses import replace
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import adv_kt.data as data
from adv_kt.reproduce import main, reproduce

def test_unknown_preset_and_unwritable_output(tmp_path, capsys):
    assert main(['--preset', 'huge', '--out', str(tmp_path)]) == 2
    assert 'valid presets: smoke, digits, paper' in capsys.readouterr().err
    blocker = tmp_path/'file'; blocker.write_text('')
    assert main(['--preset', 'smoke', '--out', str(blocker/'out')]) == 2
    assert 'cannot be written' in capsys.readouterr().err

def test_paper_preset_without_network_says_what_is_missing(tmp_path, monkeypatch, capsys):
    "No CIFAR-10 on disk and no network (an address that refuses): one clear line, nothing half-written."
    monkeypatch.setenv('ADV_KT_DATA', str(tmp_path/'data'))
    for name, archive in (('cifar10', 'cifar-10-python.tar.gz'), ('stl10', 'stl10_binary.tar.gz')):
        d = data.DATASETS[name]
        monkeypatch.setitem(data.DATASETS, name, replace(d, source={**d.source, 'url': f'http://127.0.0.1:9/{archive}'}))
    rc = main(['--preset', 'paper', '--out', str(tmp_path/'out'), '--cache', str(tmp_path/'cache'), '--only', 'adv_to_knowledge', '--no-progress'])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith('adv_kt_reproduce: error:'), err
    assert 'stl10' in err.lower() or 'cifar' in err.lower(), err
    leftovers = [p for p in (tmp_path/'data').rglob('*') if p.is_file()] if (tmp_path/'data').exists() else []
    assert not any(p.suffix in ('.gz', '.bin') for p in leftovers), leftovers

def _run(out, cache):
    return subprocess.Popen([sys.executable, '-c', 'from adv_kt.reproduce import cli; cli()', '--preset', 'smoke',
                             '--only', 'knowledge_to_adv', '--out', str(out), '--cache', str(cache), '--no-progress'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def test_killed_midway_resumes_with_the_same_numbers(tmp_path):
    cache, out = tmp_path/'cache', tmp_path/'out'
    p = _run(out, cache)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(cache.glob('*.pt'))) < 3 and p.poll() is None: time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.wait()
    done_before = {f.name for f in cache.glob('*.pt')}
    assert done_before and not (out/'knowledge_to_adv.csv').exists()
    assert not list(cache.glob('**/*.part'))                          # nothing half-written counts
    mtimes = {f.name: f.stat().st_mtime for f in cache.glob('*.pt')}
    q = _run(out, cache); q.wait(timeout=600)
    assert q.returncode == 0, q.stderr
    assert all((cache/n).stat().st_mtime == t for n, t in mtimes.items())  # finished models were not retrained
    resumed = json.loads((out/'knowledge_to_adv.json').read_text())['rows']
    fresh = tmp_path/'fresh'
    r = _run(fresh/'out', fresh/'cache'); r.wait(timeout=600)
    assert r.returncode == 0, r.stderr
    assert json.loads((fresh/'out'/'knowledge_to_adv.json').read_text())['rows'] == resumed

def test_model_selection_part_writes_tables_and_reruns_identically(tmp_path, capsys):
    "`--only model_selection` (opt-in: `--zoo`) writes the zoo's scores and rankings; a warm rerun trains nothing and writes the same tables."
    with pytest.raises(ValueError, match='parts: must be'): reproduce('smoke', tmp_path/'bad', parts=('zoo',))
    args = ['--preset', 'smoke', '--only', 'model_selection', '--cache', str(tmp_path/'cache'), '--no-progress']
    assert main(args + ['--out', str(tmp_path/'a')]) == 0
    a = tmp_path/'a'
    assert {'model_selection.csv', 'model_selection_ranking.csv', 'model_selection.png', 'report.md'} <= {f.name for f in a.iterdir()}
    rows = (a/'model_selection.csv').read_text().splitlines()
    assert len(rows) == 1 + 14 * 2                                          # header + 14 members x 2 smoke seeds
    assert 'knowledge_transfer' in rows[0] and 'alpha1 T->S' in rows[0] and 'logme' in rows[0]
    assert '## Model selection' in (a/'report.md').read_text()
    mtimes = {f: f.stat().st_mtime for f in (tmp_path/'cache').glob('*.pt')}
    assert main(args + ['--out', str(tmp_path/'b')]) == 0
    assert {f: f.stat().st_mtime for f in (tmp_path/'cache').glob('*.pt')} == mtimes
    for name in ('model_selection.csv', 'model_selection_ranking.csv'):
        assert (tmp_path/'b'/name).read_text() == (a/name).read_text()
