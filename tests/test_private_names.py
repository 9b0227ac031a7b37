"""No module of the package reaches into another module's private (underscored) names.

autograd's own private names, re-exported by ``zygote_nb.autograd_patches``,
are pinned by ``tests/test_autograd_contract.py`` instead.
"""

import ast
import pathlib

import zygote_nb

PACKAGE = pathlib.Path(zygote_nb.__file__).parent


def _is_private(name):
    return name.startswith("_") and not name.startswith("__")


def _module_file(path, module, level):
    """The package file that ``from <level dots><module> import ...`` in ``path`` names, or None."""
    if level:
        base = path.parent
        for _ in range(level - 1):
            base = base.parent
    else:
        if not (module or "").startswith("zygote_nb"):
            return None
        base = PACKAGE.parent
    target = base.joinpath(*(module or "").split(".")) if module else base
    for candidate in (target.with_suffix(".py"), target / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _defined_names(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def private_uses(path, text=None):
    """``(module file, name)`` for each private name that ``path`` (or ``text`` placed there) reads from another
    package module."""
    tree = ast.parse(path.read_text() if text is None else text)
    found, local_modules = [], {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _module_file(path, node.module, node.level)
        if source is None:
            continue
        for alias in node.names:
            submodule = _module_file(source, alias.name, 1) if source.name == "__init__.py" else None
            if submodule is not None:
                local_modules[alias.asname or alias.name] = submodule
            elif _is_private(alias.name) and alias.name in _defined_names(source):
                found.append((source.name, alias.name))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in local_modules
                and _is_private(node.attr)):
            found.append((local_modules[node.value.id].name, node.attr))
    return found


def test_the_scan_finds_both_kinds_of_reach():
    text = "from .substitution import _Substitution, substituted\nfrom . import substitution\nsubstitution._Place\n"
    assert private_uses(PACKAGE / "sample.py", text) == [("substitution.py", "_Substitution"),
                                                         ("substitution.py", "_Place")]


def test_no_module_reads_another_modules_private_names():
    uses = {str(path.relative_to(PACKAGE)): private_uses(path) for path in sorted(PACKAGE.rglob("*.py"))}
    assert {path: found for path, found in uses.items() if found} == {}
