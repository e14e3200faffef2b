"""Sphinx extension: glued numbers in scientific notation read as a reader writes them.

A number glued with an ``e`` format (``{glue:text}`key:.1e```) reaches the page as Python
writes it, "1.8e-08". This post-transform rewrites the text of every glued value that is
exactly such a number as "1.8 × 10⁻⁸", before the page and its reader notebook
(``_ext/reader_notebooks.py``) are written from the same tree. The glued value itself, which
the claims tests read, is untouched. Only whole values are rewritten: a glued string that
merely contains such a number is left as its author wrote it.

Loaded by ``_config.yml`` (``sphinx.local_extensions``).
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

from vae_lib.views.tables import as_power_of_ten


class GluedNumbers(SphinxPostTransform):
    """Rewrites glued values in scientific notation (myst-nb's ``pasted-text`` nodes)."""

    default_priority = 999  # after myst-nb has resolved the glue references of other pages

    def run(self, **kwargs) -> None:
        for node in self.document.findall(nodes.inline):
            if "pasted-text" in node["classes"] and len(node.children) == 1:
                (child,) = node.children
                if isinstance(child, nodes.Text):
                    shown = as_power_of_ten(child.astext())
                    if shown != child.astext():
                        node.replace(child, nodes.Text(shown))


def setup(app):
    app.add_post_transform(GluedNumbers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
