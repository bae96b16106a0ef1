#!/usr/bin/env python
"""Write output-cleared copies of the notebooks for nbval.

Cells flagged `#| slow` (run only on demand) or `#| eval: false` get nbval's `# NBVAL_SKIP` marker,
so nbval runs exactly what `nbdev_test` runs.  Usage: nbval_copies.py SRC_DIR DST_DIR
"""
import json, re, shutil, sys
from pathlib import Path

SKIP = re.compile(r'^#\|\s*(slow\b|eval:\s*false)', re.M)

def copy_cleared(src: Path, dst: Path) -> int:
    nb = json.loads(src.read_text())
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        c['outputs'], c['execution_count'] = [], None
        text = ''.join(c['source'])
        if SKIP.search(text): c['source'] = ['# NBVAL_SKIP\n'] + text.splitlines(True)
    dst.write_text(json.dumps(nb, indent=1))
    return len(nb['cells'])

if __name__ == '__main__':
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    if dst.exists(): shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in sorted(src.glob('*.ipynb')):
        if f.name.startswith('_'): continue
        copy_cleared(f, dst/f.name)
    print(f'{len(list(dst.glob("*.ipynb")))} cleared notebooks in {dst}')
