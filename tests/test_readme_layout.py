"""The README's layout table matches the tree: every path it names exists, and every module and
subpackage of the package is named in it."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def layout_paths():
    """The paths named in the first column of the README's layout table (``a/b.py``, ``c.py`` share a folder)."""
    text = (ROOT / "README.md").read_text()
    table = text.split("## Layout", 1)[1].strip().split("\n\n", 1)[0]
    paths = []
    for row in table.splitlines()[2:]:
        names = re.findall(r"`([^`]+)`", row.split("|")[1])
        folder = pathlib.PurePosixPath(names[0]).parent if "/" in names[0].rstrip("/") else None
        for name in names:
            paths.append(name if "/" in name.rstrip("/") or folder is None else f"{folder}/{name}")
    return paths


def test_every_path_in_the_layout_table_exists():
    missing = [path for path in layout_paths() if not (ROOT / path).exists()]
    assert not missing, f"the README's layout table names paths that do not exist: {missing}"


def test_every_module_and_subpackage_of_the_package_is_in_the_layout_table():
    named = {path.rstrip("/") for path in layout_paths()}
    package = ROOT / "zygote_nb"
    parts = [f"zygote_nb/{entry.name}" for entry in package.iterdir()
             if (entry.suffix == ".py" and entry.name != "__init__.py")
             or (entry.is_dir() and (entry / "__init__.py").exists())]
    unnamed = sorted(part for part in parts if part not in named)
    assert not unnamed, f"add these to the README's layout table: {unnamed}"
