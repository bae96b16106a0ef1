"""adv_kt.data end to end: the download path (exact CIFAR-10 / STL-10 archive layouts served over localhost HTTP,
checksums, atomic writes, interrupted transfers), the readers, and the shipped digit file."""
from dataclasses import replace
import functools, hashlib, http.server, io, os, pickle, socket, tarfile, threading
from pathlib import Path

import numpy as np, pytest, torch
from adv_kt import data

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- miniature archives in the official layouts
def _add(tar, name, payload: bytes):
    info = tarfile.TarInfo(name); info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))

def make_cifar(dirpath: Path, per_batch=6, seed=0):
    "cifar-10-python.tar.gz with cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}; returns the arrays."
    rng = np.random.default_rng(seed)
    arrays = {}
    path = dirpath/'cifar-10-python.tar.gz'
    with tarfile.open(path, 'w:gz') as tar:
        meta = {b'label_names': [n.encode() for n in data.CIFAR10_CLASSES], b'num_cases_per_batch': per_batch}
        _add(tar, 'cifar-10-batches-py/batches.meta', pickle.dumps(meta, protocol=2))
        for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
            x = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
            y = rng.integers(0, 10, per_batch).tolist()
            d = {b'batch_label': name.encode(), b'labels': y, b'data': x,
                 b'filenames': [f'{name}_{i}.png'.encode() for i in range(per_batch)]}
            _add(tar, f'cifar-10-batches-py/{name}', pickle.dumps(d, protocol=2))
            arrays[name] = (x.reshape(-1, 3, 32, 32), np.array(y))
        _add(tar, 'cifar-10-batches-py/readme.html', b'<html></html>')
    return path, arrays

def make_stl(dirpath: Path, n=(5, 4)):
    """stl10_binary.tar.gz with stl10_binary/{train,test}_{X,y}.bin (+ extras). Each image's top half is bright and
    its bottom half dark, stored column-major as in the real files; labels 1..10 on disk."""
    path = dirpath/'stl10_binary.tar.gz'
    arrays = {}
    rng = np.random.default_rng(1)
    with tarfile.open(path, 'w:gz') as tar:
        _add(tar, 'stl10_binary/class_names.txt', '\n'.join(data.STL10_CLASSES).encode() + b'\n')
        _add(tar, 'stl10_binary/fold_indices.txt', b'0 1 2\n')
        for split, k in zip(('train', 'test'), n):
            x = rng.integers(0, 60, (k, 3, 96, 96), dtype=np.uint8)
            x[:, :, :48, :] += 190                           # rows 0..47 bright: the top half
            y = rng.integers(1, 11, k).astype(np.uint8)      # 1..10 on disk
            _add(tar, f'stl10_binary/{split}_X.bin', np.ascontiguousarray(x.transpose(0, 1, 3, 2)).tobytes())
            _add(tar, f'stl10_binary/{split}_y.bin', y.tobytes())
            arrays[split] = (x, y)
        _add(tar, 'stl10_binary/unlabeled_X.bin', b'\0' * 27648)
    return path, arrays

def md5(path): return hashlib.md5(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- a localhost HTTP server
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

class _Truncating(_Quiet):
    "Announces the full length, sends half of the file, then hangs up."
    def do_GET(self):
        body = Path(self.directory, self.path.lstrip('/')).read_bytes()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body[:len(body) // 2]); self.wfile.flush()
        self.close_connection = True

@pytest.fixture
def serve():
    servers = []
    def start(directory, handler=_Quiet):
        srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(handler, directory=str(directory)))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f'http://127.0.0.1:{srv.server_address[1]}'
    yield start
    for s in servers: s.shutdown(); s.server_close()

def point(monkeypatch, name, url, md5sum):
    monkeypatch.setitem(data.DATASETS, name, replace(data.DATASETS[name], source={**data.DATASETS[name].source, 'url': url, 'md5': md5sum}))

def leftovers(root: Path): return sorted(p.name for p in root.rglob('*') if p.name.endswith('.part'))


# ---------------------------------------------------------------- tests
def test_cifar10_download_and_read(tmp_path, serve, monkeypatch):
    srv_dir, root = tmp_path/'srv', tmp_path/'data'; srv_dir.mkdir()
    archive, arrays = make_cifar(srv_dir)
    point(monkeypatch, 'cifar10', serve(srv_dir) + '/cifar-10-python.tar.gz', md5(archive))
    train = data.get_dataset('cifar10', 'train', root=root, download=True)
    x = np.concatenate([arrays[f'data_batch_{i}'][0] for i in range(1, 6)])
    y = np.concatenate([arrays[f'data_batch_{i}'][1] for i in range(1, 6)])
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert np.array_equal(train.images.numpy(), x) and np.array_equal(train.labels.numpy(), y)
    assert (root/'cifar-10-python.tar.gz').read_bytes() == archive.read_bytes()
    assert sorted(p.name for p in (root/'cifar-10-batches-py').iterdir()) == sorted(data.DATASETS['cifar10'].source['files'])
    assert leftovers(root) == []
    # present now: no network needed, and a subset is renumbered in ascending original order
    point(monkeypatch, 'cifar10', 'http://127.0.0.1:9/unreachable', md5(archive))
    test = data.get_dataset('cifar10', 'test', classes=[9, 2, 1, 8], root=root)
    xt, yt = arrays['test_batch']
    keep = np.isin(yt, [1, 2, 8, 9])
    assert np.array_equal(test.images.numpy(), xt[keep])
    assert np.array_equal(test.labels.numpy(), np.searchsorted([1, 2, 8, 9], yt[keep]))
    assert test.classes == ('automobile', 'bird', 'ship', 'truck')

def test_stl10_download_orientation_and_resize(tmp_path, serve, monkeypatch):
    from PIL import Image
    srv_dir, root = tmp_path/'srv', tmp_path/'data'; srv_dir.mkdir()
    archive, arrays = make_stl(srv_dir)
    point(monkeypatch, 'stl10', serve(srv_dir) + '/stl10_binary.tar.gz', md5(archive))
    d = data.get_dataset('stl10', 'test', root=root, download=True)
    x, y = arrays['test']
    assert d.images.shape == (len(x), 3, 32, 32)
    assert np.array_equal(d.labels.numpy(), y.astype(np.int64) - 1)           # 1..10 on disk -> 0..9
    im = d.images.numpy().astype(int)
    assert im[:, :, :15].min() >= 190 and im[:, :, 17:].max() < 60            # top half bright: rows, not columns
    for i in range(len(x)):                                                   # torchvision's Resize(32) is PIL bilinear
        ref = np.array(Image.fromarray(x[i].transpose(1, 2, 0)).resize((32, 32), Image.BILINEAR)).transpose(2, 0, 1)
        assert np.abs(im[i] - ref.astype(int)).max() <= 1
    assert not (root/'stl10_binary'/'unlabeled_X.bin').exists()              # the 2.7 GB file is never extracted
    assert len(data.get_dataset('stl10', 'train', root=root)) == len(arrays['train'][0])

def test_wrong_checksum_fails_and_leaves_nothing_valid(tmp_path, serve, monkeypatch):
    srv_dir, root = tmp_path/'srv', tmp_path/'data'; srv_dir.mkdir()
    archive, _ = make_cifar(srv_dir)
    point(monkeypatch, 'cifar10', serve(srv_dir) + '/cifar-10-python.tar.gz', '0' * 32)
    with pytest.raises(data.ChecksumError, match=f"MD5 {md5(archive)} but expected {'0' * 32}"):
        data.get_dataset('cifar10', 'train', root=root, download=True)
    assert not (root/'cifar-10-python.tar.gz').exists()
    assert not (root/'cifar-10-batches-py').exists()
    assert leftovers(root) == [] and list(root.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="download=True"):            # nothing counts as present
        data.get_dataset('cifar10', 'train', root=root)

def test_interrupted_download_leaves_nothing(tmp_path, serve, monkeypatch):
    srv_dir, root = tmp_path/'srv', tmp_path/'data'; srv_dir.mkdir()
    archive, _ = make_cifar(srv_dir, per_batch=200)
    point(monkeypatch, 'cifar10', serve(srv_dir, _Truncating) + '/cifar-10-python.tar.gz', md5(archive))
    with pytest.raises(OSError, match="could not download"):
        data.get_dataset('cifar10', 'train', root=root, download=True)
    assert list(root.iterdir()) == []
    with pytest.raises(OSError, match=r"connection closed after \d+ of \d+ bytes"):
        data.download_url(data.DATASETS['cifar10'].source['url'], root/'x.tar.gz', md5(archive), progress=False)
    assert list(root.iterdir()) == []

def test_corrupt_archive_on_disk(tmp_path, serve, monkeypatch):
    srv_dir, root = tmp_path/'srv', tmp_path/'data'; srv_dir.mkdir(); root.mkdir()
    archive, arrays = make_cifar(srv_dir)
    (root/archive.name).write_bytes(archive.read_bytes()[:100])                # a half-finished manual download
    point(monkeypatch, 'cifar10', serve(srv_dir) + '/cifar-10-python.tar.gz', md5(archive))
    with pytest.raises(data.ChecksumError, match="incomplete or corrupt"):
        data.get_dataset('cifar10', 'test', root=root)
    d = data.get_dataset('cifar10', 'test', root=root, download=True)          # fetched anew, then read
    assert np.array_equal(d.images.numpy(), arrays['test_batch'][0])
    assert md5(root/archive.name) == md5(archive)

def test_verified_archive_is_extracted_without_network(tmp_path, monkeypatch):
    root = tmp_path/'data'; root.mkdir()
    archive, arrays = make_cifar(root)                                         # placed by hand, correct MD5
    point(monkeypatch, 'cifar10', 'http://127.0.0.1:9/unreachable', md5(archive))
    d = data.get_dataset('cifar10', 'test', root=root)
    assert np.array_equal(d.labels.numpy(), arrays['test_batch'][1])

def test_missing_dataset_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        data.get_dataset('stl10', 'train', root=tmp_path)
    msg = str(e.value)
    assert 'download=True' in msg and data.DATASETS['stl10'].source['url'] in msg and str(tmp_path) in msg
    assert list(tmp_path.iterdir()) == []

def test_unreachable_server(tmp_path, monkeypatch):
    with socket.socket() as s:                                                 # a port nobody listens on
        s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    point(monkeypatch, 'cifar10', f'http://127.0.0.1:{port}/x.tar.gz', '0' * 32)
    with pytest.raises(OSError, match="could not download"):
        data.get_dataset('cifar10', 'train', root=tmp_path/'d', download=True)
    assert not (tmp_path/'d'/'cifar-10-python.tar.gz').exists()

def test_data_root_environment(tmp_path, monkeypatch):
    monkeypatch.delenv('ADV_KT_DATA', raising=False)
    monkeypatch.setenv('ADV_KT_CACHE', str(tmp_path/'c'))
    assert data.data_root() == tmp_path/'c'/'data'
    monkeypatch.setenv('ADV_KT_DATA', str(tmp_path/'d'))
    assert data.data_root() == tmp_path/'d'
    assert data.data_root(tmp_path/'e') == tmp_path/'e'

def test_bad_names():
    with pytest.raises(ValueError, match="cifar10, stl10, digits_mnist, digits_uci"): data.get_dataset('svhn', 'train')
    with pytest.raises(ValueError, match="out of range"): data.get_dataset('digits_uci', 'train', classes=[-1])
    with pytest.raises(ValueError, match="repeat"): data.get_dataset('digits_uci', 'train', classes=[1, 2, 1])


# ---------------------------------------------------------------- the shipped digits
def test_package_data_files():
    d = REPO/'adv_kt'/'data'
    assert (d/'digits.npz').is_file() and (d/'opencv_digits.COPYRIGHT').is_file() and (d/'README.md').is_file()
    assert 'Apache-2.0 AND BSD-3-Clause' in (d/'opencv_digits.COPYRIGHT').read_text()

def test_digit_splits_are_disjoint_and_stratified():
    for name, n in (('digits_mnist', 5000), ('digits_uci', 1797)):
        tr, te = data.get_dataset(name, 'train'), data.get_dataset(name, 'test')
        assert len(tr) + len(te) == n
        allx = torch.cat([tr.images, te.images]).flatten(1)
        assert len(torch.unique(allx, dim=0)) >= n - 5                        # (a few true duplicates in UCI)
        total = np.array(tr.counts()) + np.array(te.counts())
        assert np.array_equal(te.counts(), np.round(0.2 * total))

@pytest.mark.skipif(not (REPO.parent/'shared'/'data'/'opencv_digits.png').exists(), reason='source PNG not beside the repo')
def test_digits_file_rebuilds_from_png(tmp_path):
    fresh = data.pack_digits(REPO.parent/'shared'/'data'/'opencv_digits.png', tmp_path/'d.npz')
    with np.load(fresh) as a, np.load(REPO/'adv_kt'/'data'/'digits.npz') as b:
        assert a.files == b.files
        for k in a.files: assert np.array_equal(a[k], b[k]), k
