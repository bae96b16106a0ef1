"adv_kt.synthetic against independent per-point reference code (loops, one SVD per point, as the official code does)."
import math
import pytest, torch
from adv_kt.synthetic import (make_rbf_data, SigmoidNet, synthetic_metrics, jacobian_metrics, grad_matching,
                              refit_last_layer, transfer_rmse, perturbation_sweep, attack_directions, rmse,
                              train_sigmoid_net)

@pytest.fixture(scope='module')
def small():
    data = make_rbf_data(n=12, d=4, num_features=20, N=300, num_centers=3, seed=5)
    f_t = SigmoidNet.init(n=12, m=16, d=4, seed=1)
    train_sigmoid_net(f_t, data.X, data.Y, epochs=50)
    f_s = SigmoidNet.init(n=12, m=9, d=4, seed=2)
    return data, f_s, f_t

def reference_metrics(f_s, f_t, X, level):
    "Per-point loop with one float64 SVD per Jacobian, written from the definitions."
    def jac(net, x):
        W1, b1, W2 = net.W1.detach().double(), net.b1.detach().double(), net.W2.detach().double()
        s = torch.sigmoid(W1 @ x + b1)
        return W2 @ torch.diag(s * (1 - s)) @ W1
    acc = {k: 0. for k in ('a_st', 'a_ts', 'Y_st', 'Y_ts', 'C_st', 'C_ts')}
    Js, Jt = [], []
    for x in X.double():
        J_s, J_t = jac(f_s, x), jac(f_t, x)
        Js.append(J_s); Jt.append(J_t)
        _, s_s, Vh_s = torch.linalg.svd(J_s, full_matrices=True)
        _, s_t, Vh_t = torch.linalg.svd(J_t, full_matrices=True)
        for a, J_a, J_b, Vh_a, s_b in (('st', J_s, J_t, Vh_s, s_t), ('ts', J_t, J_s, Vh_t, s_s)):
            v = Vh_a[level]
            u, w = J_a @ v, J_b @ v
            r = w.norm() / s_b[0]
            uu = u / u.norm() if u.norm() > 0 else torch.zeros_like(u)
            ww = w / w.norm() if w.norm() > 0 else torch.zeros_like(w)
            acc['a_' + a] += r.item(); acc['Y_' + a] = acc['Y_' + a] + torch.outer(uu, ww)
            acc['C_' + a] = acc['C_' + a] + r * torch.outer(uu, ww)
    N = len(X)
    P = sum(t @ s.T for t, s in zip(Jt, Js)) / N
    C = sum(s @ s.T for s in Js) / N
    A = P @ torch.linalg.pinv(C)
    gm = math.sqrt(sum(((t - A @ s)**2).sum().item() for t, s in zip(Jt, Js)) / N)
    return {'alpha1 S->T': acc['a_st'] / N, 'alpha1 T->S': acc['a_ts'] / N,
            'alpha2 S->T': (acc['Y_st'] / N).norm().item(), 'alpha2 T->S': (acc['Y_ts'] / N).norm().item(),
            'alpha12 S->T': (acc['C_st'] / N).norm().item(), 'alpha12 T->S': (acc['C_ts'] / N).norm().item(),
            'grad_matching': gm}

@pytest.mark.parametrize('level', [0, 1, 3])
def test_vectorised_metrics_match_per_point_loop(small, level):
    data, f_s, f_t = small
    got = synthetic_metrics(f_s, f_t, data.X, data.Y, level=level)
    ref = reference_metrics(f_s, f_t, data.X, level)
    for k, v in ref.items(): assert abs(got[k] - v) < 1e-9, (k, got[k], v)

def test_level_beyond_rank_is_a_null_direction(small):
    "level >= d: the source's own deviation is zero, so its alpha2 contributions vanish (unit vector of 0 is 0)."
    data, f_s, f_t = small
    got = synthetic_metrics(f_s, f_t, data.X, data.Y, level=4)
    J_s = f_s.jacobian(data.X).double()
    assert (J_s @ attack_directions(J_s, 4)[..., None]).abs().max() < 1e-12
    assert got['alpha2 S->T'] == 0 and got['alpha12 S->T'] == 0 and got['alpha2 T->S'] == 0
    assert 0 <= got['alpha1 S->T'] <= 1

def test_refit_matches_official_pinv_solution(small):
    "The official train_by_solving: W2 = Cov(Y, h) Cov(h)^+, b2 = mean(Y) - W2 mean(h)."
    data, f_s, _ = small
    H = torch.sigmoid(data.X @ f_s.W1.detach().double().T + f_s.b1.detach().double())
    hm, ym = H.mean(0), data.Y.mean(0)
    cov_yh = (data.Y - ym).T @ (H - hm) / len(H)
    cov_h = (H - hm).T @ (H - hm) / len(H)
    W2 = cov_yh @ torch.linalg.pinv(cov_h)
    refit = refit_last_layer(f_s, data.X, data.Y)
    torch.testing.assert_close(refit.W2.detach(), W2, atol=1e-8, rtol=1e-6)
    torch.testing.assert_close(refit.b2.detach(), ym - W2 @ hm, atol=1e-8, rtol=1e-6)

def test_sweep_is_cumulative(small):
    "Row i of the sweep equals synthetic_metrics on clean + 0.05 i (i+1) * direction, directions drawn as documented."
    data, f_s, f_t = small
    tables = perturbation_sweep(f_t, data.X, data.Y, source=f_s, levels=(1,), num_steps=4, seed=11)
    g = torch.Generator().manual_seed(11)
    clean = [p.detach().double() for p in (f_s.W1, f_s.b1, f_s.W2, f_s.b2)]
    dirs = [torch.rand(p.shape, generator=g, dtype=torch.float64) - 0.5 for p in clean]
    i = 3
    moved = SigmoidNet(*(p + 0.05 * i * (i + 1) * dv for p, dv in zip(clean, dirs)))
    want = synthetic_metrics(moved, f_t, data.X, data.Y, level=1)
    for k, v in want.items(): assert abs(tables[1][k][i] - v) < 1e-9, k
    assert abs(tables[1]['total'][i] - 0.6) < 1e-12

def test_rbf_blocks_when_N_not_divisible():
    data = make_rbf_data(n=3, d=2, num_features=5, N=10, num_centers=3, seed=0)
    blocks = torch.arange(10) * 3 // 10
    assert blocks.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    g = torch.Generator().manual_seed(0)
    U = lambda *s: torch.rand(*s, generator=g, dtype=torch.float64) - 0.5
    A, b, centers = U(2, 5), U(2), U(3, 3)
    X = torch.randn(10, 3, generator=g, dtype=torch.float64) + centers[blocks]
    torch.testing.assert_close(data.X, X)

def test_training_is_deterministic_and_float64_works(small):
    data, _, _ = small
    runs = []
    for _ in range(2):
        net = SigmoidNet.init(n=12, m=8, d=4, seed=3, dtype=torch.float64)
        runs.append(train_sigmoid_net(net, data.X, data.Y, epochs=30, record_every=10))
    assert torch.equal(runs[0], runs[1]) and runs[0].dtype == torch.float64
    assert runs[0][-1] < runs[0][0]
    assert abs(rmse(net, data.X, data.Y) - runs[0][-1].item()) < 1e-12

def test_jacobian_metrics_checks_shapes():
    with pytest.raises(ValueError, match='`J_t`'): jacobian_metrics(torch.ones(5, 2, 3), torch.ones(4, 2, 3))
    with pytest.raises(ValueError, match='`J_t`'): jacobian_metrics(torch.ones(5, 2, 3), torch.ones(5, 2, 4))
    with pytest.raises(ValueError, match='`level`'): jacobian_metrics(torch.ones(5, 2, 3), torch.ones(5, 2, 3), level=3)
