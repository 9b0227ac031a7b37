"""Every notebook in notebooks/ is stored clean and runs top to bottom on a fresh kernel.

The kernel is this interpreter (``sys.executable``), described by a kernelspec
written to a temporary folder, so the test does not depend on which kernels a
machine happens to have installed.
"""

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
TIME_LIMIT_SECONDS = 120


def kernel_manager(kernels_folder: Path, python: str = sys.executable) -> KernelManager:
    """A manager for a ``python3`` kernel that runs ``python`` (which must have ipykernel)."""
    spec_folder = kernels_folder / "python3"
    spec_folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3", "language": "python"}
    (spec_folder / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(kernels_folder)], ensure_native_kernel=False)
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


def execute_notebook(path: Path, kernels_folder: Path, python: str = sys.executable, env: dict | None = None) -> float:
    """Run the notebook at ``path`` in its own folder; return the seconds it took. Raises on any error.

    ``env``, if given, is the kernel's whole environment.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, km=kernel_manager(kernels_folder, python), timeout=TIME_LIMIT_SECONDS,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(**({} if env is None else {"env": env}))
    return time.perf_counter() - start


def test_the_teaching_notebooks_exist():
    names = {path.name for path in NOTEBOOK_PATHS}
    assert {"01_tour.ipynb", "02_jacobians_and_hessians.ipynb", "03_debugging_gradients.ipynb",
            "04_training_with_params.ipynb"} <= names


# SPEC section 2, call by call (Grads' interface included): the tour shows each one.
TOUR_CALLS = [
    "zn.gradient(", "zn.withgradient(", "zn.jacobian(", "zn.withjacobian(", "zn.hessian(", "zn.hessian_reverse(",
    "zn.diaghessian(", "zn.showgrad(", "zn.hook(", "zn.Buffer(", "copy(buf)", "buf.copy()", "zn.forwarddiff(",
    "zn.checkpointed(", "zn.eager_update(", "zn.ignore_derivatives(x)", "with zn.ignore_derivatives():",
    "zn.Params(", "zn.IdDict(", "gs1 + gs2", "gs1 - gs2", "2 * gs1", "gs1 / 2", "-gs1", "gs += ", ".map(",
    ".foreach(", ".copy_to(", ".copy_from(", " in gs", "len(gs)", "zn.pullback(",
]


def test_the_tour_shows_every_call_of_the_differentiation_api():
    notebook = nbformat.read(NOTEBOOKS / "01_tour.ipynb", as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    missing = [call for call in TOUR_CALLS if call not in code]
    assert not missing, f"01_tour.ipynb does not show {missing}"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[path.name for path in NOTEBOOK_PATHS])
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [index for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[path.name for path in NOTEBOOK_PATHS])
def test_notebook_runs_top_to_bottom_in_under_two_minutes(path, tmp_path):
    seconds = execute_notebook(path, tmp_path / "kernels")
    assert seconds < TIME_LIMIT_SECONDS, f"{path.name} took {seconds:.0f}s"
