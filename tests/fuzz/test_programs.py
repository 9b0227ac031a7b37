"""The program fuzzer: random NumPy programs through every operator, against finite differences.

The default test run checks ``QUICK_PROGRAMS`` programs. The long run is one command::

    ZYGOTE_NB_FUZZ_PROGRAMS=3000 python -m pytest tests/fuzz -q

(``ZYGOTE_NB_FUZZ_START`` moves the first seed). Even seeds run with
``np = zygote_nb.numpy``, odd seeds with ``np = numpy`` (NumPy's functions
dispatched on traced values; programs that build arrays with ``np.array([...])``
of traced values keep ``zygote_nb.numpy``, because NumPy cannot dispatch that
call). A failure prints each failing program's source, its input and the
operators that disagreed, ready to paste into a session.
"""

import os
import warnings

import numpy

import zygote_nb.numpy as traced_numpy

from .checks import operator_failures
from .generator import generate

QUICK_PROGRAMS = 120


def namespace_for(program):
    """The ``np`` a program runs with: alternating by seed, see the module docstring."""
    if program.seed % 2 == 0 or "np.array(" in program.source:
        return traced_numpy
    return numpy


def failure_reports(seeds) -> list[str]:
    """A report (program, input, disagreements) for every program of ``seeds`` that fails a check."""
    reports = []
    for seed in seeds:
        program = generate(seed)
        namespace = namespace_for(program)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # autograd's "output seems independent of input" and the like
            failures = operator_failures(program.function(namespace), program.x)
        if failures:
            reports.append(f"import numpy\nimport {namespace.__name__} as np\n\n{program}\n"
                           + "\n".join(f"#   {line}" for line in failures))
    return reports


def test_random_programs_agree_with_finite_differences_in_every_operator():
    start = int(os.environ.get("ZYGOTE_NB_FUZZ_START", "0"))
    count = int(os.environ.get("ZYGOTE_NB_FUZZ_PROGRAMS", str(QUICK_PROGRAMS)))
    reports = failure_reports(range(start, start + count))
    assert not reports, f"{len(reports)} of {count} programs failed:\n\n" + "\n\n".join(reports)


def test_a_failing_program_is_reported_with_its_source(monkeypatch):
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "operator_failures",
                        lambda f, x: ["gradient is wrong: [1.] where finite differences give [2.]"])
    (report,) = failure_reports([5])
    program = generate(5)
    assert program.source in report and "x = " in report and "gradient is wrong" in report
    scope = {}
    exec(report, scope)
    numpy.testing.assert_allclose(scope["f"](scope["x"]), program.output)


def test_the_checks_catch_a_wrong_derivative_rule():
    """A primitive whose reverse and forward rules are off by a factor of two is caught in every operator."""
    from autograd.extend import defjvp, defvjp, primitive

    @primitive
    def cube(x):
        return x ** 3

    defvjp(cube, lambda value, x: lambda cotangent: cotangent * 6.0 * x ** 2)
    defjvp(cube, lambda tangent, value, x: tangent * 6.0 * x ** 2)
    failures = operator_failures(lambda x: cube(x) + x, numpy.array([0.5, -1.0]))
    named = {line.split(" is wrong")[0] for line in failures}
    assert named == {"gradient", "jacobian", "jacobian(engine='loop')", "pullback", "forward jvp"}
