"""Cache and output hygiene: a read-only cache that holds everything is used, an output folder of another preset is
refused, files follow the umask, stale temporary files of dead processes are removed, concurrent saves never collide."""
import json, os, stat, subprocess, sys, socket, threading, warnings
from pathlib import Path
import pytest, torch
from adv_kt.core import atomic_write
from adv_kt.train import cache_dir, TrainConfig, train_source, atomic_save
from adv_kt.reproduce import reproduce

def test_read_only_cache_that_holds_everything_is_used(tmp_path):
    cache = tmp_path/'cache'
    cfg = TrainConfig(epochs=1, progress=False, select='last')
    first = train_source('digits_uci', 'lenet', cfg=cfg, width=0.25, cache=cache)
    cache.chmod(0o555)
    try:
        if os.access(cache, os.W_OK): pytest.skip('running as root: a chmod cannot make the folder read-only')
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            again = train_source('digits_uci', 'lenet', cfg=cfg, width=0.25, cache=cache)
        assert again.cached and again.accuracy == first.accuracy and any('read-only' in str(x.message) for x in w)
    finally: cache.chmod(0o755)

def test_output_folder_of_another_preset_is_refused(tmp_path):
    out = tmp_path/'out'; out.mkdir()
    (out/'preset.json').write_text(json.dumps({'name': 'digits'}))
    with pytest.raises(ValueError, match='another preset'):
        reproduce('smoke', out, tmp_path/'cache', progress=False, parts=('knowledge_to_adv',))

def test_files_follow_the_umask(tmp_path):
    old = os.umask(0o002)
    try:
        atomic_write(tmp_path/'a.csv', lambda f: f.write('x'), binary=False)
        atomic_save({'w': torch.zeros(2)}, tmp_path/'b.pt')
    finally: os.umask(old)
    assert [stat.S_IMODE((tmp_path/n).stat().st_mode) for n in ('a.csv', 'b.pt')] == [0o664, 0o664]

def test_stale_temporary_files_of_dead_processes_are_removed(tmp_path):
    p = subprocess.Popen([sys.executable, '-c', 'pass']); p.wait()
    stale = tmp_path/f'.x.pt.{socket.gethostname()}-{p.pid}.abc.part'; stale.write_bytes(b'half')
    cache_dir(tmp_path)
    assert not stale.exists()

def test_concurrent_saves_never_collide(tmp_path):
    errors, target = [], tmp_path/'net.pt'
    def save(k):
        try:
            for i in range(50): atomic_save({'w': torch.full((100,), float(k))}, target)
        except Exception as e: errors.append(e)
    ts = [threading.Thread(target=save, args=(k,)) for k in range(4)]
    for t in ts: t.start()
    for t in ts: t.join()
    assert not errors and torch.load(target, weights_only=True)['w'].numel() == 100
    assert not list(tmp_path.glob('*.part'))
