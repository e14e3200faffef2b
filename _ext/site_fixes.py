"""Sphinx extension: small fixes to the pages Jupyter Book 1 makes, found by the site tests.

1. No Thebe scripts when Thebe is off. Jupyter Book always loads sphinx-thebe, which adds an
   inline script (``const THEBE_JS_URL = ...``) and ``sphinx-thebe.js`` to every page. With
   Sphinx 7.4 the inline script is added twice, and the second copy throws "Identifier
   'THEBE_JS_URL' has already been declared" on every page. The book launches chapters on
   Binder and Colab, not Thebe, so with ``launch_buttons.thebe`` off these scripts go.
2. An accessible bibliography. docutils writes the citations as ``<div role="list">`` whose
   entries have ``role="doc-biblioentry"``; a list must hold list items (axe:
   aria-required-children, critical), so the entries become ``role="listitem"``.
3. Hidden code cells that say what they hide. myst-nb labels each one's ``<summary>``
   "Toggle hidden content" while it shows "Show code cell source" (axe:
   label-content-name-mismatch, serious); without the label, its name is what it shows.

Loaded by ``_config.yml`` (``sphinx.local_extensions``).
"""

from __future__ import annotations

import re

_BIBLIOENTRY = re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"')


def _is_thebe(js) -> bool:
    filename = str(getattr(js, "filename", "") or "")
    body = getattr(js, "attributes", {}).get("body", "") or ""
    return filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body


def fix_page(app, pagename, templatename, context, doctree):
    if not app.config.html_theme_options.get("launch_buttons", {}).get("thebe"):
        scripts = context.get("script_files")
        if isinstance(scripts, list):
            scripts[:] = [js for js in scripts if not _is_thebe(js)]
    body = context.get("body")
    if isinstance(body, str):
        body = _BIBLIOENTRY.sub(r'\1 role="listitem"', body)
        context["body"] = body.replace('<summary aria-label="Toggle hidden content">', "<summary>")


def setup(app):
    app.connect("html-page-context", fix_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
