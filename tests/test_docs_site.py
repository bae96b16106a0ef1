"""The documentation site, checked the way a person sees it: every page opened in headless Chromium.

`tools/render_docs.py` renders the notebooks offline into `_site/` (or reuses `_site` when its digest of every input
still matches). Each page is then served from 127.0.0.1 and opened in Chromium, driven over the DevTools protocol
(websocket-client, no driver binary): no JavaScript exceptions or console errors, no failed requests to the site, every
<img> decoded (naturalWidth > 0), every internal link pointing at an existing page and, for `#anchors`, an existing id,
the sidebar in reading order, the title and description from the notebook's front matter, no horizontal scrolling.
Screenshots of every page go to `_site/_screenshots/` (git-ignored); `index.png` is the landing page as a visitor
first sees it. Without Chromium (a developer's machine) the browser tests skip and say so; under CI they fail.
Chromium: `apt-get install chromium` (Debian), or set CHROMIUM=/path/to/chrome.
"""
import base64, functools, html.parser, importlib.util, json, os, re, shutil, subprocess, sys, tempfile, threading, time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit
import pytest, yaml

ROOT = Path(__file__).resolve().parent.parent
SITE, SHOTS = ROOT/'_site', ROOT/'_site'/'_screenshots'
VIEWPORT = (1280, 800)

spec = importlib.util.spec_from_file_location('render_docs', ROOT/'tools'/'render_docs.py')
rd = importlib.util.module_from_spec(spec); spec.loader.exec_module(rd)
NOTEBOOKS = [p.name for p in rd.notebooks(ROOT/'nbs')]

# ---------------------------------------------------------------------------------------------------------------
# The render

@pytest.fixture(scope='module')
def site():
    "Render `_site` (a no-op when it is fresh) and return the render report."
    t0 = time.time()
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'render_docs.py')], cwd=ROOT, capture_output=True, text=True, timeout=900)
    stamp = SITE/rd.STAMP
    assert stamp.exists(), f'render_docs.py wrote no report:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    rep = json.loads(stamp.read_text())
    rep['_log'], rep['_secs'] = r.stdout + r.stderr, time.time() - t0
    return rep

def test_every_notebook_renders(site):
    "nbdev's processors run on every notebook (they do the same under `nbdev_docs`) and each makes a page."
    assert not site['failures'], ('nbdev could not process: ' + '\n'.join(f'{k}: {v}' for k, v in site['failures'].items())
                                  + '\n' + rd.HINT)
    assert sorted(site['pages']) == sorted(NOTEBOOKS)
    assert site['pages']['index.ipynb'] == 'index.html'
    assert len(set(site['pages'].values())) == len(site['pages']), 'two notebooks map to one page'

class _CardIds(html.parser.HTMLParser):
    "The ids inside API cards (`<div class=\"cell doc-card\">`)."
    def __init__(self):
        super().__init__(); self.ids, self.stack = set(), []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'div': self.stack.append('doc-card' in (a.get('class') or '').split())
        if a.get('id') and any(self.stack): self.ids.add(a['id'])
    def handle_endtag(self, tag):
        if tag == 'div' and self.stack: self.stack.pop()

@functools.lru_cache(maxsize=None)
def _card_ids(page: Path) -> frozenset:
    p = _CardIds(); p.feed(page.read_text()); return frozenset(p.ids)

def test_api_cards(site):
    "Every public function and class of a module has its `show_doc` card, whose heading holds the anchor nbdev's doc links point to."
    ns = {}
    exec((ROOT/'adv_kt'/'_modidx.py').read_text(), ns)
    pages = {p for nb, p in site['pages'].items() if nb not in site['failures']}   # failures: see test_every_notebook_renders
    missing, checked = [], 0
    for mod, syms in ns['d']['syms'].items():
        for qual, (url, _) in syms.items():
            name = qual[len(mod) + 1:]
            if '.' in name or name.startswith('_'): continue     # methods get cards only where a notebook asks
            page, anchor = url.split('#')
            if page not in pages: continue
            checked += 1
            if anchor not in _card_ids(SITE/page): missing.append(f'{qual} -> {url}')
    assert checked > 0, 'no exported function found in adv_kt/_modidx.py'
    assert not missing, f'{len(missing)} API cards missing:\n' + '\n'.join(missing)

def test_sidebar_yml_and_quarto_config():
    "Quarto users: `_quarto.yml` (root, symlinked from nbs/) reads nbdev.yml and the generated sidebar.yml."
    link = ROOT/'nbs'/'_quarto.yml'
    assert link.is_symlink() and link.resolve() == (ROOT/'_quarto.yml').resolve()
    q = yaml.safe_load((ROOT/'_quarto.yml').read_text())
    assert q['project']['type'] == 'website'
    assert set(q['metadata-files']) == {'nbdev.yml', 'sidebar.yml'}
    assert (ROOT/'nbs'/q['format']['html']['css']).exists()
    sb = ROOT/'nbs'/'sidebar.yml'
    assert sb.exists() and sb.read_text() == rd.sidebar_yml(NOTEBOOKS), 'nbs/sidebar.yml is stale: run python tools/render_docs.py --readme'
    items = yaml.safe_load(sb.read_text())['website']['sidebar']['contents']
    listed = [i['href'] if 'href' in i else None for i in items] + [n for i in items for n in i.get('contents', [])]
    assert sorted(n for n in listed if n) == sorted(NOTEBOOKS)
    secs = [i['section'] for i in items if 'section' in i]
    assert secs == sorted(secs, key=[s for s, *_ in rd.SECTIONS].__add__([rd.OTHER]).index)

def test_reading_order():
    names = ['91_x.ipynb', '10_adv_to_knowledge.ipynb', 'index.ipynb', '02_metrics.ipynb', '00_theory.ipynb',
             '03a_extra.ipynb', '03_data.ipynb', '90_benchmark.ipynb', 'notes.ipynb']
    test = [(s, ns) for s, ns in rd.reading_order(names)]
    assert test == [(None, ['index.ipynb']), ('Theory', ['00_theory.ipynb']),
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
    assert str(ROOT) not in readme and '/home/' not in readme and '/tmp/' not in readme
    for noise in ('it/s]', 'Warning:', 'WARNING: THIS FILE'): assert noise not in readme
    for link in re.findall(r'\]\(([^)#\s]+)', readme):
        if not re.match(r'\w+:', link): assert (ROOT/link).exists(), f'README links to missing {link}'

def test_math_to_mathml():
    assert '<msub>' in rd.tex2mathml(r'\alpha_1', False)
    assert '\u2016' in rd.tex2mathml(r'\Big\lVert x \Big\rVert_F', True)           # sized delimiters
    assert 'arg' in rd.tex2mathml(r'\arg\max_x f(x)', False)
    assert rd.tex2mathml(r'\notacommand x', False) is None                      # left as TeX, never half-converted
    assert rd.pandoc_id('Attack.run') == 'attack.run' and rd.pandoc_id('The attack in the paper') == 'the-attack-in-the-paper'

# ---------------------------------------------------------------------------------------------------------------
# The browser

def find_chromium():
    for c in (os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        if c and (p := shutil.which(c)): return p

class CDP:
    "A page of headless Chromium driven over the DevTools protocol."
    def __init__(self, exe: str):
        import websocket
        self.tmp = tempfile.mkdtemp(prefix='adv_kt_chromium_')
        args = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--disable-dev-shm-usage', '--hide-scrollbars', '--mute-audio',
                f'--user-data-dir={self.tmp}/profile', '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1',
                f'--window-size={VIEWPORT[0]},{VIEWPORT[1]}', 'about:blank']
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(f'{self.tmp}/stderr.log', 'w'))
        port_file, t0 = Path(self.tmp)/'profile'/'DevToolsActivePort', time.time()
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.time() - t0 > 60:
                raise RuntimeError('Chromium did not start: ' + Path(f'{self.tmp}/stderr.log').read_text()[-2000:])
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        import urllib.request
        targets = json.load(urllib.request.urlopen(f'http://127.0.0.1:{port}/json/list', timeout=30))
        ws_url = next(t['webSocketDebuggerUrl'] for t in targets if t['type'] == 'page')
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.n, self.events = 0, []
        for domain in ('Page', 'Runtime', 'Log', 'Network'): self.call(f'{domain}.enable')
        self.call('Emulation.setDeviceMetricsOverride', width=VIEWPORT[0], height=VIEWPORT[1], deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params):
        self.n += 1; i = self.n
        self.ws.send(json.dumps({'id': i, 'method': method, 'params': params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get('id') == i:
                if 'error' in m: raise RuntimeError(f'{method}: {m["error"]}')
                return m.get('result', {})
            if 'method' in m: self.events.append(m)

    def wait_for(self, method: str, timeout: float = 60):
        t0 = time.time()
        while time.time() - t0 < timeout:
            for k, e in enumerate(self.events):
                if e['method'] == method: del self.events[k]; return e
            m = json.loads(self.ws.recv())
            if 'method' in m: self.events.append(m)
        raise TimeoutError(method)

    def eval(self, js: str):
        r = self.call('Runtime.evaluate', expression=js, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise RuntimeError(r['exceptionDetails'])
        return r['result'].get('value')

    def close(self):
        try: self.ws.close()
        finally:
            self.proc.terminate()
            try: self.proc.wait(10)
            except subprocess.TimeoutExpired: self.proc.kill()
            shutil.rmtree(self.tmp, ignore_errors=True)

PAGE_FACTS = """(async () => {
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  const de = document.documentElement;
  return {
    title: document.title,
    description: document.querySelector('meta[name=description]')?.content ?? null,
    h1: document.querySelector('h1')?.textContent.trim() ?? null,
    images: [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id).concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
    sidebar: [...document.querySelectorAll('nav.sidebar a')].map(a => a.getAttribute('href')),
    current: document.querySelector('nav.sidebar a[aria-current=page]')?.getAttribute('href') ?? null,
    math: [...document.querySelectorAll('math')].filter(m => m.getBoundingClientRect().width > 0).length,
    mathAll: document.querySelectorAll('math').length,
    tex: document.querySelectorAll('code.math-tex').length,
    overflowX: de.scrollWidth - de.clientWidth,
    height: de.scrollHeight,
  };
})()"""

class Visitor:
    "Opens pages of a site folder served on 127.0.0.1 and records what a visitor's browser reports."
    def __init__(self, exe: str, root: Path = SITE, cdp: 'CDP | None' = None):
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f'http://127.0.0.1:{self.httpd.server_address[1]}/'
        self.own_cdp = cdp is None
        self.cdp = cdp or CDP(exe)
        self.seen = {}

    def visit(self, page: str) -> dict:
        if page in self.seen: return self.seen[page]
        cdp = self.cdp
        cdp.events.clear()
        cdp.call('Page.navigate', url=self.base + page)
        cdp.wait_for('Page.loadEventFired')
        facts = cdp.eval(PAGE_FACTS)
        time.sleep(0.05); cdp.call('Runtime.evaluate', expression='1')       # drain late events
        own = lambda u: (u or '').startswith(self.base) or (u or '').startswith('data:')
        reqs, errors, external = {}, [], set()
        for e in cdp.events:
            m, p = e['method'], e['params']
            if m == 'Network.requestWillBeSent':
                reqs[p['requestId']] = p['request']['url']
                if not own(p['request']['url']): external.add(p['request']['url'])
            elif m == 'Network.loadingFailed' and own(reqs.get(p['requestId'])):
                errors.append(f"request failed: {reqs[p['requestId']]} ({p.get('errorText')})")
            elif m == 'Network.responseReceived' and p['response']['status'] >= 400 and own(p['response']['url']):
                errors.append(f"HTTP {p['response']['status']}: {p['response']['url']}")
            elif m == 'Runtime.exceptionThrown':
                d = p['exceptionDetails']
                errors.append(f"JS exception: {d.get('exception', {}).get('description') or d.get('text')}")
            elif m == 'Runtime.consoleAPICalled' and p['type'] in ('error', 'assert'):
                errors.append('console.error: ' + ' '.join(str(a.get('value', a.get('description'))) for a in p['args']))
            elif m == 'Log.entryAdded' and p['entry']['level'] == 'error':
                u = p['entry'].get('url')
                if u and not own(u): external.add(u)                                # an unreachable CDN is not our error
                else: errors.append(f"console: {p['entry']['text']} {u or ''}".strip())
        facts.update(errors=errors, external=sorted(external))
        self.seen[page] = facts
        return facts

    def screenshot(self, page: str, dest: Path, full: bool = False):
        self.visit(page)
        if self.cdp.eval('location.pathname') != '/' + page:
            self.seen.pop(page); self.visit(page)
        if full:                                  # a viewport as tall as the page, so sticky parts lay out as in a scroll
            h = min(self.cdp.eval('document.documentElement.scrollHeight'), 16000)
            self.cdp.call('Emulation.setDeviceMetricsOverride', width=VIEWPORT[0], height=h, deviceScaleFactor=1, mobile=False)
        try: png = self.cdp.call('Page.captureScreenshot', format='png')['data']
        finally:
            if full: self.cdp.call('Emulation.setDeviceMetricsOverride', width=VIEWPORT[0], height=VIEWPORT[1], deviceScaleFactor=1, mobile=False)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(base64.b64decode(png))

    def close(self):
        if self.own_cdp: self.cdp.close()
        self.httpd.shutdown(); self.httpd.server_close()

class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

@pytest.fixture(scope='module')
def browser(site):
    exe = find_chromium()
    if not exe:
        msg = 'no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome): the site was not opened in a browser'
        if os.environ.get('CI'): pytest.fail(msg + ' -- under CI, .ci/run installs it')
        pytest.skip(msg)
    v = Visitor(exe)
    yield v
    v.close()

def _page(site, nb):
    if nb not in site['pages']: pytest.fail(f'{nb} did not render: {site["failures"].get(nb)}')
    return site['pages'][nb]

def page_problems(v: Visitor, rep: dict, nb: str) -> list:
    "What is wrong with notebook `nb`'s page, as a visitor's browser shows it."
    page = rep['pages'][nb]
    f = v.visit(page)
    problems = list(f['errors'])
    problems += [f"image not shown: {i['src'][:120]}" for i in f['images'] if not i['ok']]
    meta = rep['meta'][nb]
    if f['h1'] != meta['title']: problems.append(f"h1 {f['h1']!r} is not the front matter title {meta['title']!r}")
    if meta['title'] not in f['title']: problems.append(f"<title> {f['title']!r} lacks {meta['title']!r}")
    if f['description'] != meta['description']: problems.append(f"meta description {f['description']!r} != {meta['description']!r}")
    if not meta['description']: problems.append('no description: give the notebook a `> summary` line under its H1')
    if nb in rep.get('cut_descriptions', {}):
        problems.append("description cut at a line break (nbdev keeps the first line of the `>` summary): put it on one line")
    if f['sidebar'] != rep['order']: problems.append(f"sidebar {f['sidebar']} is not the reading order {rep['order']}")
    if f['current'] != page: problems.append(f"sidebar does not mark {page} as the current page")
    if f['math'] != f['mathAll']: problems.append(f"{f['mathAll'] - f['math']} formulas take no space (MathML not rendered)")
    if f['overflowX'] > 0: problems.append(f"page scrolls sideways by {f['overflowX']}px at {VIEWPORT[0]}px width")
    pages = set(rep['pages'].values())
    for link in sorted(set(f['links'])):
        if not link.startswith(v.base): continue                                # other sites: not ours to check
        url, frag = urldefrag(link)
        target = unquote(urlsplit(url).path)[1:] or 'index.html'
        if not (v.root/target).is_file(): problems.append(f'broken link: {link[len(v.base):]}'); continue
        if target.endswith('.html') and target not in pages: problems.append(f'link to a page outside the site: {target}')
        if frag and target in pages and unquote(frag) not in v.visit(target)['ids']:
            problems.append(f'broken anchor: {link[len(v.base):]}')
    return problems

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_page_in_browser(site, browser, nb):
    "One page as a visitor's browser sees it; its screenshot goes to _site/_screenshots/."
    page = _page(site, nb)
    problems = page_problems(browser, site, nb)
    browser.screenshot(page, SHOTS/f'{Path(page).stem}.png')
    assert not problems, f'{page} ({nb}):\n  ' + '\n  '.join(problems)

def test_landing_page_screenshot(site, browser):
    "The landing page as a visitor first sees it (and whole), saved for people to look at."
    page = _page(site, 'index.ipynb')
    f = browser.visit(page)
    browser.screenshot(page, SHOTS/'index.png')
    browser.screenshot(page, SHOTS/'index-full.png', full=True)
    cdp = browser.cdp                                              # and on a phone: nothing wider than the screen
    cdp.call('Emulation.setDeviceMetricsOverride', width=390, height=844, deviceScaleFactor=1, mobile=True)
    try:
        browser.seen.pop(page, None)
        phone = browser.visit(page)
        browser.screenshot(page, SHOTS/'index-phone.png')
    finally:
        cdp.call('Emulation.setDeviceMetricsOverride', width=VIEWPORT[0], height=VIEWPORT[1], deviceScaleFactor=1, mobile=False)
        browser.seen.pop(page, None)
    assert phone['overflowX'] <= 0, f"the landing page scrolls sideways by {phone['overflowX']}px on a 390px screen"
    png = (SHOTS/'index.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and int.from_bytes(png[16:20], 'big') == VIEWPORT[0]
    assert f['height'] > VIEWPORT[1] / 2 and f['h1'] and f['sidebar']
    print(f"\nscreenshots in {SHOTS.relative_to(ROOT)}/ ; render {site.get('seconds')}s (this run {site['_secs']:.0f}s)")

# ---------------------------------------------------------------------------------------------------------------
# What the notebooks may hold but do not yet: a small sample site through the same processors and renderer

def _png(w=120, h=80) -> str:
    "A real matplotlib figure, base64 PNG as a notebook stores it."
    import io, matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(w / 40, h / 40), dpi=40)
    ax.plot([0, 1, 2], [0, 1, 0]); buf = io.BytesIO(); fig.savefig(buf, format='png'); plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()

@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    "Two notebooks with a figure, math, a callout, folded code, an API card, progress noise and cross links."
    from nbformat.v4 import new_notebook, new_markdown_cell as md, new_code_cell as code, new_output as out
    import nbformat
    d = tmp_path_factory.mktemp('sample')
    (d/'nbs').mkdir()
    (d/'nbs'/'images').mkdir(); (d/'nbs'/'images'/'dot.png').write_bytes(base64.b64decode(_png(40, 40)))
    (d/'nbs'/'styles.css').write_text((ROOT/'nbs'/'styles.css').read_text())
    idx = new_notebook(cells=[
        md('# Sample\n\n> The landing page of a sample site.'),
        md('## Top section\n\nSee [the figures](01_figs.ipynb#a-figure) and [`area`](01_figs.ipynb#area).\n\n![a dot](images/dot.png)')])
    figs = new_notebook(cells=[
        md('# Figures and math\n\n> Everything the renderer supports, on one page.'),
        code('#| export\ndef area(r:float, # radius of the disc\n        )->float: # its area\n    "Area of a disc of radius `r`."\n    return 3.14159 * r * r'),
        md('## Math\n\nInline $\\alpha_1 = \\frac{a}{b}$ and display\n\n$$\\Big\\lVert \\mathbb{E}_x[\\hat\\Delta\\hat\\Delta^\\top] \\Big\\rVert_F$$\n\n'
           '::: {.callout-note}\nA callout with a [link back](index.ipynb#top-section).\n:::'),
        md('## A figure'),
        code('#| fig-cap: A tent\nplot()', outputs=[out('display_data', data={'image/png': _png(), 'text/plain': '<Figure>'})]),
        code('#| code-fold: show\n#| code-summary: "The source"\nx = area(1.0)\nround(x, 2)', outputs=[
            out('stream', name='stderr', text='100%|##########| 10/10 [00:00<00:00, 99.0it/s]\n'),
            out('execute_result', data={'text/plain': '3.14'}, execution_count=1)]),
        code('#| echo: false\nprint("shown without its code")', outputs=[out('stream', name='stdout', text='shown without its code\n')])])
    for name, nb in (('index.ipynb', idx), ('01_figs.ipynb', figs)):
        nbformat.write(nb, d/'nbs'/name)
    procd = {}
    for name in ('index.ipynb', '01_figs.ipynb'):
        rd.process(d/'nbs'/name, d/'_proc'/name)
        procd[name] = rd.read_nb(d/'_proc'/name)
    rep = rd.build_site(procd, d/'_site', d/'nbs', lib='sample', git_url='https://example.org/sample')
    return d/'_site', rep

def test_sample_site_html(sample):
    root, rep = sample
    assert rep['pages'] == {'index.ipynb': 'index.html', '01_figs.ipynb': 'figs.html'} and rep['figures']['01_figs.ipynb'] == 1
    page = (root/'figs.html').read_text()
    assert 'id="area"' in page and 'Area of a disc' in page, 'automatic show_doc card for the exported function'
    assert '<figcaption><p>A tent</p></figcaption>' in page and (root/'figs_files'/'figure-html').is_dir()
    assert page.count('<math') == 2 and 'math-tex' not in page
    assert '<details class="code-fold" open><summary>The source</summary>' in page
    assert 'it/s' not in page, 'progress bars are dropped'
    assert 'shown without its code</pre>' in page and 'print(' not in page
    assert 'class="callout callout-note"' in page and 'href="index.html#top-section"' in page
    assert (root/'images'/'dot.png').exists(), 'images a markdown cell links to are copied'

def test_sample_site_in_browser(sample, browser):
    root, rep = sample
    v = Visitor(None, root=root, cdp=browser.cdp)
    try:
        problems = {nb: page_problems(v, rep, nb) for nb in rep['pages']}
        f = v.visit('figs.html')
        assert [i['ok'] for i in f['images']] == [True] and f['images'][0]['w'] > 0
        assert f['math'] == 2
        assert v.visit('index.html')['images'][0]['ok']
    finally: v.close()
    assert not any(problems.values()), problems

def test_nbdev_quarto_config(tmp_path, monkeypatch):
    "What `nbdev_docs` does before Quarto runs: nbs/nbdev.yml from settings.ini, our _quarto.yml kept, sidebar kept."
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    shutil.copy(ROOT/'settings.ini', tmp_path)
    shutil.copy(ROOT/'_quarto.yml', tmp_path)
    (tmp_path/'nbs').mkdir()
    os.symlink('../_quarto.yml', tmp_path/'nbs'/'_quarto.yml')
    (tmp_path/'nbs'/'sidebar.yml').write_text(rd.sidebar_yml(NOTEBOOKS))
    for n in NOTEBOOKS: shutil.copy(ROOT/'nbs'/n, tmp_path/'nbs'/n)
    from nbdev.config import get_config
    monkeypatch.chdir(tmp_path)
    get_config.cache_clear()                                 # nbdev caches the config of the real repo
    try: refresh_quarto_yml(); nbdev_sidebar.__wrapped__()
    finally: get_config.cache_clear()
    assert (tmp_path/'nbs'/'_quarto.yml').is_symlink() and (tmp_path/'_quarto.yml').read_text() == (ROOT/'_quarto.yml').read_text()
    assert (tmp_path/'nbs'/'sidebar.yml').read_text() == rd.sidebar_yml(NOTEBOOKS), 'custom_sidebar = True keeps ours'
    ny = yaml.safe_load((tmp_path/'nbs'/'nbdev.yml').read_text())
    cfg = rd._cfg()
    assert ny['project']['output-dir'] == '_docs' and ny['website']['site-url'] == cfg.doc_host + cfg.doc_baseurl
    assert ny['website']['repo-url'] == cfg.git_url and ny['website']['title'] == cfg.title
