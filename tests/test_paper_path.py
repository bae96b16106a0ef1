"""The `paper` preset's whole pipeline (CIFAR-10 -> STL-10), end to end at tiny size: archives in the official layouts
served from localhost, their checksums given through the documented mirror option, then download -> train -> transfer
-> both experiments -> report files. Only the sizes are shrunk (widths, epochs, attack steps, image counts); the
domains, class sets, selection on the test split, attacks, conventions and file handling are the paper preset's."""
import csv, functools, hashlib, http.server, io, json, pickle, tarfile, threading
from dataclasses import replace
from pathlib import Path

import numpy as np, pytest
from adv_kt import data
from adv_kt.experiments import get_preset, paper_exp2_sources
from adv_kt.reproduce import main, reproduce


def _add(tar, name, payload: bytes):
    info = tarfile.TarInfo(name); info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))

def _images(rng, labels, size):
    "Class-coded photos: brightness rises with the label (so one epoch learns something), plus noise."
    x = rng.integers(0, 40, (len(labels), 3, size, size)).astype(np.int64) + 20 * np.asarray(labels)[:, None, None, None]
    return x.clip(0, 255).astype(np.uint8)

def tiny_cifar(folder: Path, per_class_batch=2, per_class_test=4) -> Path:
    "cifar-10-python.tar.gz: cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta} (python pickles)."
    rng, path = np.random.default_rng(0), folder/'cifar-10-python.tar.gz'
    with tarfile.open(path, 'w:gz') as tar:
        _add(tar, 'cifar-10-batches-py/batches.meta', pickle.dumps({b'label_names': [c.encode() for c in data.CIFAR10_CLASSES]}))
        for name, k in [(f'data_batch_{i}', per_class_batch) for i in range(1, 6)] + [('test_batch', per_class_test)]:
            y = [c for c in range(10) for _ in range(k)]
            d = {b'batch_label': name.encode(), b'labels': y, b'data': _images(rng, y, 32).reshape(len(y), -1),
                 b'filenames': [f'{name}_{i}.png'.encode() for i in range(len(y))]}
            _add(tar, f'cifar-10-batches-py/{name}', pickle.dumps(d, protocol=2))
    return path

def tiny_stl(folder: Path, per_class=4) -> Path:
    "stl10_binary.tar.gz: stl10_binary/{train,test}_{X,y}.bin, 96x96 planes column-major, labels 1..10 on disk."
    rng, path = np.random.default_rng(1), folder/'stl10_binary.tar.gz'
    with tarfile.open(path, 'w:gz') as tar:
        _add(tar, 'stl10_binary/class_names.txt', '\n'.join(data.STL10_CLASSES).encode())
        for split in ('train', 'test'):
            y = np.array([c for c in range(10) for _ in range(per_class)])
            x = _images(rng, y, 96)
            _add(tar, f'stl10_binary/{split}_X.bin', np.ascontiguousarray(x.transpose(0, 1, 3, 2)).tobytes())
            _add(tar, f'stl10_binary/{split}_y.bin', (y + 1).astype(np.uint8).tobytes())
    return path

def md5(p): return hashlib.md5(Path(p).read_bytes()).hexdigest()

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

@pytest.fixture
def server(tmp_path):
    "Tiny CIFAR-10 and STL-10 archives served over HTTP on localhost; yields (base URL, {name: archive path})."
    srv_dir = tmp_path/'srv'; srv_dir.mkdir()
    archives = dict(cifar10=tiny_cifar(srv_dir), stl10=tiny_stl(srv_dir))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(srv_dir)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}', archives
    srv.shutdown(); srv.server_close()

def mirrors(tmp_path, base, archives, md5s=None) -> Path:
    f = tmp_path/'mirrors.json'
    f.write_text(json.dumps({n: {'url': f'{base}/{p.name}', 'md5': (md5s or {}).get(n, md5(p))} for n, p in archives.items()}))
    return f

def tiny_paper():
    "The paper preset with only its sizes shrunk."
    p = get_preset('paper')
    small = dict(epochs=1, progress=False)
    return get_preset(p, widths=dict(mlp=0.125, alexnet=0.125, resnet18=0.0625, resnet50=0.0625),
                      source_cfg=replace(p.source_cfg, **small), transfer_cfg=replace(p.transfer_cfg, **small),
                      reference_cfg=replace(p.reference_cfg, epochs=2, progress=False), pgd_steps=2, exp1_pgd_steps=2)

def read_csv(path): return list(csv.DictReader(path.open()))


def test_paper_preset_end_to_end_from_a_localhost_mirror(tmp_path, server, monkeypatch):
    base, archives = server
    official = {n: d.source for n, d in data.DATASETS.items()}
    monkeypatch.setenv('ADV_KT_DATA', str(tmp_path/'data'))
    monkeypatch.setenv('ADV_KT_SOURCES', str(mirrors(tmp_path, base, archives)))
    p = tiny_paper()
    assert (p.source, p.target, p.download, p.source_cfg.select, p.exp2_target) == ('cifar10', 'stl10', True, 'test', (1, 3, 4, 5))
    out = tmp_path/'out'
    report = reproduce(p, out, tmp_path/'cache', progress=False, parts=('adv_to_knowledge', 'knowledge_to_adv'))

    # download: the served archives, verified, extracted into the standard layouts; nothing half-written
    root = tmp_path/'data'
    for name, arc in archives.items():
        assert (root/arc.name).read_bytes() == arc.read_bytes()
        assert all((root/data.DATASETS[name].source['folder']/f).is_file() for f in data.DATASETS[name].source['files'])
    assert not [q for q in tmp_path.rglob('*.part')]
    assert {n: d.source for n, d in data.DATASETS.items()} == official                            # the mirror never touched the default checks

    # experiment 1: five CIFAR-10 sources, a STL-10 reference, FGSM and PGD, both conventions
    e1 = read_csv(out/'adv_to_knowledge.csv')
    assert len(e1) == 5 * 2 * 2
    assert {r['source'] for r in e1} == set(p.archs) and {r['attack'] for r in e1} == {'fgsm', 'pgd'}
    for r in e1:
        assert r['direction'] == 'T->S' and 0 < int(r['n_used']) <= 40
        assert 0 <= float(r['source_acc']) <= 100 and 0 <= float(r['reference_acc']) <= 100
        assert r['source_learned'] == str(float(r['source_acc']) >= p.min_source_acc)
        assert np.isfinite([float(r[m]) for m in ('alpha1', 'alpha2', 'alpha12', 'knowledge_transfer')]).all()

    # experiment 2: the paper's CIFAR-10 class lists, the STL-10 animals as target, PGD
    e2 = read_csv(out/'knowledge_to_adv.csv')
    assert len(e2) == 5 * 1 * 2
    want = {str(k): ' '.join(map(str, v)) for k, v in paper_exp2_sources('text').items()}
    assert {r['overlap']: r['source_classes'] for r in e2} == want
    assert all(r['direction'] == 'S->T' and 0 < int(r['n_used']) <= 16 for r in e2)   # 4 classes x 4 test images

    # report files
    names = {f.name for f in out.iterdir()}
    assert {'report.md', 'preset.json', 'adv_to_knowledge.json', 'knowledge_to_adv.json', 'adv_to_knowledge_fgsm.png',
            'adv_to_knowledge_pgd.png', 'knowledge_to_adv_pgd.png'} <= names
    md = report.read_text()
    assert 'Experiment 1' in md and 'Experiment 2' in md and 'Source acc.' in md and 'reference model' in md
    assert json.loads((out/'preset.json').read_text())['source'] == 'cifar10'


def test_a_mirror_with_the_wrong_checksum_is_refused(tmp_path, server, monkeypatch, capsys):
    "A mirror must name the archive's MD5, which is checked as strictly as the official one."
    base, archives = server
    monkeypatch.setenv('ADV_KT_DATA', str(tmp_path/'data'))
    monkeypatch.setenv('ADV_KT_SOURCES', '')                   # restored after the test: --sources sets it
    bad = mirrors(tmp_path, base, archives, md5s={'cifar10': '0' * 32, 'stl10': '0' * 32})
    rc = main(['--preset', 'paper', '--sources', str(bad), '--out', str(tmp_path/'out'), '--cache', str(tmp_path/'c'),
               '--only', 'adv_to_knowledge', '--no-progress'])
    err = capsys.readouterr().err
    assert rc == 2 and 'MD5' in err and 'expected ' + '0' * 32 in err, err
    assert not [q for q in (tmp_path/'data').rglob('*') if q.suffix in ('.gz', '.bin', '.part')]
    assert main(['--preset', 'paper', '--sources', str(tmp_path/'nope.json'), '--out', str(tmp_path/'o')]) == 2
    assert '--sources: no such file' in capsys.readouterr().err
    (tmp_path/'broken.json').write_text(json.dumps({'cifar10': {'url': base + '/x.tar.gz'}}))
    monkeypatch.setenv('ADV_KT_SOURCES', str(tmp_path/'broken.json'))
    with pytest.raises(ValueError, match="needs a 'url' and the archive's 'md5'"): data.dataset_source('cifar10')
