"""The docs site as a reader sees it: `tools/docs.py` builds `_site/` with Sphinx (a no-op when fresh) and every
page opens in the system's Chromium, driven by Playwright, at a laptop's and a phone's width. Without Chromium
(`apt-get install chromium`, or CHROMIUM=/path) or Playwright (dev extra) the browser tests skip; under CI they fail.
"""
import functools, importlib.util, json, os, re, shutil, subprocess, sys, threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urldefrag, urlsplit
import pytest, yaml

ROOT = Path(__file__).resolve().parent.parent
SITE, SHOTS = ROOT/'_site', ROOT/'_site'/'_screenshots'
spec = importlib.util.spec_from_file_location('docs', ROOT/'tools'/'docs.py')
docs = importlib.util.module_from_spec(spec); spec.loader.exec_module(docs)
NOTEBOOKS = [p.name for p in docs.notebooks(ROOT/'nbs')]
LAPTOP, PHONE = dict(viewport={'width': 1280, 'height': 800}), dict(viewport={'width': 390, 'height': 844},
                                                                    is_mobile=True, has_touch=True)

@pytest.fixture(scope='module')
def site():
    "Build `_site` (a no-op when it is fresh) and return the build report."
    r = subprocess.run([sys.executable, docs.HERE, '--quiet'], capture_output=True, text=True, timeout=1200)
    assert (SITE/docs.STAMP).exists(), f'no build report:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return json.loads((SITE/docs.STAMP).read_text())

def test_every_notebook_builds(site):
    "nbdev processes every notebook (as under `nbdev_docs`), each makes a page; nbdev and Sphinx warn of nothing."
    assert not site['failures'], '\n'.join(['failed:', *[f'{k}: {v}' for k, v in site['failures'].items()],
                                            docs.HINT])
    assert sorted(site['pages']) == sorted(NOTEBOOKS) and site['pages']['index.ipynb'] == 'index.html'
    assert len(set(site['pages'].values())) == len(NOTEBOOKS), 'two notebooks map to one page'
    assert not site['warnings'], '\n'.join(site['warnings'])
    assert not site['notes'], f"nbdev's notes: {site['notes']}\n{docs.HINT}"

@functools.lru_cache(maxsize=None)
def _ids(page: str) -> frozenset: return frozenset(re.findall(r'\bid="([^"]+)"', (SITE/page).read_text()))

def test_api_cards(site):
    "Every public function and class of a module has its card, under the id nbdev's doc links (and Quarto) use."
    ns, missing = {}, []
    exec((ROOT/'adv_kt'/'_modidx.py').read_text(), ns)
    syms = [(q, url) for mod, s in ns['d']['syms'].items() for q, (url, _) in s.items()
            if '.' not in q[len(mod) + 1:] and not q[len(mod) + 1:].startswith('_')]
    missing = [f'{q} -> {u}' for q, u in syms if u.split('#')[1] not in _ids(u.split('#')[0])]
    assert len(syms) > 100 and not missing, f'{len(missing)} API cards missing:\n' + '\n'.join(missing)
    assert set(site['api']) >= {u for _, u in syms}, 'the API index lists every card'

def test_prepare():
    "Quarto's options become myst-nb's; progress bars go; links to notebooks and the docs become page links."
    from nbformat.v4 import new_notebook, new_markdown_cell as md, new_code_cell as code, new_output as out
    nb = new_notebook(cells=[md('## Defs\n<!-- search: alpha1, α1 -->\nSee [m](02_metrics.ipynb#defs) and '
                                '[`f`](https://x.io/d/metrics.html#f), [`g`](https://x.io/d/metrics.html#g).'),
        code('#| echo: false\n#| fig-cap: A *tent*\nplot()', outputs=[
            out('stream', name='stderr', text='100%|##########| 10/10 [00:00<00:00, 99.0it/s]\n'),
            out('display_data', data={'image/png': 'iVBO', 'text/plain': '<Figure>'})]),
        code('#| include: false\nsecret()'), code('#| output: false\nquiet()', outputs=[out('stream', text='x')]),
        code('show_doc(f)', outputs=[out('display_data', data={'text/markdown': '---\n\n### f\n\n*Does f.*'})])])
    nb = docs.prepare(nb, 'T', 'The summary.', {'02_metrics.ipynb': 'metrics.html'}, {'metrics.html': {'f'}},
                      'https://x.io/d')
    assert [c.source for c in nb.cells][::3] == ['# T\n\n> The summary.', 'quiet()'] and len(nb.cells) == 5
    assert nb.cells[4].cell_type == 'markdown' and nb.cells[4].source == '### f\n\n*Does f.*'   # a card: a section
    m, fig = nb.cells[1].source, nb.cells[2]
    assert m.startswith('```{index} !alpha1, !α1\n:name: defs\n```\n\n## Defs')
    assert '[m](metrics.html#defs)' in m and '[`f`](metrics.html#f)' in m and ', `g`.' in m
    assert fig.metadata == {'tags': ['remove-input'], 'mystnb': {'figure': {'caption': 'A *tent*'},
                                                                 'image': {'alt': 'A tent'}}}
    assert [o.output_type for o in fig.outputs] == ['display_data'] and nb.cells[3].outputs == []

def test_card_markdown():
    "show_doc's markdown as MyST: pandoc's id kept, dunders and stars literal, no NoneType or <factory>."
    md = docs.card_md('---\n\n[source](https://github.com/a/b/blob/main/adv_kt/m.py#L3){target="_blank"}\n\n'
                      '### Transferability.__repr__\n\n```python\ndef f(\n    cache:NoneType=None, info:dict=<factory>,'
                      ' n:list=<factory>, g=<factory>\n):\n```\n\n*The sums behind alpha1*alpha2 and `2*eps`.*')
    assert md.startswith('<div id="transferability.__repr__"></div>\n\n### Transferability.\\_\\_repr\\_\\_')
    assert 'cache=None, info:dict={}, n:list=[], g=...' in md and '{target' not in md
    assert md.endswith(r'*The sums behind alpha1\*alpha2 and `2*eps`.*' + '\n\n<small>[source]('
                       'https://github.com/a/b/blob/main/adv_kt/m.py#L3)</small>')

def test_command_cards_show_usage(site):
    "A command's card is its `--help` text, not a signature of `Param(...)`s."
    for page, cmd in (('selection.html', 'adv_kt_rank'), ('reproduce.html', 'adv_kt_reproduce')):
        text = (SITE/page).read_text()
        assert f'usage: {cmd}' in text and 'Param(' not in text, page

def test_math_to_mathml():
    assert '<msub>' in docs.tex2mathml(r'\alpha_1', False)
    assert '\u2016' in docs.tex2mathml(r'\Big\lVert x \Big\rVert_F', True)            # sized delimiters
    assert 'arg' in docs.tex2mathml(r'\arg\max_x f(x)', False)
    assert docs.tex2mathml(r'\notacommand x', False) is None                # left as TeX, never half-converted
    assert docs.pandoc_id('Attack.run') == 'attack.run' and docs.pandoc_id('The attack in') == 'the-attack-in'

def test_sidebar_yml_and_quarto_config():
    "Quarto users: `_quarto.yml` (root, symlinked from nbs/) reads nbdev.yml and the generated sidebar.yml."
    link, sb, q = ROOT/'nbs'/'_quarto.yml', ROOT/'nbs'/'sidebar.yml', yaml.safe_load(open(ROOT/'_quarto.yml'))
    assert link.is_symlink() and link.resolve() == (ROOT/'_quarto.yml').resolve()
    assert q['project']['type'] == 'website' and set(q['metadata-files']) == {'nbdev.yml', 'sidebar.yml'}
    assert (ROOT/'nbs'/q['format']['html']['css']).exists()
    assert sb.read_text() == docs.sidebar_yml(NOTEBOOKS), 'nbs/sidebar.yml is stale: tools/docs.py --readme'
    assert docs.reading_order(['91_x.ipynb', 'index.ipynb', '02_m.ipynb', '00_t.ipynb', 'guide_a.ipynb',
                               '10_e.ipynb', 'notes.ipynb']) == [
        (None, ['index.ipynb']), ('Guides', ['guide_a.ipynb']), ('Theory', ['00_t.ipynb']),
        ('Library', ['02_m.ipynb']), ('Experiments', ['10_e.ipynb']), ('Tooling', ['91_x.ipynb']),
        ('More', ['notes.ipynb'])]

def test_nbdev_quarto_config(tmp_path, monkeypatch):
    "What `nbdev_docs` does before Quarto: nbs/nbdev.yml from settings.ini, our _quarto.yml and sidebar kept."
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.config import get_config
    for f in ('settings.ini', '_quarto.yml'): shutil.copy(ROOT/f, tmp_path)
    (tmp_path/'nbs').mkdir(); os.symlink('../_quarto.yml', tmp_path/'nbs'/'_quarto.yml')
    (tmp_path/'nbs'/'sidebar.yml').write_text(docs.sidebar_yml(NOTEBOOKS))
    for n in NOTEBOOKS: shutil.copy(ROOT/'nbs'/n, tmp_path/'nbs'/n)
    monkeypatch.chdir(tmp_path); get_config.cache_clear()      # nbdev caches the config of the real repo
    try: refresh_quarto_yml(); nbdev_sidebar.__wrapped__()
    finally: get_config.cache_clear()
    assert (tmp_path/'_quarto.yml').read_text() == (ROOT/'_quarto.yml').read_text()
    assert (tmp_path/'nbs'/'sidebar.yml').read_text() == docs.sidebar_yml(NOTEBOOKS), 'custom_sidebar: ours'
    ny, cfg = yaml.safe_load((tmp_path/'nbs'/'nbdev.yml').read_text()), docs._cfg()
    assert ny['project']['output-dir'] == '_docs' and ny['website']['repo-url'] == cfg.git_url

def test_readme_up_to_date(site):
    "README.md is nbs/index.ipynb as GitHub markdown: deterministic, no local paths, no progress bars."
    text, figs = docs.readme_text(docs.read_nb(docs.PROC/'index.ipynb'), set(NOTEBOOKS))
    readme = (ROOT/'README.md').read_text()
    assert readme == text, 'README.md is out of date: run python tools/docs.py --readme'
    assert '```python' in readme and '/tmp/' not in readme and 'it/s]' not in readme and '{index}' not in readme
    for link in re.findall(r'\]\(([^)\s]+)\)', readme):
        link = link.split('#')[0]
        assert re.match(r'\w+:', link) or (ROOT/unquote(link)).exists(), f'README links to missing {link}'

# The browser

FACTS = """async () => {
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  const q = s => [...document.querySelectorAll(s)], de = document.documentElement;
  return {h1: q('h1')[0]?.textContent.replace('#', '').trim(), links: q('a[href]').map(a => a.href),
    ids: q('[id]').map(e => e.id), overflowX: de.scrollWidth - de.clientWidth,
    images: q('article img').map(i => ({src: i.getAttribute('src'), ok: i.complete && !!i.naturalWidth,
      alt: i.alt, full: i.closest('a')?.getAttribute('href') ?? ''})),
    math: q('article math').filter(m => m.getBoundingClientRect().width > 0).length, mathAll: q('article math').length,
    tex: q('code.math-tex').map(c => c.textContent.slice(0, 60)), nav: q('.bd-sidebar-primary a.reference').length};
}"""

class Quiet(SimpleHTTPRequestHandler): log_message = lambda *a: None

class Visitor:
    "Opens pages of `_site` served on 127.0.0.1 and records what the browser reports (errors, requests)."
    def __init__(self, browser, **context):
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=SITE))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base, self.seen, self.errors = f'http://127.0.0.1:{self.httpd.server_address[1]}/', {}, []
        self.ctx = browser.new_context(**{**LAPTOP, **context}); self.page = self.ctx.new_page()
        own, err = (lambda u: u.startswith((self.base, 'data:'))), (lambda m: self.errors.append(m))
        self.page.on('pageerror', lambda e: err(f'JS exception: {e}'))
        self.page.on('console', lambda m: m.type == 'error' and err(f"console: {m.text} ({m.location.get('url')})"))
        self.page.on('request', lambda r: own(r.url) or err(f'fetched off the site (docs work offline): {r.url}'))
        self.page.on('response', lambda r: r.status > 399 and err(f'HTTP {r.status}: {r.url}'))

    def visit(self, page: str) -> dict:
        if page not in self.seen:
            self.errors = []; self.page.goto(self.base + page, wait_until='load')
            self.seen[page] = dict(self.page.evaluate(FACTS), errors=self.errors)
        return self.seen[page]

    def close(self): self.ctx.close(); self.httpd.shutdown(); self.httpd.server_close()

@pytest.fixture(scope='module')
def browser(site):
    exe = os.environ.get('CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')
    try: from playwright.sync_api import sync_playwright
    except ImportError: exe = None
    if not exe:
        msg = 'no Chromium or no Playwright (apt-get install chromium; pip install -e .[dev]): no browser'
        if os.environ.get('CI'): pytest.fail(msg + ' -- under CI, .ci/run installs them')
        pytest.skip(msg)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=['--no-sandbox', '--disable-gpu'])
        yield b
        b.close()

@pytest.fixture(scope='module')
def laptop(browser): v = Visitor(browser); yield v; v.close()

@pytest.fixture(scope='module')
def phone(browser): v = Visitor(browser, **PHONE); yield v; v.close()

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_page_in_browser(site, laptop, phone, nb):
    "A page at 1280 px and at 390 px: no error, nothing fetched off the site, every link and anchor resolves."
    page = site['pages'][nb]; f = laptop.visit(page)
    problems = f['errors'] + [f"image not shown: {i['src'][:80]}" for i in f['images'] if not i['ok']]
    problems += [f"image without alt text or full-size link: {i['src'][:80]}" for i in f['images']
                 if not i['alt'].strip() or i['full'] != i['src']]
    problems += [f'formula left as TeX: {t!r}' for t in f['tex']]
    problems += [msg for ok, msg in [(f['h1'], 'no h1'), (f['nav'] == len(NOTEBOOKS), 'sidebar lacks pages'),
                                     (f['math'] == f['mathAll'], 'a formula takes no space'),
                                     (f['overflowX'] <= 0, f"scrolls sideways by {f['overflowX']}px at 1280")] if not ok]
    for link in sorted(set(f['links'])):
        if not link.startswith(laptop.base): continue                     # other sites: not ours to check
        url, frag = urldefrag(link); target = unquote(urlsplit(url).path)[1:] or 'index.html'
        if not (SITE/target).is_file(): problems.append(f'broken link: {link}')
        elif frag and target.endswith('.html') and unquote(frag) not in _ids(target):
            problems.append(f'broken anchor: {link[len(laptop.base):]}')
    p = phone.visit(page)
    problems += [f"scrolls sideways by {p['overflowX']}px on a 390 px phone"] * (p['overflowX'] > 0) + p['errors']
    if nb == 'index.ipynb':
        for v, name in ((laptop, 'index'), (phone, 'index-phone')):
            SHOTS.mkdir(exist_ok=True); v.page.screenshot(path=SHOTS/f'{name}.png')
    assert not problems, f'{page} ({nb}):\n  ' + '\n  '.join(problems)

SEARCHES = [('alpha1', 'metrics.html#definitions'), ('alpha2', 'metrics.html#definitions'),
            ('α1', 'metrics.html#definitions'), ('alpha 2', 'metrics.html#definitions'),
            ('install', 'guide_install.html'), ('adv_kt_rank', 'selection.html'), ('LogME', 'estimators.html'),
            ('PGD', 'attacks.html'), ('Ray', 'scale.html'), ('GPU', 'scale.html#running-the-paper-on-a-gpu')]

@pytest.mark.parametrize('query,first', SEARCHES)
def test_search(site, laptop, query, first):
    "The search results page lists the expected page (and section) first."
    pg = laptop.page; laptop.seen.clear(); pg.goto(laptop.base + 'search.html?q=' + quote(query))
    pg.wait_for_selector('#search-results ul.search li a', timeout=15_000)
    hits = pg.eval_on_selector_all('#search-results ul.search li a', 'as => as.map(a => a.getAttribute("href"))')
    assert hits[0] == first, f'{query!r}: {hits[:5]}'
    if query == 'install':                                          # stemmed: the same pages as 'installing'
        pg.goto(laptop.base + 'search.html?q=installing'); pg.wait_for_selector('#search-results ul.search li a')
        assert pg.eval_on_selector_all('#search-results ul.search li a', 'as => as.map(a => a.href)')[0].endswith(first)

def test_anchor_below_header(site, laptop):
    "A link to a heading shows the heading below the sticky header, and the contents are there at 1280 px."
    pg = laptop.page; laptop.seen.clear(); pg.goto(laptop.base + 'selection.html#adv_kt_rank')
    pg.wait_for_timeout(300)
    top = pg.evaluate("document.getElementById('adv-kt-rank').getBoundingClientRect().top")   # the card's name
    header = pg.evaluate("document.querySelector('.bd-header')?.getBoundingClientRect().bottom ?? 0")
    assert header <= top < 400, (header, top)
    assert pg.locator('.bd-sidebar-secondary nav.page-toc').is_visible(), 'no contents at 1280 px'

def test_phone_contents_and_menu(site, phone):
    "On a phone the contents and the site navigation each open from a button at the top; Esc closes them."
    pg = phone.page; phone.seen.clear(); pg.goto(phone.base + 'selection.html')
    pg.keyboard.press('Tab')
    assert pg.evaluate('document.activeElement.textContent').strip() == 'Skip to main content'
    pg.goto(phone.base + 'selection.html')
    opened = "id => document.getElementById(id).open"
    for button, dialog, link in (('secondary', 'pst-secondary-sidebar-modal', 'nav.page-toc a'),
                                 ('primary', 'pst-primary-sidebar-modal', 'a.reference')):
        pg.locator(f'button.{button}-toggle:visible').first.click(); pg.wait_for_timeout(400)
        assert pg.evaluate(opened, dialog) and pg.locator(f'#{dialog} {link}').first.is_visible(), button
        pg.keyboard.press('Escape'); pg.wait_for_timeout(200)
        assert not pg.evaluate(opened, dialog), f'Esc leaves the {button} sidebar open'

def test_dark_mode(site, browser):
    "With the system in dark mode: dark page, light text."
    v = Visitor(browser, color_scheme='dark')
    try: v.visit('adv_to_knowledge.html'); mode = v.page.evaluate('document.documentElement.dataset.theme')
    finally: v.close()
    assert mode == 'dark'

def test_paper_table_fits_a_laptop(site, laptop):
    "The comparison with the paper's Table 1 shows every column at 1280 px, no sideways scrolling."
    laptop.visit('adv_to_knowledge.html')
    w = laptop.page.evaluate("(t => [t.scrollWidth, t.clientWidth, t.innerText])("
                             "document.querySelector('#the-table-next-to-the-paper-s-table-1 table'))")
    assert 'paper: α1' in w[2] and w[0] <= w[1], w[:2]

def test_figure_text_at_display_size():
    "Figures are drawn at most 7.8 in wide, the article's width at 1280 px, so text at >= 9 pt shows at >= 9 pt."
    code = [c.source for p in sorted((ROOT/'nbs').glob('[0-9]*.ipynb')) for c in docs.read_nb(p).cells
            if c.cell_type == 'code'] + [p.read_text() for p in sorted((ROOT/'adv_kt').glob('*.py'))]
    small = [m for s in code for m in re.findall(r'fontsize=([\d.]+)', s) if float(m) < 9]
    wide = [m for s in code for m in re.findall(r'figsize=\(([\d.]+),', s) if float(m) > 7.8]
    assert not small and not wide, (small, wide)

def test_code_at_page_width():
    "STYLE.md: notebook code lines within 110 characters (the pages' width), export cells within 40 lines."
    cells = [(p.name, i, c.source) for p in sorted((ROOT/'nbs').glob('*.ipynb'))
             for i, c in enumerate(docs.read_nb(p).cells) if c.cell_type == 'code']
    wide = [f'{n} cell {i}: {len(l)}' for n, i, s in cells for l in s.splitlines() if len(l) > 110]
    long = [f'{n} cell {i}: {len(s.splitlines())} lines' for n, i, s in cells
            if s.startswith('#| export') and len(s.splitlines()) > 40]
    assert not wide and not long, wide + long
