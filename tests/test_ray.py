"""The job graph (adv_kt.scale): equal work is one job, and --ray without Ray says how to install it. The runs
themselves (sequential, worker processes, Ray, a killed worker) are compared in test_determinism.py."""
import sys
from adv_kt.experiments import EXPERIMENT_PARTS
from adv_kt.reproduce import main
from adv_kt.scale import plan

PARTS = (*EXPERIMENT_PARTS, 'model_selection')

def test_ray_flag_without_ray_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, 'ray', None)          # import ray now raises ImportError
    assert main(['--preset', 'smoke', '--out', str(tmp_path/'o'), '--cache', str(tmp_path/'c'), '--ray']) == 2
    err = capsys.readouterr().err
    assert err.startswith('adv_kt_reproduce: error: --ray needs Ray') and "pip install 'adv_kt[ray]'" in err
    assert not (tmp_path/'c').exists()                      # refused before any work

def test_plan_names_equal_work_once():
    jobs = plan('smoke', PARTS)
    assert {j.fn.__name__ for j in jobs} == {'_reference', '_source', '_transfer', '_exp1', '_exp2', '_many',
                                             '_examples', '_score'}
    # the many-sources study's plain LeNet is experiment 1's LeNet: one source job, one transfer job
    assert sum(j.name == 'seed 0: transfer lenet w1 1ep all -> all' for j in jobs) == 1
    # smoke trains sources 1 epoch: the zoo's "10%, 30% of the epochs" members are the same training as the full one
    lenet = [j.name for j in jobs if j.name.startswith('seed 0: source lenet w1 ') and j.name.endswith(' all')]
    assert lenet == ['seed 0: source lenet w1 1ep all'], lenet
