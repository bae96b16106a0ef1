"""The reproduction as Ray tasks (adv_kt.scale): the same tables as a sequential run, also when a worker dies."""
import os, re, signal, subprocess, sys, threading, time, warnings
from pathlib import Path
import pytest
from adv_kt.reproduce import reproduce, main, EXPERIMENT_PARTS
from adv_kt.scale import plan

PARTS = (*EXPERIMENT_PARTS, 'model_selection')

def tables(out:Path)->dict:
    "Every table and figure of a run, and its report without the timing section."
    files = {f.name: f.read_bytes() for f in sorted(out.iterdir()) if f.suffix in ('.csv', '.json', '.png')}
    files['report.md'] = re.sub(r'## Timing.*', '', (out/'report.md').read_text(), flags=re.S).encode()
    return files

def test_ray_flag_without_ray_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, 'ray', None)          # import ray now raises ImportError
    assert main(['--preset', 'smoke', '--out', str(tmp_path/'o'), '--cache', str(tmp_path/'c'), '--ray']) == 2
    err = capsys.readouterr().err
    assert err.startswith('adv_kt_reproduce: error: --ray needs Ray') and "pip install 'adv_kt[ray]'" in err
    assert not (tmp_path/'c').exists()                      # refused before any work

def test_plan_covers_the_sequential_run():
    jobs = plan('smoke', PARTS)
    assert len({j.name for j in jobs}) == len(jobs)
    kinds = {j.fn.__name__ for j in jobs}
    assert kinds == {'_reference', '_source', '_transfer', '_exp1', '_exp2', '_examples', '_score'}

@pytest.fixture(scope='module')
def local_ray():
    ray = pytest.importorskip('ray', reason="Ray is not installed (optional extra: pip install -e '.[ray]')")
    before = os.environ.get('ADV_KT_THREADS')
    os.environ['ADV_KT_THREADS'] = '1'                      # Ray tasks run on 1 thread: the same in this process
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    if before is None: os.environ.pop('ADV_KT_THREADS')
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

def _kill_when_running(fragment:str, killed:list, stop:threading.Event):
    "Kill -9 the first Ray worker whose process title shows it running a task named like `fragment`."
    while not stop.is_set() and not killed:
        ps = subprocess.run(['ps', '-eo', 'pid=,args='], capture_output=True, text=True).stdout
        for line in ps.splitlines():
            pid, _, args = line.strip().partition(' ')
            if args.startswith('ray::') and fragment in args:
                os.kill(int(pid), signal.SIGKILL); killed.append(args); return
        time.sleep(0.02)

def test_killed_worker_is_retried_and_tables_are_unchanged(local_ray, sequential, tmp_path):
    killed, stop = [], threading.Event()
    t = threading.Thread(target=_kill_when_running, args=('seed 1: source resnet18', killed, stop))
    t.start()
    try: missed = _run_on_ray(tmp_path)
    finally: stop.set(); t.join()
    assert killed == ['ray::seed 1: source resnet18 w0.0625 e1 all'], killed   # a worker died mid-training
    assert missed == []
    got = tables(tmp_path/'out')
    assert [n for n in got if got[n] != sequential[n]] == []
