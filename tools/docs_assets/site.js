// The offline docs' only script (tools/render_docs.py copies it into _site/): the phone menu, the current page
// scrolled into the sidebar's view, and search. Search loads lunr.js (vendored from mkdocs at render time) and
// search_index.js (the pages' sections, written at render time) on first use; nothing comes from another site.
(() => {
  const $ = s => document.querySelector(s), box = $('#search'), list = $('#search-results');
  const menu = $('.menu-toggle'), side = $('nav.sidebar'), cur = $('nav.sidebar a[aria-current=page]');
  const center = () => { if (side && cur) side.scrollTop = cur.offsetTop - side.clientHeight / 3; };
  menu?.addEventListener('click', () => {
    menu.setAttribute('aria-expanded', document.body.classList.toggle('menu-open')); center();
  });
  center();

  let idx, docs, loading, hits = [], pick = -1;
  const load = src => new Promise((ok, err) => document.head.append(Object.assign(
    document.createElement('script'), {src, onload: ok, onerror: err})));
  const ready = () => loading ??= Promise.all([load('lunr.js'), load('search_index.js')]).then(() => {
    docs = window.SEARCH_DOCS; lunr.tokenizer.separator = /[\s\-.,:;()[\]{}=<>/|'"`*+!?]+/;
    idx = lunr(function () {
      this.ref('i'); this.field('n', {boost: 20}); this.field('t', {boost: 8}); this.field('b');
      this.pipeline.remove(lunr.stemmer); this.searchPipeline.remove(lunr.stemmer);
      docs.forEach((d, i) => this.add({i, n: d.n, t: d.t, b: d.b}));
    });
  });
  const esc = s => s.replace(/[&<>"]/g, c => `&${{'&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot'}[c]};`);
  const show = () => {
    const terms = box.value.toLowerCase().split(lunr.tokenizer.separator)
      .map(t => t.replace(/^\W+|\W+$/g, '')).filter(t => t && lunr.stopWordFilter(t));
    hits = terms.length ? idx.query(q => terms.forEach(t => {
      q.term(t, {usePipeline: false, wildcard: lunr.Query.wildcard.TRAILING, presence: lunr.Query.presence.REQUIRED});
      q.term(t, {usePipeline: false, boost: 10});
    })).map(r => docs[r.ref]) : [];
    const typed = box.value.trim().toLowerCase();            // a name typed from its start: its card first
    hits = [...hits.filter(d => d.t.toLowerCase().startsWith(typed)), ...hits.filter(d => !d.t.toLowerCase()
      .startsWith(typed))].slice(0, 12);
    pick = hits.length ? 0 : -1;
    list.innerHTML = hits.map((d, i) => `<li role="option" id="hit-${i}"${i ? '' : ' aria-selected="true"'}>
      <a href="${esc(d.u)}"><b>${esc(d.t)}</b><span class="where">${esc(d.p)}</span>
      <span class="snippet">${esc(d.b.slice(0, 140))}</span></a></li>`).join('')
      || (terms.length ? '<li class="none">No match</li>' : '');
    list.hidden = !list.innerHTML;
  };
  const move = d => {
    if (!hits.length) return;
    list.children[pick]?.removeAttribute('aria-selected');
    pick = (pick + d + hits.length) % hits.length;
    list.children[pick].setAttribute('aria-selected', 'true'); list.children[pick].scrollIntoView({block: 'nearest'});
  };
  box?.addEventListener('focus', ready);
  box?.addEventListener('input', () => ready().then(show));
  box?.addEventListener('keydown', e => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') { e.preventDefault(); move(e.key === 'ArrowDown' ? 1 : -1); }
    else if (e.key === 'Enter' && hits[pick]) location.href = hits[pick].u;
    else if (e.key === 'Escape') { box.value = ''; list.hidden = true; box.blur(); }
  });
  document.addEventListener('keydown', e => {
    if (e.key === '/' && box && document.activeElement !== box && !/^(INPUT|TEXTAREA)$/.test(e.target.tagName)) {
      e.preventDefault(); box.focus();
    }
  });
  document.addEventListener('click', e => { if (list && !e.target.closest('.search')) list.hidden = true; });
})();
