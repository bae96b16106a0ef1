# Sphinx settings of the docs site; tools/docs.py prepares the pages (`_docsrc/`) and runs the build.
# Why Sphinx + myst-nb + the book theme (over mkdocs-material + mkdocs-jupyter): a search results page with Porter
# stemming and index entries (`<!-- search: ... -->` in a notebook), notebooks parsed cell by cell (tags, figure
# captions, outputs as MyST), the page contents at every width (a button on a phone), anchors below the header, dark
# mode, copy buttons, a skip link and keyboard-reachable dialogs; all of it from PyPI and offline.
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # tools/docs.py: the MathML extension

project, author, copyright = 'adv_kt', 'the adv_kt authors', '2026, the adv_kt authors'
extensions = ['myst_nb', 'sphinx_copybutton', 'docs']
root_doc, language = 'index', 'en'
html_theme = 'sphinx_book_theme'
html_title = 'adv_kt'
html_static_path = [str(Path(__file__).with_name('static'))]
html_css_files, html_js_files = ['adv_kt.css'], [('adv_kt.js', {'defer': 'defer'})]
html_copy_source = html_show_sourcelink = False
html_favicon = str(Path(__file__).with_name('static')/'favicon.svg')      # else browsers ask for /favicon.ico (404)
html_math_renderer = 'mathml'                                   # docs.setup: MathML at build time, no MathJax
html_baseurl = 'https://adv-kt.github.io/adv_kt/'
html_theme_options = dict(
    repository_url='https://github.com/adv-kt/adv_kt', use_repository_button=True, path_to_docs='nbs',
    use_download_button=False, show_toc_level=2, home_page_in_toc=False, navigation_with_keys=False,
    toc_title='On this page',
)
nb_execution_mode = 'off'                                       # the pages show the outputs committed with them
nb_render_markdown_format = 'myst'                              # tables and formulas in Markdown outputs
nb_render_image_options = {'scale': 100}                        # Sphinx links a scaled image to its full size
myst_enable_extensions = ['dollarmath', 'amsmath']
myst_all_links_external = True                                  # tools/docs.py writes every link as its URL
html_context = {'default_mode': 'auto'}
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type']
copybutton_exclude = '.linenos, .gp, .go'
