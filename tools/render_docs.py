#!/usr/bin/env python
"""Render the documentation site without Quarto, and README.md from nbs/index.ipynb.

nbdev's own processors (hidden cells, `show_doc` cards, directives) run through `nbdev.serve.proc_nbs`
into `_proc/`; nbconvert then writes one HTML page per notebook into `_site/`.  Users with Quarto get the
full site from the same notebooks with `nbdev_docs`.

Usage: render_docs.py [--readme]   (--readme also rewrites README.md)
"""
import re, shutil, sys
from pathlib import Path
from nbdev.config import get_config
from nbdev.serve import proc_nbs
from nbconvert import HTMLExporter, MarkdownExporter
import nbformat

def render(readme: bool = False) -> list:
    cfg = get_config()
    root = cfg.config_path
    cache = proc_nbs(cfg.nbs_path, n_workers=0, force=True)
    site = root/'_site'
    if site.exists(): shutil.rmtree(site)
    site.mkdir()
    pages = []
    html = HTMLExporter(template_name='lab')
    for nb_path in sorted(Path(cache).glob('*.ipynb')):
        nb = nbformat.read(nb_path, as_version=4)
        body, _ = html.from_notebook_node(nb)
        body = re.sub(r'href="([\w.-]+)\.ipynb', r'href="\1.html', body)
        out = site/f'{nb_path.stem}.html'
        out.write_text(body)
        pages.append(out)
    if readme: write_readme(Path(cache)/cfg.readme_nb, root/'README.md')
    print(f'{len(pages)} pages in {site}')
    return pages

def write_readme(index_nb: Path, dest: Path):
    "README.md = the processed landing notebook as GitHub markdown (text outputs kept, images dropped)."
    nb = nbformat.read(index_nb, as_version=4)
    md, _ = MarkdownExporter(exclude_raw=True).from_notebook_node(nb)
    md = re.sub(r'\n{3,}', '\n\n', md).strip() + '\n'
    dest.write_text('<!-- Generated from nbs/index.ipynb by tools/render_docs.py --readme; do not edit. -->\n\n' + md)

if __name__ == '__main__': render(readme='--readme' in sys.argv)
