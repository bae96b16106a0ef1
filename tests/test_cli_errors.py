"""Every command-line tool turns bad input into exit status 2 and one line on stderr that names the flag and the
problem: never a traceback, never a usage dump, never a nonsense number printed with exit status 0."""
import json, subprocess, sys
import pytest, torch
from adv_kt.core import run_cli
from adv_kt import benchmark, train_benchmark, selection, reproduce

def _err(capsys, prog, main, argv):
    rc = run_cli(prog, main, argv) if prog != 'adv_kt_reproduce' else _reproduce(argv)
    err = capsys.readouterr().err
    return rc, err.strip().splitlines()

def _reproduce(argv):
    try: return reproduce.main(argv)
    except SystemExit as e: return e.code

BENCH = [(['--repeats', '0'], '--repeats'), (['--n', '0'], '--n'), (['--n-loop', '0'], '--n-loop'),
         (['--batch', '0'], '--batch'), (['--width', '0'], '--width'), (['--width', 'nan'], '--width'),
         (['--arch', 'foo'], '--arch'), (['--attack', 'pgd7'], '--attack')]
TRAIN_BENCH = [(['--steps', '-1'], '--steps'), (['--steps', '0'], '--steps'), (['--threads', '0'], '--threads'),
               (['--threads', '-1'], '--threads'), (['--compete', '-1'], '--compete'), (['--rounds', '0'], '--rounds'),
               (['--batch', '0'], '--batch'),
               (['--batch', '100000'], '--batch'), (['--configs', 'foo:1'], '--configs'),
               (['--configs', 'lenet:0.25:3'], '--configs'), (['--configs', 'lenet:0'], '--configs')]

@pytest.mark.parametrize('argv,flag', BENCH)
def test_adv_kt_bench_bad_input(capsys, argv, flag):
    rc, lines = _err(capsys, 'adv_kt_bench', benchmark.main, argv)
    assert rc == 2 and len(lines) == 1 and lines[0].startswith('adv_kt_bench: error:') and flag in lines[0], lines

@pytest.mark.parametrize('argv,flag', TRAIN_BENCH)
def test_adv_kt_train_bench_bad_input(capsys, argv, flag):
    rc, lines = _err(capsys, 'adv_kt_train_bench', train_benchmark.main, argv)
    assert rc == 2 and len(lines) == 1 and lines[0].startswith('adv_kt_train_bench: error:') and flag in lines[0], lines

def test_train_benchmark_refuses_a_batch_larger_than_the_data():
    with pytest.raises(ValueError, match='at most the 64 training images'):
        train_benchmark.train_benchmark((('lenet', 0.25),), steps=1, batch_size=100, n_images=64)

@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp('ck')
    from adv_kt.models import get_model
    torch.manual_seed(0)
    for name in ('ref', 'a'): selection.save_checkpoint(get_model('lenet', 10, 1, 0.25), d/f'{name}.pt')
    (d/'acc_list.json').write_text('[1, 2]'); (d/'acc_str.json').write_text(json.dumps({'a': 'abc'}))
    return d

RANK = [(['--attack', 'pgd', '--steps', '0'], '--steps'), (['--device', 'nonsense'], '--device'),
        (['--batch-size', '0'], '--batch-size'), (['--classes', '3'], '--classes'), (['--n', '0'], '--n'), (['--eps', '-1'], '--eps'),
        (['--accuracy', '{d}/acc_list.json'], '--accuracy'), (['--accuracy', '{d}/acc_str.json'], '--accuracy')]
if not torch.cuda.is_available(): RANK.append((['--device', 'cuda'], '--device'))

@pytest.mark.parametrize('argv,flag', RANK)
def test_adv_kt_rank_bad_input(capsys, ckpts, argv, flag):
    base = ['--reference', str(ckpts/'ref.pt'), '--candidates', str(ckpts/'a.pt'), '--target', 'digits_uci',
            '--n', '16', '--scorers', 'alpha']
    rc, lines = _err(capsys, 'adv_kt_rank', selection.main, base + [v.format(d=ckpts) for v in argv])
    assert rc == 2 and len(lines) == 1 and lines[0].startswith('adv_kt_rank: error:') and flag in lines[0], lines

@pytest.mark.parametrize('argv,flag', [(['--out', ''], '--out'), (['--cache', ' '], '--cache'),
                                       (['--only', 'zoo'], '--only'), (['--sources', 'nope.json'], '--sources'),
                                       (['--ray', ' '], '--ray')])
def test_adv_kt_reproduce_bad_input(capsys, argv, flag):
    rc, lines = _err(capsys, 'adv_kt_reproduce', None, argv)
    assert rc == 2 and len(lines) == 1 and lines[0].startswith('adv_kt_reproduce: error:') and flag in lines[0], lines

@pytest.mark.parametrize('cmd', [['adv_kt.benchmark', '--repeats', '0'], ['adv_kt.train_benchmark', '--configs', 'x'],
                                 ['adv_kt.reproduce', '--preset', 'huge', '--out', '/tmp/x']])
def test_installed_entry_points_print_no_traceback(cmd):
    mod, *argv = cmd
    out = subprocess.run([sys.executable, '-c', f'from {mod} import cli; cli()', *argv], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and 'Traceback' not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr

def test_api_messages_name_the_argument(tmp_path):
    from torch import nn
    from adv_kt.attacks import fgsm
    from adv_kt.metrics import transferability
    from adv_kt.train import cache_dir
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).eval()
    x = torch.rand(4, 3, 2, 2) * 2 - 1
    with pytest.raises(ValueError, match='names: must be a pair'): transferability(net, net, x, names=('a',), progress=False)
    with pytest.raises(ValueError, match='x: the batch is empty'): fgsm(net, x[:0], 0.1)
    with pytest.raises(ValueError, match='labels: must be integer class indices in 0..2'):
        transferability(net, net, x, labels=torch.tensor([0, 1, 99, 2]), reference=net, progress=False)
    blocker = tmp_path/'f'; blocker.write_text('')
    with pytest.raises(OSError, match='--cache on the command line'): cache_dir(blocker/'sub')
