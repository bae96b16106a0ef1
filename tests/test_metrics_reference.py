"The batched, streamed metric against an independent per-image reimplementation of the official loop."
import pytest, torch
from torch import nn
from adv_kt.attacks import Attack
from adv_kt.metrics import transferability, bidirectional
from adv_kt.benchmark import official_loop
from adv_kt.models import get_model

@pytest.mark.parametrize('arch_s,arch_t', [('mlp', 'lenet'), ('lenet', 'alexnet')])
def test_batched_equals_official_loop(arch_s, arch_t):
    torch.manual_seed(0)
    attacked, measured = get_model(arch_s, 10).eval(), get_model(arch_t, 4).eval()   # m != d
    x = torch.rand(40, 3, 32, 32) * 2 - 1
    atk = Attack(0.2, steps=3, random_start=False)
    ref = official_loop(attacked, measured, x, atk)
    res = transferability(attacked, measured, x, attack=atk, convention='official', batch_size=16)
    assert res.n_used == ref['n'] == 40 and res.uw.shape == (10, 4)
    for k in ('alpha1', 'alpha2', 'alpha12'): assert abs(getattr(res, k) - ref[k]) < 1e-4, k
    paper = res.as_convention('paper')
    assert abs(paper.alpha1 - (res.ratio**2).mean().item()) < 1e-12
    assert abs(paper.alpha2 - ref['alpha2']**0.5) < 1e-4

def test_bn_model_results_do_not_depend_on_batch_size():
    "Eval mode everywhere: a ResNet's batch-norm uses running statistics, so batch size cannot change the numbers."
    torch.manual_seed(0)
    attacked, measured = get_model('resnet18', 10, width=0.125), get_model('lenet', 10)
    attacked.train()
    x = torch.rand(12, 3, 32, 32) * 2 - 1
    atk = Attack(0.2, steps=2, random_start=False)
    a = transferability(attacked, measured, x, attack=atk, batch_size=12)
    b = transferability(attacked, measured, x, attack=atk, batch_size=5)
    torch.testing.assert_close(a.ratio, b.ratio, atol=1e-4, rtol=1e-4)
    assert attacked.training                                   # the caller's mode survives

def test_default_attack_is_reproducible():
    torch.manual_seed(0)
    attacked, measured = get_model('lenet', 10), get_model('mlp', 10)
    x = torch.rand(8, 3, 32, 32) * 2 - 1
    a, b = transferability(attacked, measured, x), transferability(attacked, measured, x)
    assert a.alpha1 == b.alpha1 and a.alpha2 == b.alpha2 and 'PGD-50' in a.attack

def test_iterable_without_len_and_labels_from_batches():
    torch.manual_seed(0)
    attacked, measured = get_model('lenet', 10), get_model('lenet', 3)
    x = torch.rand(30, 3, 32, 32) * 2 - 1
    y = measured(x).argmax(1).detach(); y[:7] = (y[:7] + 1) % 3
    atk = Attack(0.2, steps=2, random_start=False)
    gen = ((x[i:i+8], y[i:i+8]) for i in range(0, 30, 8))                 # a generator: no len
    res = transferability(attacked, measured, gen, attack=atk, labels=True, reference=measured)
    ref = transferability(attacked, measured, x, attack=atk, labels=y, reference=measured)
    assert (res.n_misclassified, res.n_used) == (7, 23) == (ref.n_misclassified, ref.n_used)
    torch.testing.assert_close(res.ratio, ref.ratio, atol=1e-4, rtol=1e-4)   # float32 sums in another batch order

def test_bidirectional_reference_filter_on_either_model():
    torch.manual_seed(0)
    a, b = get_model('lenet', 5), get_model('mlp', 5)
    x = torch.rand(20, 3, 32, 32) * 2 - 1
    atk = Attack(0.2, steps=2, random_start=False)
    ya = a(x).argmax(1).detach()
    ab, ba = bidirectional(a, b, x, attack=atk, labels=ya, reference=a)
    assert ab.n_misclassified == ba.n_misclassified == 0 and ab.n_used == 20

def test_metrics_on_gpu_match_cpu():
    if not torch.cuda.is_available(): pytest.skip('no CUDA device on this machine')
    torch.manual_seed(0)
    attacked, measured = get_model('lenet', 10).double(), get_model('mlp', 10).double()
    x = (torch.rand(16, 3, 32, 32) * 2 - 1).double()
    atk = Attack(0.2, steps=2, random_start=False)
    cpu = transferability(attacked, measured, x, attack=atk)
    gpu = transferability(attacked.cuda(), measured.cuda(), x.cuda(), attack=atk)
    assert abs(cpu.alpha1 - gpu.alpha1) < 1e-6 and abs(cpu.alpha2 - gpu.alpha2) < 1e-6
