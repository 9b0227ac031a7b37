"""The documentation site: every example on its pages runs, and the Sphinx build has no warnings.

The pages' ``pycon`` blocks are doctests, checked here against the package as it is
(Sphinx itself does not run them). The build is ``make docs``: Sphinx with
warnings as errors, myst-nb executing every notebook, autodoc reading the
docstrings.
"""

import doctest
import subprocess
import sys
import time
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(DOCS.glob("*.md"))
BUILD_TIME_LIMIT_SECONDS = 180


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_examples_on_the_page_run(page):
    result = doctest.testfile(str(page), module_relative=False, report=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {page.name} failed (see above)"


def test_every_notebook_is_on_the_site():
    index = (DOCS / "index.md").read_text()
    assert ":glob:" in index and "notebooks/*" in index
    assert (DOCS / "notebooks").resolve() == (DOCS.parent / "notebooks").resolve()


@pytest.mark.slow
def test_site_builds_without_warnings_in_under_three_minutes(tmp_path):
    start = time.perf_counter()
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-d", str(tmp_path / "doctrees"),
         str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=2 * BUILD_TIME_LIMIT_SECONDS)
    seconds = time.perf_counter() - start
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-6000:]
    assert (tmp_path / "html" / "index.html").exists()
    assert (tmp_path / "html" / "notebooks" / "01_tour.html").exists()
    # widget views fall back to their HTML bundle: the flow view's NaN banner is on the page
    debugging = (tmp_path / "html" / "notebooks" / "03_debugging_gradients.html").read_text()
    assert "first Inf in the forward pass" in debugging
    assert seconds < BUILD_TIME_LIMIT_SECONDS, f"the docs build took {seconds:.0f}s"
