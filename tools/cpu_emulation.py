"""Same bits on another x86-64 processor? Train each paper architecture a few SGD steps and measure its FGSM
alpha1/alpha2 against a LeNet, on this processor and on processors that qemu emulates (another vendor, no
AVX-512, other cache sizes); print one digest per architecture and processor. Exit 1 if, in the portable
setting, any processor gives other bits than this one.

    python tools/cpu_emulation.py                       # this CPU, qemu's Haswell (Intel), EPYC-Rome (AMD)
    python tools/cpu_emulation.py --cpus Haswell --archs lenet mlp
    ADV_KT_KERNELS=native python tools/cpu_emulation.py # what native kernels give instead (they differ)

Needs qemu-user (Debian: qemu-user), which emulates AVX2 but not AVX-512."""
import argparse, hashlib, json, os, shutil, subprocess, sys, time

WIDTHS = dict(mlp=0.25, lenet=1.0, alexnet=0.125, resnet18=0.0625, resnet50=0.0625)   # the smoke preset's

def probe(archs, steps):
    "In this process: one digest of the trained weights and the measured alphas per architecture."
    import adv_kt, torch
    from adv_kt.core import job_numerics, kernels_in_use
    from adv_kt.models import get_model
    from adv_kt.metrics import transferability
    from adv_kt.attacks import official_fgsm
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 1, 32, 32, generator=g) * 2 - 1, torch.randint(0, 10, (64,), generator=g)
    out = {}
    with job_numerics():
        torch.manual_seed(1); ref = get_model('lenet', 10, in_channels=1).eval()
        for arch in archs:
            torch.manual_seed(0)
            m = get_model(arch, 10, in_channels=1, width=WIDTHS[arch])
            opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
            for _ in range(steps):
                opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step()
            m.eval()
            fgsm = official_fgsm(0.1, generator=torch.Generator().manual_seed(0))
            t = transferability(ref, m, x[:32], attack=fgsm, progress=False)
            blob = b''.join(p.detach().numpy().tobytes() for p in m.state_dict().values())
            blob += json.dumps([t.alpha1, t.alpha2, t.alpha12]).encode()
            out[arch] = hashlib.sha256(blob).hexdigest()[:12]
    return dict(kernels=kernels_in_use(), digests=out)

def run(cpu, archs, steps):
    "The probe in a new process, natively (cpu=None) or under qemu-x86_64 -cpu `cpu`."
    cmd = [sys.executable, __file__, '--probe', '--archs', *archs, '--steps', str(steps)]
    if cpu: cmd = [shutil.which('qemu-x86_64'), '-cpu', cpu, *cmd]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(os.path.abspath(__file__)))
    if r.returncode: raise SystemExit(f"{cpu or 'this CPU'}: probe failed:\n{r.stderr[-2000:]}")
    return dict(json.loads(r.stdout.strip().splitlines()[-1]), seconds=round(time.time() - t0, 1))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cpus', nargs='*', default=['Haswell', 'EPYC-Rome'], help='qemu CPU models')
    ap.add_argument('--archs', nargs='+', default=list(WIDTHS), choices=list(WIDTHS))
    ap.add_argument('--steps', type=int, default=2)
    ap.add_argument('--probe', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.probe: print(json.dumps(probe(a.archs, a.steps))); return 0
    if a.cpus and not shutil.which('qemu-x86_64'):
        raise SystemExit("qemu-x86_64 not found (Debian: qemu-user)")
    runs = {'this CPU': run(None, a.archs, a.steps), **{c: run(c, a.archs, a.steps) for c in a.cpus}}
    base = runs['this CPU']['digests']
    print(f"| processor | kernels (torch, MKL, oneDNN) | {' | '.join(a.archs)} | same bits | seconds |")
    print('|---|---|' + '---|' * len(a.archs) + '---|---|')
    for name, r in runs.items():
        k = r['kernels']
        print(f"| {name} | {k['setting']}: {k['torch_cpu']}, {k['mkl']}, {k['onednn']} | "
              f"{' | '.join(r['digests'][x] for x in a.archs)} | {r['digests'] == base} | {r['seconds']} |")
    same = all(r['digests'] == base for r in runs.values())
    portable = all(r['kernels']['setting'] == 'portable' for r in runs.values())
    return 1 if portable and not same else 0

if __name__ == '__main__': sys.exit(main())
