"""notebooks/magics_demo.ipynb through a real kernel: every magic and option runs, heatmaps come back once each."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from test_notebooks import TIME_LIMIT_SECONDS, kernel_manager

DEMO = Path(__file__).resolve().parents[2] / "notebooks" / "magics_demo.ipynb"


def magic_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith("%%")]


def test_demo_uses_every_magic_and_option():
    sources = "\n".join(cell.source.splitlines()[0] for cell in magic_cells(nbformat.read(DEMO, as_version=4)))
    for word in ("%%gradient", "%%jacobian", "%%hessian", "--check", "--no-widget", "-o", "--no-plot", "--reverse",
                 "--memory-budget", "%%gradient?"):
        assert word in sources


@pytest.mark.slow
def test_demo_runs_without_errors_and_shows_heatmaps(tmp_path):
    notebook = nbformat.read(DEMO, as_version=4)
    NotebookClient(notebook, km=kernel_manager(tmp_path / "kernels"), timeout=TIME_LIMIT_SECONDS,
                   resources={"metadata": {"path": str(DEMO.parent)}}).execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors
    for cell in magic_cells(notebook):
        header = cell.source.splitlines()[0]
        # Each picture once per output: as image/png, or embedded in the HTML, never both.
        images = sum(("image/png" in data) + data.get("text/html", "").count("data:image/png")
                     for data in (output.get("data", {}) for output in cell.outputs))
        if header.endswith("?"):
            continue
        if header.startswith(("%%jacobian", "%%hessian")):
            assert images == (0 if "--no-plot" in header else 1), header
        assert any("text/plain" in output.get("data", {}) for output in cell.outputs), header
