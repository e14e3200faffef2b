"""Copy the site's front-end assets from node_modules/ (after `npm ci`) into _assets/vendor/.

The book serves these itself, so that no page asks a third-party CDN for anything:

- require.js, which the ipywidgets HTML manager needs;
- @jupyter-widgets/html-manager's embed-amd.js (base, controls and output widgets built in)
  and the font files next to it;
- MathJax 3 (its es5/ build: the tex-mml-chtml component, the extensions it loads on demand,
  and the CHTML fonts).

`_config.yml` lists `_assets` in `html_extra_path`, so the folder lands at `_build/html/vendor/`
(not under `_static/`: Jupyter Book adds every `.js` found in a static path to every page).
Each package's licence is copied beside it, and `vendor/VERSIONS.txt` records the versions.

Usage: python scripts/vendor_assets.py  (run by `make assets`)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
OUT = ROOT / "_assets" / "vendor"

# package -> (files or folders inside the package, destination folder under vendor/)
PACKAGES = {
    "requirejs": (["require.js"], "requirejs"),
    "@jupyter-widgets/html-manager": (["dist"], "html-manager"),
    "mathjax": (["es5", "LICENSE"], "mathjax"),
}
# Not needed by the page: the non-AMD bundle, its source map, the AMD library that
# embed-amd.js already contains, and MathJax's latest.js (which loads MathJax from a CDN).
SKIP = {"embed.js", "embed.js.map", "embed.js.LICENSE.txt", "libembed-amd.js", "latest.js"}

# Loaded before require.js and embed-amd.js on pages with widgets (see _config.yml).
WIDGETS_SETUP_JS = """\
// Written by scripts/vendor_assets.py; loaded before require.js and embed-amd.js.
(function () {
  var vendor = new URL(".", document.currentScript.src).href;
  // The widget manager's modules live in html-manager/ next to this file: tell require.js
  // (a `require` object defined before require.js loads is its configuration), so that the
  // manager finds its own files (fonts) there rather than relative to the page.
  window.require = {paths: {"@jupyter-widgets/html-manager/dist": vendor + "html-manager"}};
  window.__jupyter_widgets_assets_path__ = vendor + "html-manager/";
  // ipywidgets typesets labels with MathJax 2's MathJax.Hub.Queue; the site has MathJax 3.
  window.addEventListener("load", function () {
    if (window.MathJax && !window.MathJax.Hub) {
      window.MathJax.Hub = {
        Queue: function (job) {
          var element = job[2];
          if (window.MathJax.startup && window.MathJax.typesetPromise && element) {
            window.MathJax.startup.promise.then(function () {
              return window.MathJax.typesetPromise([element]);
            });
          }
        },
      };
    }
  });
  // ipywidgets' slider handles (noUiSlider, role="slider") and toggle-button groups have no
  // accessible name: give each the text of its widget's label. And drop the title="null"
  // that ipywidgets leaves on labels without a tooltip.
  function nameControls() {
    document.querySelectorAll(".widget-inline-hbox > .widget-label").forEach(function (label) {
      if (label.getAttribute("title") === "null") label.removeAttribute("title");
      var row = label.parentElement;
      var name = label.textContent.trim();
      if (!name) return;
      row.querySelectorAll('[role="slider"], select, input').forEach(function (el) {
        if (!el.hasAttribute("aria-label")) el.setAttribute("aria-label", name);
      });
      if (row.classList.contains("widget-toggle-buttons") && !row.hasAttribute("role")) {
        row.setAttribute("role", "group");
        row.setAttribute("aria-label", name);
      }
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      nameControls();
    });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
"""


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        dst.mkdir(parents=True, exist_ok=True)
        for child in sorted(src.iterdir()):
            if child.name not in SKIP and not child.name.endswith(".map"):
                _copy(child, dst / child.name)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def main() -> int:
    if not NODE.is_dir():
        print(f"error: {NODE} is missing; run `npm ci` first (make assets does)", file=sys.stderr)
        return 1
    if OUT.exists():
        shutil.rmtree(OUT)
    versions = []
    for package, (parts, dest) in PACKAGES.items():
        pkg_dir = NODE / package
        meta = json.loads((pkg_dir / "package.json").read_text())
        versions.append(f"{package} {meta['version']} ({meta.get('license', '?')})")
        for part in parts:
            src = pkg_dir / part
            if not src.exists():
                print(f"error: {src} is missing from the npm package", file=sys.stderr)
                return 1
            # dist/ and es5/ are flattened into the destination folder
            target = OUT / dest if src.is_dir() else OUT / dest / src.name
            _copy(src, target)
        for licence in ("LICENSE", "LICENSE.txt", "LICENSE.md"):
            if (pkg_dir / licence).is_file():
                shutil.copy2(pkg_dir / licence, OUT / dest / "LICENSE")
    (OUT / "widgets-setup.js").write_text(WIDGETS_SETUP_JS)
    (OUT / "VERSIONS.txt").write_text("\n".join(versions) + "\n")
    for required in (
        "requirejs/require.js",
        "html-manager/embed-amd.js",
        "mathjax/tex-mml-chtml.js",
        "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
    ):
        if not (OUT / required).is_file():
            print(f"error: {OUT / required} was not produced", file=sys.stderr)
            return 1
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"vendored {', '.join(versions)} into {OUT.relative_to(ROOT)} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
