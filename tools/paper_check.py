#!/usr/bin/env python
"""The `paper` preset (CIFAR-10 -> STL-10) at full size, every training cut to one epoch, on this machine's device.

What it does, writing $OUT/paper_check.json after every section (a run cut short still reports what it finished):
1. `fit`: one epoch of the paper recipe per architecture at full width (crops, flips, SGD, batch 64) with the
   package's `fit`, next to a bare loop doing the same work (same batches and augmentation, no bookkeeping);
   images/s, peak memory and the ratio fit / bare.
2. `paper`: CIFAR-10 / STL-10 archives in the official layouts with the real image counts (class-coded stand-in
   images, as in tests/test_paper_path.py; no network needed), served from localhost through ADV_KT_SOURCES; then
   `adv_kt.reproduce.reproduce` on the paper preset with every training cut to `--epochs`, nothing else changed
   (full widths, PGD-50, all test images), the job graph run side by side (`--jobs`, or `--ray` with fractional
   GPUs). Seconds per part, which sources diverged, the report.
3. `repeat`: section 2 again from an empty cache; are the two runs' tables identical (on a GPU: deterministic
   algorithms, the default)? 4. `native`: section 2 again with `ADV_KT_KERNELS=native` (no deterministic algorithms):
   its seconds against section 2's are the cost of determinism.
5. `projection`: the paper preset's wall time (100-epoch sources, one seed) from the rates of section 1 and the
   job graph's work (`adv_kt.scale.work`), one job at a time and with the graph's parallelism.

`--small`: tiny sizes (a dry run on a CPU; what CI runs). Usage from the project's root:
    OUT=out python tools/paper_check.py [--small] [--epochs 1] [--jobs N | --ray] [--amp]
"""
import argparse, functools, http.server, json, os, sys, tempfile, threading, time, traceback
from dataclasses import replace
from pathlib import Path
import torch, torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
from test_paper_path import tiny_cifar, tiny_stl, md5, _Quiet          # the stand-in archives of the tests
from adv_kt import data, models, scale, train
from adv_kt.experiments import get_preset
from adv_kt.reproduce import reproduce

ARCHS = ('mlp', 'lenet', 'alexnet', 'resnet18', 'resnet50')

def bare_epoch(model, batches, opt)->None:
    "The same work as one epoch of `fit`, nothing else: forward, loss, backward, step."
    model.train()
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()

def fit_vs_bare(n:int, width:float, dev:torch.device, amp:bool)->dict:
    "Images/s of `fit` and of a bare loop over the same batches, per architecture, after a warm-up."
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    g = torch.Generator().manual_seed(0)
    d = data.ImageData('cifar10', 'train', torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
                       torch.randint(0, 10, (n,), generator=g), range(10))
    cfg = train.TrainConfig(epochs=1, device=dev.type, progress=False, select='last', amp=amp)
    out = {}
    for arch in ARCHS:
        torch.manual_seed(0)
        m = models.get_model(arch, 10, 3, width)
        train.fit(m, d.subset(torch.arange(min(n, 512))), cfg=cfg)          # warm-up: cuDNN, allocator
        if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats()
        sync(); t0 = time.perf_counter(); train.fit(m, d, cfg=cfg); sync(); t_fit = time.perf_counter() - t0
        _, opt, _, batches = train._fit_setup(m, d, None, None, cfg)
        sync(); t0 = time.perf_counter(); bare_epoch(m, batches, opt); sync(); t_bare = time.perf_counter() - t0
        out[arch] = dict(fit_img_s=round(n / t_fit), bare_img_s=round(n / t_bare), ratio=round(t_fit / t_bare, 3),
                         peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if dev.type == 'cuda' else None)
    return out

def serve(folder:Path, small:bool)->tuple:
    "Stand-in CIFAR-10 / STL-10 archives with the real image counts (or tiny ones), served on localhost."
    k = (2, 4, 4) if small else (1000, 1000, 800)
    folder.mkdir(parents=True, exist_ok=True)
    arcs = dict(cifar10=tiny_cifar(folder, per_class_batch=k[0], per_class_test=k[1]),
                stl10=tiny_stl(folder, per_class=k[2]))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{srv.server_address[1]}'
    return srv, {n: {'url': f'{base}/{p.name}', 'md5': md5(p)} for n, p in arcs.items()}

def paper_run(work:Path, small:bool, epochs:int, jobs, ray, amp:bool)->dict:
    "The paper preset, every training cut to `epochs`, end to end; seconds per part and the diverged sources."
    srv, mirrors = serve(work/'srv', small)
    (work/'mirrors.json').write_text(json.dumps(mirrors))
    os.environ.update(ADV_KT_DATA=str(work/'data'), ADV_KT_SOURCES=str(work/'mirrors.json'))
    p = get_preset('paper')
    cut = dict(epochs=epochs, progress=False, amp=amp)
    p = get_preset(p, source_cfg=replace(p.source_cfg, **cut), reference_cfg=replace(p.reference_cfg, **cut),
                   transfer_cfg=replace(p.transfer_cfg, **cut))
    if small: p = get_preset(p, widths=dict(mlp=0.125, alexnet=0.125, resnet18=0.0625, resnet50=0.0625),
                             pgd_steps=2, exp1_pgd_steps=2)
    out, res = work/'out', {}
    try:
        for part in ('adv_to_knowledge', 'knowledge_to_adv'):
            t0 = time.perf_counter()
            reproduce(p, out, work/'cache', progress=False, parts=(part,), ray=ray, jobs=jobs)
            res[part + '_seconds'] = round(time.perf_counter() - t0, 1)
            rows = json.loads((out/f'{part}.json').read_text())['rows']
            res[part + '_diverged'] = sorted({f"{r.get('source', r.get('overlap'))} seed {r['seed']}: "
                                              f"{r['diverged_error']}" for r in rows if r.get('source_diverged')})
            res[part + '_not_learned'] = sorted({f"{r.get('source', r.get('overlap'))} seed {r['seed']}"
                                                 for r in rows if not r['source_learned']
                                                 and not r.get('source_diverged')})
    finally: srv.shutdown(); srv.server_close()
    res['report'] = str(out/'report.md')
    return res

def tables(out:Path)->dict:
    "Every CSV of a run without its timing columns, and every JSON: what two runs must share."
    import csv, io
    got = {}
    for f in sorted(out.glob('*.csv')):
        rows = list(csv.reader(io.StringIO(f.read_text())))
        keep = [i for i, c in enumerate(rows[0]) if 'seconds' not in c]
        got[f.name] = [[r[i] for i in keep] for r in rows]
    got.update({f.name: f.read_text() for f in sorted(out.glob('*.json')) if f.name != 'provenance.json'})
    return got

def again(first:Path, work:Path, small:bool, epochs:int, jobs, ray, amp:bool, native:bool=False)->dict:
    "Section 2 once more from an empty cache (`native`: ADV_KT_KERNELS=native); which tables differ from `first`'s."
    before = os.environ.get('ADV_KT_KERNELS')
    if native: os.environ['ADV_KT_KERNELS'] = 'native'
    try: res = paper_run(work, small, epochs, jobs, ray, amp)
    finally:
        if before is None: os.environ.pop('ADV_KT_KERNELS', None)
        else: os.environ['ADV_KT_KERNELS'] = before
    a, b = tables(first/'out'), tables(work/'out')
    return dict(res, kernels='native' if native else 'portable', identical=a == b,
                differ=sorted(n for n in a if a[n] != b.get(n)))

def projection(rates:dict)->dict:
    "Minutes of the full paper preset (one seed, both experiments) from the measured `fit` rates and the job graph."
    h = scale.projected_hours('paper', rates, ('adv_to_knowledge', 'knowledge_to_adv'))
    return dict(minutes_one_at_a_time=round(60 * h['one_at_a_time'], 1),
                minutes_longest_chain=round(60 * h['longest_chain'], 1), jobs=h['jobs'],
                rates_img_s=rates)

def main(argv=None):
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument('--small', action='store_true', help='tiny sizes: a dry run on a CPU (what CI runs)')
    a.add_argument('--epochs', type=int, default=1, help='epochs of every training (default 1)')
    a.add_argument('--jobs', type=int, default=None, help='worker processes for the job graph (default: cores)')
    a.add_argument('--ray', nargs='?', const='local', default=None, help='run the job graph on Ray instead')
    a.add_argument('--amp', action='store_true', help='bf16 autocast + channels_last in training')
    a.add_argument('--device', default=None, help='cpu, cuda (default: CUDA when available)')
    a.add_argument('--sections', nargs='+', default=['fit', 'paper', 'repeat', 'native', 'projection'])
    a.add_argument('--n-train', type=int, default=None, help='images per fit epoch (default 50,000; --small 256)')
    a.add_argument('--width', type=float, default=None, help='width of the fit section (default 1; --small 1/16)')
    args = a.parse_args(argv)
    out = Path(os.environ.get('OUT') or tempfile.mkdtemp()); out.mkdir(parents=True, exist_ok=True)
    dev = train.pick_device(args.device)
    res = dict(torch=torch.__version__, device=torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu',
               small=args.small, epochs=args.epochs, amp=args.amp, seconds={})
    def section(name, f):
        if name not in args.sections: return
        t0 = time.perf_counter()
        try: res[name] = f()
        except Exception: res[name] = dict(error=traceback.format_exc()[-3000:])
        res['seconds'][name] = round(time.perf_counter() - t0, 1)
        print(f"== {name} ({res['seconds'][name]} s): {json.dumps(res[name])[:1500]}", flush=True)
        (out/'paper_check.json').write_text(json.dumps(res, indent=1))
    n = args.n_train or (256 if args.small else 50_000)
    width = args.width or (0.0625 if args.small else 1.0)
    res['fit_images'], res['fit_width'] = n, width
    section('fit', lambda: fit_vs_bare(n, width, dev, args.amp))
    work = Path(tempfile.mkdtemp(prefix='paper_check_'))
    run_args = (args.small, args.epochs, args.jobs, args.ray, args.amp)
    section('paper', lambda: paper_run(work, *run_args))
    if (work/'out').is_dir():
        section('repeat', lambda: again(work, Path(tempfile.mkdtemp(prefix='paper_repeat_')), *run_args))
        section('native', lambda: again(work, Path(tempfile.mkdtemp(prefix='paper_native_')), *run_args,
                                        native=True))
    fit = res.get('fit', {})
    if fit and 'error' not in fit and width == 1.0:          # rates of the full-width networks only
        section('projection', lambda: projection({k: v['fit_img_s'] for k, v in fit.items()}))
    return 0 if not any(isinstance(v, dict) and 'error' in v for v in res.values()) else 1

if __name__ == '__main__': sys.exit(main())
