"""Independent references for the tests: central finite differences."""

from contextlib import contextmanager

import numpy


def finite_difference_gradient(f, x, step=1e-6):
    """Central differences of the real scalar ``f`` at ``x`` (a float array), in ``x``'s shape."""
    x = numpy.array(x, dtype=float)
    gradient = numpy.zeros_like(x)
    for index in numpy.ndindex(x.shape):
        forward, backward = x.copy(), x.copy()
        forward[index] += step
        backward[index] -= step
        gradient[index] = (f(forward) - f(backward)) / (2 * step)
    return gradient


def finite_difference_jacobian(f, x, step=1e-6):
    """``J[k, i] = ∂ f(x).ravel()[k] / ∂ x.ravel()[i]`` by central differences."""
    x = numpy.array(x, dtype=float)
    columns = []
    for i in range(x.size):
        forward, backward = x.copy().ravel(), x.copy().ravel()
        forward[i] += step
        backward[i] -= step
        difference = numpy.ravel(f(forward.reshape(x.shape))) - numpy.ravel(f(backward.reshape(x.shape)))
        columns.append(difference / (2 * step))
    return numpy.stack(columns, axis=1)


@contextmanager
def terminal_shell(setup: str = "import numpy as np", namespace: dict | None = None):
    """IPython's in-process shell with zygote_nb loaded, showing text only (as a terminal does).

    ``setup`` runs first and ``namespace`` is added; every name they and the test
    add is removed afterwards, and the display formats are put back.
    """
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    names_before = set(shell.user_ns)
    formats_before = shell.display_formatter.active_types
    shell.display_formatter.active_types = ["text/plain"]
    shell.run_cell("%load_ext zygote_nb", store_history=False)
    shell.run_cell(setup, store_history=False)
    shell.user_ns.update(namespace or {})
    try:
        yield shell
    finally:
        shell.run_cell("%unload_ext zygote_nb", store_history=False)
        shell.display_formatter.active_types = formats_before
        for name in set(shell.user_ns) - names_before:
            del shell.user_ns[name]


def terminal_ipython(lines: list, last_prompt: int) -> str:
    """What a real terminal IPython prints for ``lines`` typed one by one, up to the prompt ``In [last_prompt]``.

    The session runs in a pseudo-terminal (pexpect) with this checkout on the
    path and zygote_nb's extension loaded by the lines themselves. A cell
    magic's body ends at an empty line, after which the simple prompt asks once
    more: type two empty lines after one.
    """
    import os
    import shutil
    import sys
    from pathlib import Path

    import pytest

    pexpect = pytest.importorskip("pexpect")
    ipython = shutil.which("ipython", path=os.path.dirname(sys.executable))
    if ipython is None:
        pytest.skip("no ipython next to this Python")
    repository = Path(__file__).resolve().parents[1]
    environment = dict(os.environ, PYTHONPATH=str(repository), TERM="dumb", PYTHONWARNINGS="ignore")
    terminal = pexpect.spawn(ipython, ["--simple-prompt", "--no-banner", "--colors=NoColor",
                                       "--HistoryManager.enabled=False"],
                             env=environment, encoding="utf-8", timeout=120, dimensions=(50, 400))
    try:
        terminal.expect(r"In \[1\]: ")
        for line in lines:
            terminal.sendline(line)
        terminal.expect(rf"In \[{last_prompt}\]: ")
        return " ".join(terminal.before.split())
    finally:
        terminal.sendline("exit")
        terminal.close(force=True)


def embedded_svg(bundle: dict) -> str:
    """The SVG document a display bundle's HTML embeds as ``<img src="data:image/svg+xml;base64,…">``."""
    import base64
    import re

    encoded = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', bundle["text/html"]).group(1)
    return base64.b64decode(encoded).decode("utf-8")
