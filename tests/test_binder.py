"""mybinder's recipe works from a clean slate: a new virtual environment, ``binder/requirements.txt``,
then ``binder/postBuild`` run in a copy of this checkout, and the tour notebook runs in it.

This needs the package index (as mybinder does) and takes a minute or two.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_notebooks import execute_notebook

ROOT = Path(__file__).resolve().parent.parent
NOT_PART_OF_A_CHECKOUT = shutil.ignore_patterns(
    ".git", ".venv", "_build", "jupyter_execute", ".hypothesis", "__pycache__", "*.egg-info", "build",
    "test-artifacts", ".ipynb_checkpoints")


def run(command, **options):
    result = subprocess.run(command, capture_output=True, text=True, **options)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_binder_folder_has_what_mybinder_reads():
    assert (ROOT / "binder" / "requirements.txt").is_file()
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"


def lower_bounds(requirements) -> dict:
    """``{"numpy": (2, 2), ...}`` from lines like ``numpy>=2.2`` (comments and blank lines skipped)."""
    bounds = {}
    for line in requirements:
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.split(",")[0].partition(">=")
            bounds[name.strip().lower().replace("_", "-")] = tuple(int(part) for part in version.split(".")) if version else ()
    return bounds


def test_binder_requirements_keep_in_step_with_the_package_dependencies():
    tomllib = pytest.importorskip("tomllib")
    package = lower_bounds(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    binder = lower_bounds((ROOT / "binder" / "requirements.txt").read_text().splitlines())
    behind = {name: bound for name, bound in package.items() if name not in binder or binder[name] < bound}
    assert not behind, f"binder/requirements.txt lacks or allows older versions of {behind} than pyproject.toml"


@pytest.mark.slow
def test_tour_runs_in_an_environment_built_from_the_binder_files_alone(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=NOT_PART_OF_A_CHECKOUT, symlinks=True)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    run([python, "-m", "pip", "install", "--quiet", "-r", str(checkout / "binder" / "requirements.txt")],
        timeout=900)

    # As repo2docker does: the environment's bin first on PATH, postBuild run from the repository root.
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv))
    run(["bash", str(checkout / "binder" / "postBuild")], cwd=checkout, env=env, timeout=900)

    installed_at = run([python, "-c", "import zygote_nb; print(zygote_nb.__file__)"], cwd=tmp_path, env=env)
    assert str(venv) in installed_at, f"zygote_nb came from {installed_at}, not from the binder environment"
    execute_notebook(checkout / "notebooks" / "01_tour.ipynb", tmp_path / "kernels", python=python, env=env)
