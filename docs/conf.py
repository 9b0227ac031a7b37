"""Sphinx configuration for the zygote_nb documentation (built by ``make docs`` with warnings as errors)."""

import zygote_nb

project = "zygote_nb"
author = "the zygote_nb authors"
copyright = "the zygote_nb authors"
release = version = getattr(zygote_nb, "__version__", "0.1.0")

extensions = [
    "myst_nb",  # Markdown pages and the notebooks in notebooks/ (linked here as docs/notebooks)
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build", "jupyter_execute", "**/.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# The notebooks are executed afresh on every build, with caching off, so that the
# site always shows the outputs of the code as it is now (they are stored without
# outputs). tests/test_notebooks.py also runs them, one by one with a per-notebook
# limit; executing them here as well costs about a minute and is what puts their
# pictures on the site. A cell that raises fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 120
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# A static page has no kernel behind its widgets, and the widget state is not saved
# when myst-nb executes a notebook: show the HTML (with its PNG) that every view of
# zygote_nb carries beside the widget instead.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": False}

html_theme = "alabaster"
html_title = "zygote_nb"
html_theme_options = {
    "description": "Zygote.jl's differentiation utilities for NumPy code, in a notebook.",
    "fixed_sidebar": True,
}
