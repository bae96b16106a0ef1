"""adv_kt.inputs and the two command-line tools on a practitioner's files: every model form, every data form,
normalisation in the model or given on the command line (the same alphas), and bad input as a one-line error with
exit status 2 that names the file."""
import json, subprocess, sys

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from adv_kt.attacks import official_fgsm
from adv_kt.inputs import (Normalize, load_model, load_data, pixel_attack, read_image_folder, PixelData,
                           check_classifier, transfer_main)
from adv_kt.metrics import transferability
from adv_kt.models import get_model
from adv_kt.selection import main as rank_main
from adv_kt.train import save_checkpoint

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def rgb_net(seed):
    torch.manual_seed(seed)
    return get_model('lenet', 3, in_channels=3, width=0.25).eval()


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    "Three RGB classifiers in several forms, their entry-point module, and a folder of 24 small RGB images."
    d = tmp_path_factory.mktemp('practitioner')
    nets = [rgb_net(s) for s in range(3)]
    x = torch.rand(4, 3, 32, 32)
    torch.jit.save(torch.jit.trace(nn.Sequential(Normalize(*IMAGENET), nets[0]).eval(), x), d/'a_ts.pt')
    torch.export.save(torch.export.export(nets[1], (x,), dynamic_shapes=({0: torch.export.Dim('b')},)),
                      d/'b.pt2')
    torch.save(nets[2].state_dict(), d/'c_weights.pt')
    save_checkpoint(nets[2], d/'c_adv_kt.pt')
    (d/'my_zoo.py').write_text(
        "import torch\nfrom torch import nn\nfrom adv_kt.models import get_model\n"
        "from adv_kt.inputs import Normalize\n"
        f"IMAGENET = {IMAGENET!r}\n"
        "def lenet(): return get_model('lenet', 3, in_channels=3, width=0.25)\n"
        "def lenet_normalised(): return nn.Sequential(Normalize(*IMAGENET), lenet())\n"
        "def not_a_model(): return 3\n"
        "def feature_maps(): return nn.Conv2d(3, 4, 3)\n"
        "def broken(): raise RuntimeError('no weights here')\n")
    (d/'broken_import.py').write_text("import a_module_that_does_not_exist\n")
    sys.path.insert(0, str(d))
    g = torch.Generator().manual_seed(0)
    for k in range(3):
        (d/'imgs'/f'class{k}').mkdir(parents=True)
        for i in range(8):
            a = (torch.rand(32, 32, 3, generator=g) * 255).to(torch.uint8).numpy()
            Image.fromarray(a, 'RGB').save(d/'imgs'/f'class{k}'/f'{i}.png')
    return d


def test_every_model_form_loads_and_agrees(files):
    d, pix = files, torch.rand(5, 3, 32, 32)
    want = rgb_net(0)(Normalize(*IMAGENET)(pix))
    with torch.no_grad():
        torch.testing.assert_close(load_model(d/'a_ts.pt')(pix), want)        # normalisation inside the file
        torch.testing.assert_close(load_model(d/'b.pt2', *IMAGENET)(pix), rgb_net(1)(Normalize(*IMAGENET)(pix)))
        ep = load_model(f"my_zoo:lenet@{d/'c_weights.pt'}", *IMAGENET)
        torch.testing.assert_close(ep(pix), rgb_net(2)(Normalize(*IMAGENET)(pix)))
        ck = load_model(d/'c_adv_kt.pt')                                      # adv_kt's own [-1, 1] normalisation
        torch.testing.assert_close(ck(pix), rgb_net(2)(pix * 2 - 1))
    assert not ep.training and not ck.training


def test_normalisation_in_the_model_or_on_the_command_line_gives_the_same_alphas(files, capsys):
    d = files
    common = ['--measured', f"my_zoo:lenet@{d/'c_weights.pt'}", '--data', str(d/'imgs'), '--all-samples', '--n', '16']
    inside = transfer_main(['--attacked', 'my_zoo:lenet_normalised'] + common + ['--mean', *map(str, IMAGENET[0]),
                                                                              '--std', *map(str, IMAGENET[1])])
    given = transfer_main(['--attacked', 'my_zoo:lenet'] + common + ['--mean', *map(str, IMAGENET[0]),
                                                                      '--std', *map(str, IMAGENET[1])])
    # the attacked model's normalisation: inside its module (first call) or given with --mean/--std (second);
    # both models are freshly built from the same seeds of torch's default initialisation
    out = capsys.readouterr().out
    assert 'eps = 0.1 px is 0.437, 0.446, 0.444' in out and 'pixels [0, 1] are [-2.12, -2.04, -1.8]' in out
    for a in ('alpha1', 'alpha2', 'alpha12'):
        assert getattr(inside[0], a) > 0
    # the library's attack on normalised [-1, 1] images against the pixel attack with the layer: the same alphas
    torch.manual_seed(3); a_net = get_model('lenet', 10, in_channels=1, width=0.25).eval()
    torch.manual_seed(4); b_net = get_model('mlp', 10, in_channels=1, width=0.05).eval()
    pix = torch.rand(32, 1, 32, 32)
    g = lambda: torch.Generator().manual_seed(7)
    in_data = transferability(a_net, b_net, pix * 2 - 1, attack=official_fgsm(0.1, generator=g()), progress=False)
    in_model = transferability(load_model(a_net, 0.5, 0.5), load_model(b_net, 0.5, 0.5), pix,
                               attack=pixel_attack('fgsm', 0.1, generator=g()), progress=False)
    for a in ('alpha1', 'alpha2', 'alpha12'):
        assert getattr(in_model, a) == pytest.approx(getattr(in_data, a), rel=1e-4)


def test_entry_point_normalisation_inside_equals_given(files):
    "The same network twice: its normalisation inside the module, or given as mean/std; identical alphas."
    d, pix = files, torch.rand(12, 3, 32, 32)
    torch.manual_seed(5); net = get_model('lenet', 3, in_channels=3, width=0.25).eval()
    other = load_model(rgb_net(1), *IMAGENET)
    inside = load_model(nn.Sequential(Normalize(*IMAGENET), net).eval())
    given = load_model(net, *IMAGENET)
    r = [transferability(m, other, pix, attack=pixel_attack('fgsm', 8 / 255, generator=torch.Generator().manual_seed(0)),
                         progress=False) for m in (inside, given)]
    assert (r[0].alpha1, r[0].alpha2, r[0].alpha12) == (r[1].alpha1, r[1].alpha2, r[1].alpha12)


def run(tool, args):
    mod = {'adv_kt_rank': 'adv_kt.selection import cli', 'adv_kt_transfer': 'adv_kt.inputs import transfer_cli as cli'}[tool]
    return subprocess.run([sys.executable, '-c', f'from {mod}; cli()'] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=300, cwd=files_dir[0])

files_dir = []


def test_rank_takes_every_form_end_to_end(files):
    d = files; files_dir[:] = [d]
    out = run('adv_kt_rank', ['--reference', d/'a_ts.pt', '--candidates', d/'b.pt2', f"my_zoo:lenet@{d/'c_weights.pt'}",
                              d/'c_adv_kt.pt', '--target', d/'imgs', '--mean', *IMAGENET[0], '--std', *IMAGENET[1],
                              '--all-samples'])
    assert out.returncode == 0, out.stderr
    assert '3 candidates on image folder' in out.stdout and 'eps = 0.1 px (25.5/255)' in out.stdout
    assert '- b: torch.export program' in out.stdout and '- c_weights: my_zoo:lenet() with the weights' in out.stdout
    rows = [l for l in out.stdout.splitlines() if l.startswith(('| b |', '| c_weights |', '| c_adv_kt |'))]
    assert len(rows) == 6                                   # scores and seconds
    assert '| b |' in out.stdout and 'alpha12 T->S' in out.stdout


BAD = [
    (['--attacked', 'broken_import:net'], 'broken_import:net: cannot import broken_import'),
    (['--attacked', 'my_zoo:not_a_model'], 'my_zoo:not_a_model: not_a_model() returned int, not an nn.Module'),
    (['--attacked', 'my_zoo:broken'], 'my_zoo:broken: broken() failed (RuntimeError: no weights here)'),
    (['--attacked', 'my_zoo:feature_maps'], 'must return a batch of logits'),
    (['--attacked', '{d}/c_weights.pt'], 'c_weights.pt: holds weights only'),
    (['--attacked', '{d}/nothing.pt'], 'nothing.pt: no such file'),
    (['--attacked', '{d}/my_zoo.py'], 'my_zoo.py: not a model file'),
    (['--data', '{d}/mixed_sizes'], '5x5 pixels, but'),
    (['--data', '{d}/mixed_modes'], 'mode L, but'),
    (['--data', '{d}/empty_class'], 'class folder without images'),
    (['--data', '{d}/labels.npz'], 'labels in 0..7, outside the 3 classes'),
    (['--data', '{d}/normalised.npz'], 'not pixels in [0, 1]'),
    (['--mean', '0.5'], 'mean and std: give both or neither'),
    (['--classes', 'class0'], '--classes'),
]


@pytest.fixture(scope='module')
def bad_data(files):
    d = files
    for name, sizes, modes in (('mixed_sizes', (8, 5), ('RGB', 'RGB')), ('mixed_modes', (8, 8), ('RGB', 'L'))):
        for k, (s, m) in enumerate(zip(sizes, modes)):
            (d/name/f'c{k}').mkdir(parents=True)
            Image.new(m, (s, s)).save(d/name/f'c{k}'/'0.png')
    (d/'empty_class'/'a').mkdir(parents=True); (d/'empty_class'/'b').mkdir()
    Image.new('RGB', (8, 8)).save(d/'empty_class'/'a'/'0.png')
    x = np.zeros((4, 3, 32, 32), np.uint8)
    np.savez(d/'labels.npz', x=x, y=np.array([0, 1, 7, 2]), classes=np.array(['a', 'b', 'c']))
    np.savez(d/'normalised.npz', x=(np.random.default_rng(0).random((4, 3, 32, 32)) - 0.45) / 0.225,
             y=np.array([0, 1, 0, 1]))
    return d


@pytest.mark.parametrize('args,msg', BAD)
def test_bad_input_is_one_line_and_exit_2(files, bad_data, args, msg, capsys):
    "In process (the installed entry point's subprocess path is tested by test_rank_takes_every_form_end_to_end)."
    from adv_kt.core import run_cli
    d = files
    base = dict(zip(['--attacked', '--measured', '--data'], [d/'a_ts.pt', d/'c_adv_kt.pt', d/'imgs']))
    base.update(dict(zip(args[::2], args[1::2])))
    argv = [str(v).format(d=d) for kv in base.items() for v in kv] + ['--all-samples']
    rc = run_cli('adv_kt_transfer', transfer_main, argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith('adv_kt_transfer: error:'), err
    assert msg in err[0], err[0]
