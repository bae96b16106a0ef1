"""The docs site as a visitor sees it: `tools/render_docs.py` renders `_site/` (a no-op when fresh) and
every page opens in the system's Chromium, driven by Playwright (screenshots in `_site/_screenshots/`).
Without Chromium (`apt-get install chromium`, or CHROMIUM=/path) or Playwright (dev extra) the browser tests
skip; under CI they fail.
"""
import ast, base64, functools, importlib.util, json, os, re, shutil, subprocess, sys, threading, time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit
import pytest, yaml

ROOT = Path(__file__).resolve().parent.parent
SITE, SHOTS, VIEWPORT = ROOT/'_site', ROOT/'_site'/'_screenshots', {'width': 1280, 'height': 800}
spec = importlib.util.spec_from_file_location('render_docs', ROOT/'tools'/'render_docs.py')
rd = importlib.util.module_from_spec(spec); spec.loader.exec_module(rd)
NOTEBOOKS = [p.name for p in rd.notebooks(ROOT/'nbs')]

@pytest.fixture(scope='module')
def site():
    "Render `_site` (a no-op when it is fresh) and return the render report."
    t0 = time.time()
    r = subprocess.run([sys.executable, rd.HERE], capture_output=True, text=True, timeout=900)
    assert (SITE/rd.STAMP).exists(), f'no render report:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return {**json.loads((SITE/rd.STAMP).read_text()), '_secs': time.time() - t0}

def test_every_notebook_renders(site):
    "nbdev's processors run on every notebook (they do the same under `nbdev_docs`) and each makes a page."
    assert not site['failures'], '\n'.join(['nbdev could not process:', *[f'{k}: {v}' for k, v in
                                                                         site['failures'].items()], rd.HINT])
    assert sorted(site['pages']) == sorted(NOTEBOOKS) and site['pages']['index.ipynb'] == 'index.html'
    assert len(set(site['pages'].values())) == len(site['pages']), 'two notebooks map to one page'

@functools.lru_cache(maxsize=None)
def _card_ids(page: Path) -> frozenset:
    "The ids inside API cards (the cells nbconvert's template marks `celltag_doc-card`)."
    from bs4 import BeautifulSoup
    cards = BeautifulSoup(page.read_text(), 'html.parser').select('div.celltag_doc-card')
    return frozenset(e['id'] for c in cards for e in c.select('[id]'))

def test_api_cards(site):
    "Every public function and class of a module has its `show_doc` card, holding nbdev's doc-link anchor."
    ns, missing, checked = {}, [], 0
    exec((ROOT/'adv_kt'/'_modidx.py').read_text(), ns)
    pages = {p for nb, p in site['pages'].items() if nb not in site['failures']}
    for mod, syms in ns['d']['syms'].items():
        for qual, (url, _) in syms.items():
            (page, anchor), name = url.split('#'), qual[len(mod) + 1:]
            if '.' in name or name.startswith('_') or page not in pages: continue   # methods: cards on demand
            checked += 1
            if anchor not in _card_ids(SITE/page): missing.append(f'{qual} -> {url}')
    assert checked > 0, 'no exported function found in adv_kt/_modidx.py'
    assert not missing, f'{len(missing)} API cards missing:\n' + '\n'.join(missing)

def test_sidebar_yml_and_quarto_config():
    "Quarto users: `_quarto.yml` (root, symlinked from nbs/) reads nbdev.yml and the generated sidebar.yml."
    link, sb, q = ROOT/'nbs'/'_quarto.yml', ROOT/'nbs'/'sidebar.yml', yaml.safe_load(open(ROOT/'_quarto.yml'))
    assert link.is_symlink() and link.resolve() == (ROOT/'_quarto.yml').resolve()
    assert q['project']['type'] == 'website' and set(q['metadata-files']) == {'nbdev.yml', 'sidebar.yml'}
    assert (ROOT/'nbs'/q['format']['html']['css']).exists()
    assert sb.read_text() == rd.sidebar_yml(NOTEBOOKS), 'nbs/sidebar.yml is stale: render_docs.py --readme'
    items = yaml.safe_load(sb.read_text())['website']['sidebar']['contents']
    listed = [i['href'] for i in items if 'href' in i] + [n for i in items for n in i.get('contents', [])]
    assert sorted(listed) == sorted(NOTEBOOKS)
    secs = [i['section'] for i in items if 'section' in i]
    assert secs == sorted(secs, key=[rd.GUIDES, *[s for s, *_ in rd.SECTIONS], rd.OTHER].index)

def test_reading_order():
    names = ['91_x.ipynb', '10_adv_to_knowledge.ipynb', 'index.ipynb', '02_metrics.ipynb', '00_theory.ipynb',
             '03a_extra.ipynb', '03_data.ipynb', '90_benchmark.ipynb', 'notes.ipynb']
    assert rd.reading_order(names) == [
        (None, ['index.ipynb']), ('Theory', ['00_theory.ipynb']),
        ('Library', ['02_metrics.ipynb', '03_data.ipynb', '03a_extra.ipynb']),
        ('Experiments', ['10_adv_to_knowledge.ipynb']), ('Tooling', ['90_benchmark.ipynb', '91_x.ipynb']),
        ('More', ['notes.ipynb'])]

def test_readme_up_to_date(site):
    "README.md is nbs/index.ipynb as GitHub markdown: deterministic, python fences, no local paths, no noise."
    text, figs = rd.readme_text(rd.read_nb(ROOT/'_proc'/'index.ipynb'), set(NOTEBOOKS))
    readme = (ROOT/'README.md').read_text()
    assert readme == text, 'README.md is out of date: run python tools/render_docs.py --readme'
    for rel, data in figs.items(): assert (ROOT/rel).read_bytes() == data, f'{rel} is out of date'
    fences = re.findall(r'^```(\S*)', readme, flags=re.M)[::2]
    assert fences and all(fences), 'every fenced block names its language'
    for s in (str(ROOT), '/home/', '/tmp/', 'it/s]', 'Warning:', 'WARNING: THIS FILE'): assert s not in readme
    for link in re.findall(r'\]\(([^)#\s]+)', readme):
        assert re.match(r'\w+:', link) or (ROOT/unquote(link)).exists(), f'README links to missing {link}'

def test_math_to_mathml():
    assert '<msub>' in rd.tex2mathml(r'\alpha_1', False)
    assert '\u2016' in rd.tex2mathml(r'\Big\lVert x \Big\rVert_F', True)           # sized delimiters
    assert 'arg' in rd.tex2mathml(r'\arg\max_x f(x)', False)
    assert rd.tex2mathml(r'\notacommand x', False) is None                 # left as TeX, never half-converted
    assert rd.pandoc_id('Attack.run') == 'attack.run' and rd.pandoc_id('The attack in') == 'the-attack-in'

# The browser

PAGE_FACTS = """async () => {
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  const de = document.documentElement, q = s => [...document.querySelectorAll(s)], one = s => q(s)[0];
  return {title: document.title, description: one('meta[name=description]')?.content ?? null,
    h1: one('h1')?.textContent.trim() ?? null, text: document.body.innerText,
    current: one('nav.sidebar a[aria-current=page]')?.getAttribute('href') ?? null,
    images: [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && !!i.naturalWidth,
                                           alt: i.alt})),
    inlineCss: q('style').length, sheets: q('link[rel=stylesheet]').map(l => l.getAttribute('href')),
    currentInView: (a => a && (r => r.top >= 0 && r.bottom <= innerHeight)(a.getBoundingClientRect()))(
      one('nav.sidebar a[aria-current=page]')),
    badSigs: q('.celltag_doc-card pre').map(p => p.innerText).filter(t => /<factory>|NoneType/.test(t)),
    badCards: q('.celltag_doc-card .jp-OutputArea-output').filter(c => c.querySelector(':is(h2, h3, h4) :is(em, strong)')
      || (p => p?.firstElementChild?.tagName === 'EM' && p.innerText.trim() !== p.firstElementChild.innerText.trim())(
           [...c.querySelectorAll(':scope > p')].pop())).map(c => c.innerText.slice(0, 80)),
    clippedMath: q('.math.display').filter(m => m.scrollHeight > m.clientHeight + 1)
      .map(m => m.textContent.slice(0, 40)),
    brokenValues: q('.nw').filter(s => s.getClientRects().length > 1).map(s => s.textContent),
    codeScrolls: q('.jp-InputArea-editor pre').filter(p => p.scrollWidth > p.clientWidth
      && Math.max(...p.textContent.split('\\n').map(l => l.length)) <= 110).map(p => p.textContent.slice(0, 50)),
    links: q('a[href]').map(a => a.href), ids: q('[id]').map(e => e.id).concat(q('a[name]').map(a => a.name)),
    sidebar: q('nav.sidebar a').map(a => a.getAttribute('href')), mathAll: q('math').length,
    math: q('math').filter(m => m.getBoundingClientRect().width > 0).length,
    cells: q('.jp-CodeCell').map(c => ({id: c.id.replace('cell-id=', ''),
      src: c.querySelector('.jp-InputArea-editor')?.innerText ?? '',
      figs: c.querySelectorAll('.jp-OutputArea :is(img, svg)').length})),
    overflowX: de.scrollWidth - de.clientWidth, height: de.scrollHeight};
}"""
PLOT = re.compile(r'\bplt\.(figure|subplots?|show)\(|\bplot_\w+\(|\.(plot|imshow|matshow|scatter|hist|'
                  r'barh?|errorbar|contourf?|pcolormesh|fill_between|boxplot|loglog|semilog[xy])\(')

def plots(src: str) -> bool:
    "Does a cell draw a figure for the reader: a plotting call outside any def or class, and no `plt.close(`?"
    try: src = '\n'.join(ast.unparse(n) for n in ast.parse(src).body if not isinstance(n, (ast.FunctionDef,
                                                                                           ast.ClassDef)))
    except SyntaxError: pass                                                     # magics: the whole source
    return bool(PLOT.search(src)) and 'plt.close(' not in src

class Quiet(SimpleHTTPRequestHandler): log_message = lambda *a: None

class Visitor:
    "Opens pages of a site folder served on 127.0.0.1 and records what a visitor's browser reports."
    def __init__(self, browser, root: Path = SITE, **context):
        self.root, self.seen = root, {}
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=root))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f'http://127.0.0.1:{self.httpd.server_address[1]}/'
        self.ctx = browser.new_context(**{'viewport': VIEWPORT, **context})
        self.page, own, err = self.ctx.new_page(), lambda u: u.startswith((self.base, 'data:')), self._err
        self.page.on('pageerror', lambda e: err(f'JS exception: {e}'))
        self.page.on('console', lambda m: m.type in ('error', 'assert') and own(m.location.get('url') or
                     self.base) and err(f"console: {m.text} {m.location.get('url', '')}"))  # else: request
        self.page.on('request', lambda r: own(r.url) or self.external.add(r.url))
        self.page.on('requestfailed', lambda r: own(r.url) and err(f'request failed: {r.url} ({r.failure})'))
        self.page.on('response', lambda r: r.status > 399 and own(r.url) and err(f'HTTP {r.status}: {r.url}'))

    def _err(self, msg: str): self.errors.append(msg)

    def visit(self, page: str) -> dict:
        if page not in self.seen:
            self.errors, self.external = [], set()
            self.page.goto(self.base + page, wait_until='load')
            self.seen[page] = dict(self.page.evaluate(PAGE_FACTS), errors=self.errors, external=self.external)
        return self.seen[page]

    def screenshot(self, page: str, dest: Path, full: bool = False):
        if self.page.url != self.base + page: self.seen.pop(page, None); self.visit(page)
        dest.parent.mkdir(parents=True, exist_ok=True); self.page.screenshot(path=dest, full_page=full)

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
        b = p.chromium.launch(executable_path=exe, args=['--no-sandbox', '--disable-gpu'],
                              ignore_default_args=['--hide-scrollbars'])
        yield b
        b.close()

@pytest.fixture(scope='module')
def visitor(browser):
    v = Visitor(browser); yield v; v.close()

def page_problems(v: Visitor, rep: dict, nb: str) -> list:
    "What is wrong with notebook `nb`'s page, as a visitor's browser shows it."
    page, meta = rep['pages'][nb], rep['meta'][nb]
    f = v.visit(page)
    problems = f['errors'] + [f'fetched from off the site (docs work offline): {u}' for u in f['external']]
    problems += [f"image not shown: {i['src'][:120]}" for i in f['images'] if not i['ok']]
    problems += [f"image without alt text: {i['src'][:120]}" for i in f['images'] if not i['alt'].strip()
                 or i['alt'].startswith('No description')]
    problems += [f'wrong in API card: {c!r}' for c in f['badCards'] + f['badSigs']]
    problems += [f'display math clipped: {m!r}' for m in f['clippedMath']]
    problems += [f'table value broken across lines: {v!r}' for v in f['brokenValues']]
    problems += [f'code of <= 110 characters scrolls sideways: {c!r}' for c in f['codeScrolls']]
    problems += [f"cell {c['id']} plots ({c['src'].strip().splitlines()[0][:60]!r}) but shows no figure: "
                 'run the notebook, save its outputs' for c in f['cells'] if plots(c['src']) > c['figs']]
    checks = [(f['h1'] == meta['title'], f"h1 {f['h1']!r} is not the front matter title {meta['title']!r}"),
              (meta['title'] in f['title'], f"<title> {f['title']!r} lacks {meta['title']!r}"),
              (f['description'] == meta['description'], f"meta description {f['description']!r} out of sync"),
              (meta['description'], 'no description: give the notebook a `> summary` line under its H1'),
              (nb not in rep.get('cut_descriptions', {}), 'description cut at a line break: one line please'),
              (f['sidebar'] == rep['order'], f"sidebar {f['sidebar']} not in reading order {rep['order']}"),
              (f['current'] == page, f'sidebar does not mark {page} as the current page'),
              (f['currentInView'], "the current page's sidebar entry is not in view"),
              (f['inlineCss'] == 0 and f['sheets'] == [rd.SHARED_CSS, 'styles.css'], 'not the shared stylesheets'),
              (f['math'] == f['mathAll'], f"{f['mathAll'] - f['math']} formulas take no space (MathML)"),
              (f['overflowX'] <= 0, f"page scrolls sideways by {f['overflowX']}px at {VIEWPORT['width']}px")]
    problems += [msg for ok, msg in checks if not ok]
    for link in sorted(set(f['links'])):
        if not link.startswith(v.base): continue                          # other sites: not ours to check
        url, frag = urldefrag(link)
        target, rel = unquote(urlsplit(url).path)[1:] or 'index.html', link[len(v.base):]
        if not (v.root/target).is_file(): problems.append(f'broken link: {rel}')
        elif target.endswith('.html') and target not in rep['order']:
            problems.append(f'link to a page outside the site: {target}')
        elif frag and target.endswith('.html') and unquote(frag) not in v.visit(target)['ids']:
            problems.append(f'broken anchor: {rel}')
    return problems

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_page_in_browser(site, visitor, nb):
    "One page as a visitor's browser sees it; its screenshot goes to _site/_screenshots/."
    if nb not in site['pages']: pytest.fail(f'{nb} did not render: {site["failures"].get(nb)}')
    problems, page = page_problems(visitor, site, nb), site['pages'][nb]
    visitor.screenshot(page, SHOTS/f'{Path(page).stem}.png')
    assert not problems, f'{page} ({nb}):\n  ' + '\n  '.join(problems)

def test_landing_page_screenshot(site, visitor, browser):
    "The landing page as a visitor first sees it (and whole), saved; on a phone, nothing wider than it."
    phone = Visitor(browser, viewport=dict(width=390, height=844), is_mobile=True)
    f = visitor.visit('index.html')
    for v, name, full in ((visitor, '', False), (visitor, '-full', True), (phone, '-phone', False)):
        v.screenshot('index.html', SHOTS/f'index{name}.png', full)
    overflow = phone.visit('index.html')['overflowX']; phone.close()
    assert overflow <= 0, f'the landing page scrolls sideways by {overflow}px on a 390px screen'
    png = (SHOTS/'index.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and int.from_bytes(png[16:20], 'big') == VIEWPORT['width']
    assert f['height'] > VIEWPORT['height'] / 2 and f['h1'] and f['sidebar']
    print(f"\nscreenshots in {SHOTS}/; render {site['seconds']}s (this run {site['_secs']:.0f}s)")

def test_search_finds_cards_and_headings(site, visitor):
    "Typing a name into the search box lists its card first; Enter opens it. Nothing is fetched off the site."
    ns = {}; exec((ROOT/'adv_kt'/'_modidx.py').read_text(), ns)
    url, _ = ns['d']['syms']['adv_kt.attacks']['adv_kt.attacks.official_fgsm']
    want, pg = url.split('/')[-1], visitor.page
    cases = [('official_fg', want), ('Transferability.as_conv', 'metrics.html#transferability.as_convention'),
             ('ceiling alpha2', 'alpha2.html#a-ceiling-for-alpha2')]
    visitor.visit('theory.html')
    for typed, first in cases:
        pg.fill('#search', ''); pg.click('#search'); pg.keyboard.type(typed)
        pg.wait_for_selector('#search-results a')
        hits = pg.eval_on_selector_all('#search-results a', 'as => as.map(a => a.getAttribute("href"))')
        assert hits[0] == first, f'{typed!r}: {hits}'
    pg.keyboard.press('Enter'); pg.wait_for_url('**/alpha2.html#a-ceiling-for-alpha2')
    assert not visitor.external and not visitor.errors, (visitor.external, visitor.errors)
    visitor.seen.clear()

def test_api_index(site, visitor):
    "The API index lists every public name with a card, each linked to it."
    f, ns = visitor.visit(rd.API_PAGE), {}
    exec((ROOT/'adv_kt'/'_modidx.py').read_text(), ns)
    want = {url.split('/')[-1] for mod, syms in ns['d']['syms'].items() for qual, (url, _) in syms.items()
            if not qual[len(mod) + 1:].startswith('_') and url.split('/')[-1].split('#')[0] in site['order']
            and url.split('#')[1] in _card_ids(SITE/url.split('/')[-1].split('#')[0])}
    links = {u[len(visitor.base):] for u in f['links']}
    assert want and not want - links, sorted(want - links)
    assert f['current'] == rd.API_PAGE and f['h1'] == rd.API_TITLE and not f['errors'] and not f['external']

MENU = """async () => {
  const s = document.querySelector('nav.sidebar'), blocked = [];
  for (const a of s.querySelectorAll('a')) {
    a.scrollIntoView({block: 'nearest'}); const r = a.getBoundingClientRect();
    if (!a.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2))) blocked.push(a.href);
  }
  return {blocked, scrollY, hrefs: [...s.querySelectorAll('a')].map(a => a.getAttribute('href'))};
}"""

def test_phone_menu(site, browser):
    "At 390 px every page is reachable from every page through the menu, without scrolling the page."
    v = Visitor(browser, viewport=dict(width=390, height=844), is_mobile=True, has_touch=True)
    try:
        for page in site['order']:
            v.page.goto(v.base + page); btn = v.page.locator('.menu-toggle')
            assert btn.is_visible() and btn.bounding_box()['y'] < 60, page
            btn.click(); r = v.page.evaluate(MENU)
            assert r['hrefs'] == site['order'] and not r['blocked'] and r['scrollY'] == 0, (page, r)
        v.screenshot(site['order'][-1], SHOTS/'menu-phone.png')
    finally: v.close()

PRINTED = """() => {
  const q = s => [...document.querySelectorAll(s)], main = document.querySelector('main').getBoundingClientRect();
  return {chrome: q('.navbar, .sidebar, .toc, .pager').filter(e => getComputedStyle(e).display !== 'none').length,
    cut: q('main :is(table, pre, img)').filter(e => e.offsetParent && (e.scrollWidth > e.clientWidth + 1
      || e.getBoundingClientRect().right > main.right + 1)).map(e => e.tagName + ' ' + e.textContent.slice(0, 40))};
}"""

def test_print(site, browser):
    "Printed (A4 width): no header, sidebar or pager; no code, table or figure cut at the right edge."
    v, bad = Visitor(browser, viewport=dict(width=700, height=1000)), {}
    try:
        v.page.emulate_media(media='print')
        for page in site['order']:
            v.page.goto(v.base + page); r = v.page.evaluate(PRINTED)
            if r['chrome'] or r['cut']: bad[page] = r
        v.page.goto(v.base + 'model_selection.html'); v.page.pdf(path=SHOTS/'model_selection.pdf')
    finally: v.close()
    assert not bad, bad

DARK = """() => {
  const rgb = e => getComputedStyle(e).backgroundColor.match(/\\d+/g).slice(0, 3).reduce((a, b) => a + +b, 0);
  return {body: rgb(document.body), text: getComputedStyle(document.body).color, code: rgb(document.querySelector(
    '.jp-InputArea-editor pre')), figure: rgb(document.querySelector('.jp-RenderedImage img'))};
}"""

def test_dark_mode(site, browser):
    "With the system in dark mode: dark page and code, light text, figures on a light card."
    v = Visitor(browser, color_scheme='dark')
    try: v.visit('adv_to_knowledge.html'); r = v.page.evaluate(DARK); v.screenshot('adv_to_knowledge.html',
                                                                                 SHOTS/'dark.png')
    finally: v.close()
    assert r['body'] < 100 and r['code'] < 150 and r['figure'] == 765 and r['text'] != 'rgb(31, 35, 40)', r

def test_card_markdown():
    "show_doc's markdown, mended before rendering: dunders, stars, NoneType and <factory>."
    md = rd.card_md('### Transferability.__repr__\n\n```python\ndef f(\n    cache:NoneType=None, info:dict=<factory>,'
                    ' n:list=<factory>, g=<factory>\n):\n```\n\n*The sums behind alpha1*alpha2 and `2*eps`.*')
    assert r'Transferability.\_\_repr\_\_' in md and 'cache=None, info:dict={}, n:list=[], g=...' in md
    assert md.endswith(r'*The sums behind alpha1\*alpha2 and `2*eps`.*')

# What the notebooks may hold but do not yet: a small sample site through the same processors and renderer

def _png(w=120, h=80) -> str:
    "A real matplotlib figure, base64 PNG as a notebook stores it."
    import io
    from matplotlib.figure import Figure
    fig, buf = Figure(figsize=(w / 40, h / 40), dpi=40), io.BytesIO()
    fig.add_subplot().plot([0, 1, 2], [0, 1, 0]); fig.savefig(buf, format='png')
    return base64.b64encode(buf.getvalue()).decode()

@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    "Two notebooks with what the renderer supports (and a plotting cell whose figure was not stored)."
    from nbformat.v4 import new_notebook as nb, new_markdown_cell as md, new_code_cell as code
    from nbformat.v4 import new_output as out
    import nbformat
    d = tmp_path_factory.mktemp('sample'); (d/'nbs'/'images').mkdir(parents=True)
    (d/'nbs'/'images'/'dot.png').write_bytes(base64.b64decode(_png(40, 40)))
    shutil.copy(ROOT/'nbs'/'styles.css', d/'nbs')
    res = '**R** (paper convention; &lt;lambda&gt;)\n\n|' + ' c |' * 10 + '\n|' + '---|' * 10
    res += '\n|' + ' 0.123456 |' * 10
    cells = {'index.ipynb': [md('# Sample\n\n> The landing page of a sample site.'), md(
        '## Top section\n\nSee [the figures](01_figs.ipynb#a-figure) and [`area`](01_figs.ipynb#area).\n\n'
        '![a dot](images/dot.png)')], '01_figs.ipynb': [
        md('# Figures and math\n\n> Everything the renderer supports, on one page.'),
        code('#| export\ndef area(r:float, # radius of the disc\n        )->float: # its area\n'
             '    "Area of a disc of radius `r`."\n    return 3.14159 * r * r'),
        md('## Math\n\nInline $\\alpha_1 = \\frac{a}{b}$ and display\n\n$$\\Big\\lVert \\mathbb{E}_x'
           '[\\hat\\Delta\\hat\\Delta^\\top] \\Big\\rVert_F$$\n\n::: {.callout-note}\n'
           'A [link back](index.ipynb#top-section).\n:::'),
        md('## A figure'),
        code('#| fig-cap: A tent\n#| fig-alt: A line up from 0 to 1 and down\nplt.plot([0, 1, 2], [0, 1, 0])',
             outputs=[out('display_data', data={'image/png': _png(), 'text/plain': '<Figure>'})]),
        code('#| code-fold: show\n#| code-summary: "The source"\nx = area(1.0)\nround(x, 2)', outputs=[
            out('stream', name='stderr', text='100%|##########| 10/10 [00:00<00:00, 99.0it/s]\n'),
            out('execute_result', data={'text/plain': '3.14'}, execution_count=1)]),
        code('#| echo: false\nprint(1)', outputs=[out('stream', name='stdout', text='shown without code')]),
        code("#| output: asis\nprint('| a | b |')", outputs=[out('stream', name='stdout', text='| a |\n|---|\n| 7 |\n')]),
        code('result  # markdown naming a lambda, and a wide table', outputs=[
            out('execute_result', data={'text/plain': 'R', 'text/markdown': res}, execution_count=2)]),
        code('very_long_name = ' + ' + '.join(['another_long_variable_name'] * 12)),
        code('fig, ax = plt.subplots(); ax.plot([1, 2])  # a figure not stored')]}
    for n, cs in cells.items(): nbformat.write(nb(cells=cs), d/'nbs'/n); rd.process(d/'nbs'/n, d/'_proc'/n)
    procd = {n: rd.read_nb(d/'_proc'/n) for n in cells}
    return d/'_site', rd.build_site(procd, d/'_site', d/'nbs', lib='sample', git_url='https://example.org/s')

def test_sample_site_html(sample):
    root, rep = sample
    assert rep['pages'] == {'index.ipynb': 'index.html', '01_figs.ipynb': 'figs.html'}
    assert rep['figures']['01_figs.ipynb'] == 1 and (root/'figs_files').is_dir()
    page = (root/'figs.html').read_text()
    assert 'id="area"' in page and 'Area of a disc' in page, 'automatic show_doc card of an exported def'
    assert '<figcaption><p>A tent</p>' in page and page.count('<math') == 2 and 'math-tex' not in page
    assert 'alt="A line up from 0 to 1 and down"' in page and '<td>7</td>' in page, 'fig-alt; output: asis'
    assert '<style' not in page and (root/rd.SHARED_CSS).stat().st_size > 100_000, 'one shared stylesheet'
    assert re.search(r'<details class="code-fold" open(="")?>\s*<summary>The source</summary>', page)
    assert 'it/s' not in page, 'progress bars are dropped'
    assert re.search(r'shown without code\s*</pre>', page) and 'print(' not in page
    assert 'class="callout callout-note"' in page and 'href="index.html#top-section"' in page
    assert (root/'images'/'dot.png').exists(), 'images a markdown cell links to are copied'

def test_sample_site_in_browser(sample, browser):
    root, rep = sample
    v = Visitor(browser, root=root)
    try:
        problems = {nb: page_problems(v, rep, nb) for nb in rep['pages']}
        f = v.visit('figs.html')
        assert [i['ok'] for i in f['images']] == [True] and f['math'] == 2
        assert v.visit('index.html')['images'][0]['ok']
        assert '(paper convention; <lambda>)' in f['text'], 'HTML-ish text in markdown reads as written'
        js = "[...document.querySelectorAll('.table-wrap')].map(w => w.scrollWidth > w.clientWidth)"
        assert v.page.evaluate(js) == [False, True], 'the wide table scrolls inside its own box'
    finally: v.close()
    assert problems['index.ipynb'] == [] and len(problems['01_figs.ipynb']) == 1, problems
    assert re.match(r"cell \S* plots \('fig, ax = plt.subplots.*no figure", problems['01_figs.ipynb'][0])

def test_nbdev_quarto_config(tmp_path, monkeypatch):
    "What `nbdev_docs` does before Quarto: nbs/nbdev.yml from settings.ini, our _quarto.yml and sidebar kept."
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.config import get_config
    for f in ('settings.ini', '_quarto.yml'): shutil.copy(ROOT/f, tmp_path)
    (tmp_path/'nbs').mkdir(); os.symlink('../_quarto.yml', tmp_path/'nbs'/'_quarto.yml')
    (tmp_path/'nbs'/'sidebar.yml').write_text(rd.sidebar_yml(NOTEBOOKS))
    for n in NOTEBOOKS: shutil.copy(ROOT/'nbs'/n, tmp_path/'nbs'/n)
    monkeypatch.chdir(tmp_path)
    get_config.cache_clear()                                 # nbdev caches the config of the real repo
    try: refresh_quarto_yml(); nbdev_sidebar.__wrapped__()
    finally: get_config.cache_clear()
    assert (tmp_path/'nbs'/'_quarto.yml').is_symlink()
    assert (tmp_path/'_quarto.yml').read_text() == (ROOT/'_quarto.yml').read_text()
    assert (tmp_path/'nbs'/'sidebar.yml').read_text() == rd.sidebar_yml(NOTEBOOKS), 'custom_sidebar: ours'
    ny, cfg = yaml.safe_load((tmp_path/'nbs'/'nbdev.yml').read_text()), rd._cfg()
    assert ny['project']['output-dir'] == '_docs' and ny['website']['repo-url'] == cfg.git_url
    assert ny['website']['site-url'] == cfg.doc_host + cfg.doc_baseurl and ny['website']['title'] == cfg.title
