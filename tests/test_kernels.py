"""Same numbers on any x86-64 processor: every process that trains or measures computes on the portable kernel
paths (torch AVX2, MKL COMPATIBLE, oneDNN AVX2) whatever the caller's environment asks,
inside jobs in worker processes and Ray tasks too; the opt-out (ADV_KT_KERNELS=native) is other work with
other cache entries; and an emulated processor of another vendor, without AVX-512, gives the same bits."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest
from adv_kt.core import PORTABLE_PATHS, kernels_in_use, check_kernels, numerics_key
from adv_kt.reproduce import reproduce
from adv_kt.scale import plan, run_pool, run_ray, _cache_files

PORTABLE = dict(setting='portable', **PORTABLE_PATHS)
portable = lambda k: {n: k[n] for n in PORTABLE}                    # what the check requires (not OpenBLAS)
ASK_OTHERWISE = dict(ATEN_CPU_CAPABILITY='default', MKL_CBWR='AVX512', ONEDNN_MAX_CPU_ISA='SSE41',
                     DNNL_MAX_CPU_ISA='SSE41', OPENBLAS_CORETYPE='Prescott')
ROOT = Path(__file__).parents[1]

def first_job():
    "A real job with no dependencies: the smoke preset's first reference training."
    return [j for j in plan('smoke', ('knowledge_to_adv',)) if not j.deps][:1]

def test_this_process_is_pinned():
    assert portable(kernels_in_use()) == PORTABLE and check_kernels() == []
    assert numerics_key() == dict(threads=1, kernels='portable')

def test_a_job_in_a_worker_process_is_pinned_whatever_the_parent_asks(tmp_path, monkeypatch):
    for k, v in ASK_OTHERWISE.items(): monkeypatch.setenv(k, v)        # the worker's environment starts so
    (log,) = run_pool(first_job(), tmp_path/'cache', workers=1, progress=False).values()
    assert log['worker'] != os.getpid() and portable(log['kernels']) == PORTABLE

def test_a_ray_task_is_pinned(tmp_path):
    pytest.importorskip('ray', reason="Ray is not installed (optional extra: pip install -e '.[ray]')")
    (log,) = run_ray(first_job(), tmp_path/'cache', num_cpus=1, num_gpus=0, progress=False).values()
    assert portable(log['kernels']) == PORTABLE

def _smoke(out:Path, **env)->dict:
    "adv_kt_reproduce's smoke experiment 1 in a new process with `env` added to the caller's environment."
    cmd = [sys.executable, '-c', 'from adv_kt.reproduce import cli; cli()', '--preset', 'smoke', '--only',
           'adv_to_knowledge', '--out', str(out/'out'), '--cache', str(out/'cache'), '--no-progress']
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, cwd=out.parent)
    assert r.returncode == 0, r.stderr[-2000:]
    return {f.name: f.read_bytes() for f in sorted((out/'out').iterdir()) if f.suffix in ('.csv', '.json')}

def test_smoke_tables_do_not_follow_the_callers_dispatch(tmp_path):
    a, b = _smoke(tmp_path/'a'), _smoke(tmp_path/'b', **ASK_OTHERWISE)
    prov = [json.loads(t.pop('provenance.json')) for t in (a, b)]
    assert a == b and 'adv_to_knowledge.csv' in a                       # every table, bit for bit
    assert [p['torch_cpu_capability'] for p in prov] == ['AVX2', 'AVX2'] and prov[1]['kernel_warnings'] == []

def test_native_is_other_work(tmp_path, monkeypatch):
    "The opt-out enters the cache key (other entries) and the provenance."
    reproduce('smoke', tmp_path/'p', tmp_path/'cache', progress=False, parts=('knowledge_to_adv',), jobs=1)
    first = _cache_files(tmp_path/'cache')
    monkeypatch.setenv('ADV_KT_KERNELS', 'native')
    assert numerics_key()['kernels'].startswith('native-')
    reproduce('smoke', tmp_path/'n', tmp_path/'cache', progress=False, parts=('knowledge_to_adv',), jobs=1)
    assert first < _cache_files(tmp_path/'cache') and len(_cache_files(tmp_path/'cache')) == 2 * len(first)
    prov = json.loads((tmp_path/'n'/'provenance.json').read_text())
    assert prov['kernels'] == 'native' and 'native kernels' in (tmp_path/'n'/'report.md').read_text()

def test_a_processor_without_avx2_is_named(monkeypatch):
    import adv_kt.core as core
    monkeypatch.setattr(core, '_has_avx2', lambda: False)
    assert check_kernels()[0].startswith('this processor has no AVX2')

@pytest.mark.skipif(not shutil.which('qemu-x86_64'), reason='qemu-user is not installed (.ci/run has it)')
def test_an_emulated_intel_processor_gives_the_same_bits():
    "qemu's Haswell: GenuineIntel, AVX2 without AVX-512, other cache sizes; MKL takes its Intel paths there."
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'cpu_emulation.py'), '--cpus', 'Haswell',
                        '--archs', 'mlp', 'lenet', 'resnet18', '--steps', '1'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    rows = [l for l in r.stdout.splitlines() if l.startswith('| ') and 'processor' not in l]
    assert len(rows) == 2 and all(l.split(' | ')[-2] == 'True' for l in rows), r.stdout
