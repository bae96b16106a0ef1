"""The reproduction as a job graph (adv_kt.scale): run in-process or as Ray tasks, it fills the cache with exactly
what the sequential run needs, and the tables equal the sequential run's, also when a Ray worker dies mid-task."""
import csv, io, os, re, signal, subprocess, sys, threading, time, warnings
from pathlib import Path
import pytest
from adv_kt.reproduce import reproduce, main, EXPERIMENT_PARTS
from adv_kt.scale import plan, run_local, _cache_files

PARTS = (*EXPERIMENT_PARTS, 'model_selection')

def tables(out:Path)->dict:
    "Every table and figure of a run, without what measures time: seconds columns, the cost and timing sections."
    files = {}
    for f in sorted(out.iterdir()):
        if f.suffix in ('.json', '.png'): files[f.name] = f.read_bytes()
        elif f.suffix == '.csv':
            rows = list(csv.reader(io.StringIO(f.read_text())))
            keep = [i for i, c in enumerate(rows[0]) if 'seconds' not in c]
            files[f.name] = [[r[i] for i in keep] for r in rows]
    report = (out/'report.md').read_text()
    files['report.md'] = re.sub(r'Cost per scorer.*?(?=\n## )|## Timing.*', '', report, flags=re.S)
    return files

def test_ray_flag_without_ray_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, 'ray', None)          # import ray now raises ImportError
    assert main(['--preset', 'smoke', '--out', str(tmp_path/'o'), '--cache', str(tmp_path/'c'), '--ray']) == 2
    err = capsys.readouterr().err
    assert err.startswith('adv_kt_reproduce: error: --ray needs Ray') and "pip install 'adv_kt[ray]'" in err
    assert not (tmp_path/'c').exists()                      # refused before any work

def test_plan_names_equal_work_once():
    jobs = plan('smoke', PARTS)
    assert {j.fn.__name__ for j in jobs} == {'_reference', '_source', '_transfer', '_exp1', '_exp2', '_examples',
                                             '_score'}
    # smoke trains sources 1 epoch: the zoo's "10%, 30% of the epochs" members are the same training as the full one
    lenet = [j.name for j in jobs if j.name.startswith('seed 0: source lenet w1 ') and j.name.endswith(' all')]
    assert lenet == ['seed 0: source lenet w1 1ep all'], lenet

def test_the_graph_holds_every_job_of_the_run(tmp_path):
    "Without Ray: run the graph in-process, then the sequential run finds everything in the cache."
    run_local(plan('smoke', PARTS), tmp_path/'cache', progress=False)
    before = _cache_files(tmp_path/'cache')
    reproduce('smoke', tmp_path/'out', tmp_path/'cache', progress=False, parts=PARTS)
    assert _cache_files(tmp_path/'cache') == before

@pytest.fixture(scope='module')
def local_ray():
    ray = pytest.importorskip('ray', reason="Ray is not installed (optional extra: pip install -e '.[ray]')")
    before = os.environ.get('ADV_KT_THREADS')
    os.environ['ADV_KT_THREADS'] = '1'                      # Ray tasks run on 1 thread: the same in this process
    try:
        ray.init(address='local', num_cpus=2, include_dashboard=False, log_to_driver=False)
        yield
    finally:
        ray.shutdown()
        if before is None: os.environ.pop('ADV_KT_THREADS', None)
        else: os.environ['ADV_KT_THREADS'] = before

@pytest.fixture(scope='module')
def sequential(local_ray, tmp_path_factory):
    d = tmp_path_factory.mktemp('seq')
    reproduce('smoke', d/'out', d/'cache', progress=False, parts=PARTS)
    return tables(d/'out')

def _run_on_ray(d:Path)->list:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        reproduce('smoke', d/'out', d/'cache', progress=False, parts=PARTS, ray='local')
    return [str(x.message) for x in w if 'Ray job graph missed' in str(x.message)]

def test_ray_run_equals_sequential_run(local_ray, sequential, tmp_path):
    assert _run_on_ray(tmp_path) == []                      # assembling after the jobs computed nothing
    got = tables(tmp_path/'out')
    assert list(got) == list(sequential)
    assert [n for n in got if got[n] != sequential[n]] == []

TARGET = 'ray::seed 1: source resnet18 w0.0625 1ep all'    # a ResNet-18 training of experiment 1 and the zoo

def _kill_when_running(title:str, killed:list, stop:threading.Event):
    "Kill -9 the Ray worker whose process title shows it running the task `title`."
    while not stop.is_set() and not killed:
        ps = subprocess.run(['ps', '-eo', 'pid=,args='], capture_output=True, text=True).stdout
        for line in ps.splitlines():
            pid, _, args = line.strip().partition(' ')
            if args.strip() == title:
                try: os.kill(int(pid), signal.SIGKILL); killed.append(args.strip()); return
                except (ProcessLookupError, PermissionError): pass
        time.sleep(0.01)

def test_killed_worker_is_retried_and_tables_are_unchanged(local_ray, sequential, tmp_path):
    killed, stop = [], threading.Event()
    t = threading.Thread(target=_kill_when_running, args=(TARGET, killed, stop))
    t.start()
    try: missed = _run_on_ray(tmp_path)
    finally: stop.set(); t.join()
    assert killed == [TARGET]                               # a worker died in the middle of a training
    assert missed == []
    got = tables(tmp_path/'out')
    assert [n for n in got if got[n] != sequential[n]] == []
