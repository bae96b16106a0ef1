"""Fault injection over the whole pipeline (smoke preset, experiment 2): kill runs at random moments and damage random
cache files (truncate, overwrite 16 bytes inside, malformed JSON, delete); after every fault a rerun must finish and
write tables byte-identical to an undisturbed run's, and a damaged file must be named in a warning."""
import random, signal, subprocess, sys, time
from pathlib import Path

ARGS = ['--preset', 'smoke', '--only', 'knowledge_to_adv', '--no-progress']

def _cmd(out, cache):
    return [sys.executable, '-c', 'from adv_kt.reproduce import cli; cli()', *ARGS, '--out', str(out), '--cache', str(cache)]

def _run(out, cache):
    p = subprocess.run(_cmd(out, cache), capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-2000:]
    return (Path(out)/'knowledge_to_adv.csv').read_bytes(), p.stderr

def _files(cache):
    return sorted(p for p in Path(cache).rglob('*') if p.is_file() and p.suffix in ('.pt', '.json'))

def _damage(f:Path, kind:str, rng):
    b = f.read_bytes()
    if kind == 'truncate': f.write_bytes(b[:rng.randrange(len(b))])
    elif kind == 'overwrite':
        pos = rng.randrange(len(b) // 4, 3 * len(b) // 4)
        f.write_bytes(b[:pos] + b'GARBAGEGARBAGE!!' + b[pos + 16:])
    elif kind == 'malformed': f.write_text(rng.choice(['null', '[1, 2]', '{"key": 1}', '{"result": "oops"}', '{']))
    elif kind == 'delete': f.unlink()

def test_faults_never_change_the_tables(tmp_path):
    rng = random.Random(0)
    cache = tmp_path/'cache'
    reference, _ = _run(tmp_path/'ref', cache)
    faults = ['kill', 'overwrite', 'truncate', 'malformed', 'delete', 'kill', 'overwrite', 'truncate', 'malformed', 'kill']
    survived = []
    for i, kind in enumerate(faults):
        out = tmp_path/f'out{i}'
        if kind == 'kill':                      # give the run work to do, then kill it at a random moment
            for f in rng.sample(_files(cache), 3): f.unlink()
            p = subprocess.Popen(_cmd(out, cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(2, 10)); p.send_signal(signal.SIGKILL); p.wait()
            damaged = None
        else:
            pool = [f for f in _files(cache) if kind != 'malformed' or f.suffix == '.json']
            damaged = rng.choice(pool); _damage(damaged, kind, rng)
        tables, err = _run(out, cache)
        assert tables == reference, f"fault {i} ({kind}) changed the tables"
        if damaged is not None and kind != 'delete':
            assert damaged.name in err and 'ignoring unusable' in err, (kind, damaged.name, err[-1500:])
        survived.append(kind)
    assert not list(cache.rglob('*.part'))
    print(f"survived {len(survived)} faults: {survived}")
    assert len(survived) == len(faults)
