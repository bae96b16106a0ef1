"""Fashion-MNIST (adv_kt.fashion): the gzip IDX reader on files the test writes, checksum and truncation failures,
finding and downloading the four files, and the real files where Debian's dataset-fashion-mnist package (CI installs
it) or $ADV_KT_DATA provides them."""
import gzip, hashlib
import numpy as np, pytest, torch
from adv_kt import fashion
from adv_kt.data import ChecksumError, get_dataset, DATASETS


def idx(a: np.ndarray) -> bytes:
    return b'\x00\x00\x08' + bytes([a.ndim]) + b''.join(int(s).to_bytes(4, 'big') for s in a.shape) + a.tobytes()


def fake_files(folder, n_train=12, n_test=5, seed=0):
    "Four small gzip IDX files in Fashion-MNIST's layout; returns {file: (gz md5, content md5)}."
    g = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for pre, n in (('train', n_train), ('t10k', n_test)):
        for kind, a in (('images-idx3', g.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                        ('labels-idx1', g.integers(0, 10, n, dtype=np.uint8))):
            raw = idx(a); gz = gzip.compress(raw)
            name = f'{pre}-{kind}-ubyte.gz'
            (folder/name).write_bytes(gz)
            sums[name] = (hashlib.md5(gz).hexdigest(), hashlib.md5(raw).hexdigest())
    return sums


def test_reader_on_small_idx_files(tmp_path, monkeypatch):
    sums = fake_files(tmp_path/'fashion-mnist')
    monkeypatch.setattr(fashion, 'FASHION_FILES', sums)
    x, y = fashion.read_fashion_mnist('train', root=tmp_path)
    assert x.shape == (12, 1, 32, 32) and x.dtype == torch.uint8 and y.dtype == np.int64
    raw = fashion.read_idx_gz(tmp_path/'fashion-mnist'/'train-images-idx3-ubyte.gz')
    assert torch.equal(x[:, 0, 2:30, 2:30], torch.from_numpy(raw.copy()))      # padded by 2 on every side
    assert int(x[:, :, :2].sum()) == 0 and int(x[:, :, :, 30:].sum()) == 0
    assert len(fashion.read_fashion_mnist('test', root=tmp_path)[1]) == 5


def test_checksum_failure_names_the_file(tmp_path, monkeypatch):
    sums = fake_files(tmp_path/'fashion-mnist')
    bad = dict(sums, **{'t10k-labels-idx1-ubyte.gz': (sums['t10k-labels-idx1-ubyte.gz'][0], '0' * 32)})
    monkeypatch.setattr(fashion, 'FASHION_FILES', bad)
    with pytest.raises(ChecksumError, match='t10k-labels-idx1-ubyte.gz: decompressed content has MD5'):
        fashion.read_fashion_mnist('test', root=tmp_path)


def test_truncated_file(tmp_path, monkeypatch):
    folder = tmp_path/'fashion-mnist'
    monkeypatch.setattr(fashion, 'FASHION_FILES', fake_files(folder))
    f = folder/'train-images-idx3-ubyte.gz'
    f.write_bytes(f.read_bytes()[:-20])
    with pytest.raises(ValueError, match='not a complete gzip file'): fashion.read_fashion_mnist('train', root=tmp_path)
    f.write_bytes(gzip.compress(idx(np.zeros((12, 28, 28), np.uint8))[:-5]))   # complete gzip, short content
    with pytest.raises(ValueError, match='truncated'): fashion.read_idx_gz(f)


def test_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match='apt-get install dataset-fashion-mnist'):
        fashion.fashion_folder(tmp_path)


def test_download_checks_the_published_sums(tmp_path, monkeypatch):
    src = tmp_path/'mirror'
    sums = fake_files(src)
    monkeypatch.setattr(fashion, 'FASHION_FILES', sums)
    monkeypatch.setattr(fashion, 'FASHION_URL', src.as_uri() + '/')
    folder = fashion.fashion_folder(tmp_path/'data', download=True, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == sorted(sums)
    wrong = {k: ('0' * 32, v[1]) for k, v in sums.items()}
    monkeypatch.setattr(fashion, 'FASHION_FILES', wrong)
    with pytest.raises(ChecksumError): fashion.fashion_folder(tmp_path/'other', download=True, progress=False)
    assert not any((tmp_path/'other'/'fashion-mnist').iterdir())                   # nothing half-written


have_real = all((fashion.DEBIAN_DIR/f).is_file() for f in fashion.FASHION_FILES)

@pytest.mark.skipif(not have_real, reason="Debian's dataset-fashion-mnist is not installed (CI installs it)")
def test_real_files():
    tr, te = get_dataset('fashion_mnist', 'train'), get_dataset('fashion_mnist', 'test', classes=['Dress', 'Bag'])
    assert tr.images.shape == (60000, 1, 32, 32) and np.bincount(tr.labels.numpy()).tolist() == [6000] * 10
    assert te.classes == ('Dress', 'Bag') and len(te) == 2000
    assert DATASETS['fashion_mnist'].classes[9] == 'Ankle boot'
