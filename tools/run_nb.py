#!/usr/bin/env python
"""Execute notebooks in place, storing their outputs, the way nbdev_test runs them.

Cells flagged with a test flag (`#| slow`) run only when the flag is given; skipped cells keep the outputs
they already have, so a committed slow result survives a refresh of the fast cells. `#| eval: false` never runs.
Usage: run_nb.py NOTEBOOK [NOTEBOOK ...] [--flags slow] [--match TEXT]  (--match: only the flagged cells holding TEXT)
"""
import argparse, os, re
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from fastcore.xtras import working_directory

FLAG = re.compile(r'^#\|\s*([\w-]+)(:\s*false)?', re.M)

def run(fn: Path, flags=(), match=None):
    nb = read_nb(fn)
    def skip(cell):
        if cell.cell_type != 'code': return True
        for name, false in FLAG.findall(cell.source):
            if name == 'eval' and false: return True
            if name == 'slow' and ('slow' not in flags or (match and match not in cell.source)): return True
        return False
    k = CaptureShell(fn)
    with working_directory(fn.parent): k.run_all(nb, exc_stop=True, preproc=skip)
    write_nb(nb, fn)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('notebooks', nargs='+')
    p.add_argument('--flags', nargs='*', default=[])
    p.add_argument('--match', default=None)
    a = p.parse_args()
    os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    for f in a.notebooks:
        run(Path(f).absolute(), a.flags, a.match); print(f'ran {f}')
