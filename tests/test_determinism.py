"""Same command, same numbers: the smoke preset's two image experiments and its zoo, each from an empty cache and
with no thread pin, give identical tables (timing columns and sections aside) when run (a) one job after another,
(b) with the default runner (worker processes), (c) with that runner beside a busy process, (d) on local Ray
declaring one GPU, where jobs with fractional GPU shares are co-scheduled; and a Ray worker killed mid-training is
retried without changing a number."""
import csv, io, os, re, signal, subprocess, sys, threading, time, warnings
from pathlib import Path
import pytest
from adv_kt.core import job_threads
from adv_kt.experiments import EXPERIMENT_PARTS
from adv_kt.reproduce import reproduce, main
from adv_kt.scale import plan, run_local, run_ray, gpu_share, _cache_files

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

def run(d:Path, **kw)->dict:
    "A cold run into `d`; fails if the assembly after the job graph had to compute anything."
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        reproduce('smoke', d/'out', d/'cache', progress=False, parts=PARTS, **kw)
    assert [str(x.message) for x in w if 'job graph missed' in str(x.message)] == []
    return tables(d/'out')

def differ(a:dict, b:dict)->list: return [n for n in a if a[n] != b.get(n)] + sorted(set(b) - set(a))

@pytest.fixture(scope='module')
def sequential(tmp_path_factory):
    assert 'ADV_KT_THREADS' not in os.environ and job_threads() == 1     # the default, not a pin
    return run(tmp_path_factory.mktemp('seq'), jobs=1)

def test_default_runner_equals_sequential(sequential, tmp_path):
    got = run(tmp_path)                                                # worker processes, one per usable core
    assert list(got) == list(sequential) and differ(sequential, got) == []
    assert 'provenance.json' in got and b'"threads": 1' in got['provenance.json']

def test_beside_a_busy_process_the_numbers_do_not_change(sequential, tmp_path):
    busy = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
    try: got = run(tmp_path)
    finally: busy.kill(); busy.wait()
    assert differ(sequential, got) == []

def test_thread_count_is_in_the_key(tmp_path, monkeypatch):
    "ADV_KT_THREADS=2 is other work: other cache entries, recorded in the provenance."
    reproduce('smoke', tmp_path/'one', tmp_path/'cache', progress=False, parts=('knowledge_to_adv',), jobs=1)
    first = _cache_files(tmp_path/'cache')
    monkeypatch.setenv('ADV_KT_THREADS', '2')
    reproduce('smoke', tmp_path/'two', tmp_path/'cache', progress=False, parts=('knowledge_to_adv',), jobs=1)
    assert first < _cache_files(tmp_path/'cache') and len(_cache_files(tmp_path/'cache')) == 2 * len(first)
    assert '"threads": 2' in (tmp_path/'two'/'provenance.json').read_text()

def test_the_graph_holds_every_job_of_the_run(tmp_path):
    "In-process graph, then the sequential run finds everything in the cache."
    run_local(plan('smoke', PARTS), tmp_path/'cache', progress=False)
    before = _cache_files(tmp_path/'cache')
    reproduce('smoke', tmp_path/'out', tmp_path/'cache', progress=False, parts=PARTS, jobs=1)
    assert _cache_files(tmp_path/'cache') == before

def test_jobs_flag_is_checked(tmp_path, capsys):
    with pytest.raises(SystemExit) as e: main(['--preset', 'smoke', '--out', str(tmp_path/'o'), '--jobs', '0'])
    assert e.value.code == 2 and 'argument --jobs: must be >= 1' in capsys.readouterr().err
    with pytest.raises(ValueError, match='jobs: must be a positive integer'):
        reproduce('smoke', tmp_path/'o', tmp_path/'c', parts=('knowledge_to_adv',), jobs=0)

@pytest.fixture(scope='module')
def ray_one_gpu():
    ray = pytest.importorskip('ray', reason="Ray is not installed (optional extra: pip install -e '.[ray]')")
    ray.init(address='local', num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try: yield ray
    finally: ray.shutdown()

def test_ray_with_one_gpu_coschedules_and_equals_sequential(ray_one_gpu, sequential, tmp_path):
    jobs = plan('smoke', PARTS)
    logs = run_ray(jobs, tmp_path/'cache', progress=False)
    share = {j.name: gpu_share(j) for j in jobs}
    gpu_jobs = sorted((logs[n]['start'], logs[n]['end'], n) for n in logs if share[n] > 0)
    overlaps = [(a[2], b[2]) for i, a in enumerate(gpu_jobs) for b in gpu_jobs[i + 1:] if b[0] < a[1]]
    assert overlaps, 'no two jobs holding a GPU share ran at the same time'
    assert sum(share[n] for n in overlaps[0]) <= 1                      # they fit on the one GPU together
    before = _cache_files(tmp_path/'cache')
    reproduce('smoke', tmp_path/'out', tmp_path/'cache', progress=False, parts=PARTS, jobs=1)
    assert _cache_files(tmp_path/'cache') == before                    # assembling computed nothing
    assert differ(sequential, tables(tmp_path/'out')) == []

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

def test_killed_ray_worker_is_retried_and_tables_are_unchanged(ray_one_gpu, sequential, tmp_path):
    killed, stop = [], threading.Event()
    t = threading.Thread(target=_kill_when_running, args=(TARGET, killed, stop))
    t.start()
    try: got = run(tmp_path, ray='local')
    finally: stop.set(); t.join()
    assert killed == [TARGET]                               # a worker died in the middle of a training
    assert differ(sequential, got) == []
