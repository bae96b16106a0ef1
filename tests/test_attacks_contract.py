"Property checks of the attack contract over many random configurations (too many for a documentation page)."
import itertools, pytest, torch
from torch import nn
from adv_kt.attacks import pgd, fgsm, Attack, official_fgsm, official_pgd, evaluating

def _models():
    torch.manual_seed(0)
    conv = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.3), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(2 * 8 * 8, 16), nn.Tanh(), nn.Linear(16, 3))
    return dict(conv=conv, mlp=mlp)

CONFIGS = list(itertools.product(['conv', 'mlp'], ['linf', 'l2'], ['ce', 'deviation'], [1, 4], [0.05, 0.5], [(-1.0, 1.0), None]))

@pytest.mark.parametrize('arch,norm,loss,steps,eps,bounds', CONFIGS)
def test_ball_bounds_mode_grads(arch, norm, loss, steps, eps, bounds):
    model = _models()[arch].train()
    name0, p0 = next(iter(model.named_parameters()))
    p0.grad = torch.full_like(p0, 3.0)
    running = [b.clone() for b in model.buffers()]
    x = torch.rand(16, 2, 8, 8) * 2 - 1
    xa = pgd(model, x, eps, steps=steps, norm=norm, loss=loss, bounds=bounds, generator=torch.Generator().manual_seed(1))
    d = (xa - x).flatten(1)
    size = d.abs().max(1).values if norm == 'linf' else d.norm(dim=1)
    assert (size <= eps * (1 + 1e-5)).all()
    if bounds: assert xa.min() >= bounds[0] and xa.max() <= bounds[1]
    assert all(m.training for m in model.modules())                      # mode restored
    assert torch.equal(p0.grad, torch.full_like(p0, 3.0))
    assert all(p.grad is None for n, p in model.named_parameters() if n != name0)
    assert all(torch.equal(a, b) for a, b in zip(running, model.buffers()))  # BN statistics untouched
    xb = pgd(model, x, eps, steps=steps, norm=norm, loss=loss, bounds=bounds, generator=torch.Generator().manual_seed(1))
    assert torch.equal(xa, xb)                                            # reproducible under a generator

@pytest.mark.parametrize('norm', ['linf', 'l2'])
def test_batch_is_per_sample(norm):
    "Without a random start, attacking a batch equals attacking each sample alone."
    model = _models()['conv'].eval()
    x = torch.rand(6, 2, 8, 8) * 2 - 1
    batched = pgd(model, x, 0.1, steps=3, norm=norm, random_start=False)
    single = torch.cat([pgd(model, x[i:i+1], 0.1, steps=3, norm=norm, random_start=False) for i in range(6)])
    torch.testing.assert_close(batched, single, atol=1e-6, rtol=0)

def test_mode_restored_when_model_raises():
    calls = []
    class Flaky(nn.Module):
        def __init__(self): super().__init__(); self.lin = nn.Linear(4, 3)
        def forward(self, x):
            calls.append(self.training)
            if len(calls) == 2: raise RuntimeError('boom')
            return self.lin(x)
    m = Flaky().train()
    with pytest.raises(RuntimeError, match='boom'): pgd(m, torch.zeros(2, 4), 0.1, steps=3)
    assert calls == [False, False] and m.training and m.lin.training

def test_official_presets_match_the_paper_code():
    "official code image_exp/attack.py (commit a2fb10f): radius 2*eps in [-1,1]; FGSM one step of the radius; PGD steps of 2*eps*5/itr."
    for px in (0.03, 0.06, 0.1):
        f, p = official_fgsm(px), official_pgd(px, steps=50)
        assert (f.eps, f.steps, f.step_size, f.norm, f.loss, f.random_start, f.bounds) == (2 * px, 1, 2 * px, 'linf', 'ce', True, (-1.0, 1.0))
        assert p.steps == 50 and abs(p.step_size - 2 * px * 5 / 50) < 1e-12 and p.eps == 2 * px

def test_generator_on_other_device_than_inputs():
    if not torch.cuda.is_available(): pytest.skip('no CUDA device on this machine')
    model = _models()['mlp'].cuda()
    x = torch.rand(4, 2, 8, 8, device='cuda') * 2 - 1
    xa = pgd(model, x, 0.1, generator=torch.Generator().manual_seed(0))
    assert xa.device.type == 'cuda' and (xa - x).abs().max() <= 0.1 + 1e-6
