"""Importing zygote_nb leaves autograd as it is for code that uses autograd directly.

The same battery of plain-autograd calls runs in two fresh interpreters, one
that imports zygote_nb (and its notebook layer) first; every result, error
and warning must be identical.  The battery includes rules autograd gets wrong
(``tile`` with short reps, ``repeat`` with a negative axis, ``outer`` of a
matrix), so a global re-registration of a rule by anyone is caught, and the
protocols zygote_nb adds only to its own traces (integers, NumPy's
``__array_function__`` and ``__array__``), rules zygote_nb gives autograd's
own primitives (kept in zygote_nb's tables: a forward rule autograd lacks, one
it gets wrong, a reverse rule on a ufunc autograd wraps without one), and the
methods zygote_nb adds to ``ArrayBox``.
"""

import json
import subprocess
import sys
import textwrap

BATTERY = textwrap.dedent("""
    import json, sys, warnings
    if sys.argv[1] == "with":
        import zygote_nb, zygote_nb.numpy, zygote_nb.notebook.magics  # noqa: F401
    import numpy
    import autograd.numpy as anp
    from autograd import elementwise_grad, grad, hessian, jacobian
    from autograd.core import make_jvp
    from autograd.extend import defvjp, primitive

    positive = primitive(lambda x: numpy.greater(x, 0.0))  # a NumPy bool
    defvjp(positive, lambda ans, x: lambda g: 0.0 * g)
    if sys.argv[1] == "with":  # a per-sample call installs the guards of autograd_patches.guarded_trace for good
        zygote_nb.per_sample_gradients(lambda w, x: zygote_nb.numpy.sum(w * x), numpy.ones(2), numpy.eye(2))

    v = numpy.array([0.3, -1.2, 0.8])
    M = numpy.array([[0.3, -1.2, 0.8], [0.5, 0.1, -0.7]])
    W = numpy.array([[1.0, 2.0, 0.5], [3.0, -4.0, 1.5]])
    calls = {
        "int argument": lambda: grad(lambda x: x * x)(3),
        "numpy int argument": lambda: grad(lambda x: x * x)(numpy.int64(3)),
        "float argument": lambda: grad(lambda x: x * x)(3.0),
        "int output": lambda: grad(lambda x: 3)(2.0),
        "jacobian of an int output": lambda: jacobian(lambda x: 3)(2.0),
        "int argument forward": lambda: make_jvp(lambda x: x * x, 3)(1.0),
        "tile with short reps": lambda: grad(lambda x: anp.sum(anp.tile(x, 2) * numpy.arange(12.).reshape(2, 6)))(M),
        "repeat with a negative axis": lambda: grad(lambda x: anp.sum(anp.repeat(x, 2, axis=-1) * numpy.arange(6.)))(v),
        "outer of a non-vector": lambda: grad(lambda x: anp.sum(anp.outer(numpy.array([1.0, 2.0]) * x, x * x) ** 2))(1.4),
        "norm with keepdims": lambda: grad(lambda x: anp.sum(anp.linalg.norm(2.0 * x, axis=1, keepdims=True)))(M),
        "where with a broadcast branch": lambda: grad(lambda s: anp.sum(anp.where(v > 0, v, s)))(0.4),
        "flip": lambda: grad(lambda x: anp.sum(anp.flip(x, axis=0) * v))(v),
        "diagonal": lambda: grad(lambda x: anp.sum(anp.diagonal(x)))(numpy.eye(3)),
        "einsum trace": lambda: grad(lambda x: anp.sum(anp.einsum("ii->i", x)))(numpy.eye(3)),
        "broadcast_to a leading axis": lambda: grad(lambda x: anp.sum(anp.broadcast_to(x, (2, 3))))(v),
        "hessian of tanh": lambda: hessian(lambda x: anp.sum(anp.tanh(x) ** 2))(v),
        "elementwise sin": lambda: elementwise_grad(anp.sin)(v),
        "forward sin": lambda: make_jvp(anp.sin, v)(v),
        "forward tile": lambda: make_jvp(lambda x: anp.tile(x, 2), v)(v),
        "plain numpy.dot on a box": lambda: grad(lambda x: anp.sum(numpy.dot(W, x)))(v),
        "plain numpy.sum on a box": lambda: grad(lambda x: numpy.sum(x * x))(v),
        "plain numpy.asarray of a box": lambda: grad(lambda x: anp.sum(numpy.asarray(x) * 2.0))(v),
        "plain numpy.asarray to float": lambda: grad(lambda x: anp.sum(numpy.asarray(x, dtype=float)))(v),
        "plain numpy.linalg.det on a box": lambda: grad(lambda x: numpy.linalg.det(x))(numpy.eye(2) * 2),
        "a Python decision on a box": lambda: grad(lambda x: 2.0 * x if x else x)(1.5),
        "a primitive that returns a NumPy bool": lambda: grad(lambda x: positive(x) * x)(1.5),
        "plain numpy.concatenate on boxes": lambda: grad(lambda x: anp.sum(numpy.concatenate([x, x])))(v),
        # zygote_nb's rules on autograd's own primitives live in zygote_nb's tables:
        "forward det (autograd has no rule)": lambda: make_jvp(anp.linalg.det, W[:, :2])(numpy.eye(2)),
        "forward astype (autograd has no rule)": lambda: make_jvp(lambda x: x.astype(float), v)(v),
        "forward fft (autograd has no rule)": lambda: make_jvp(anp.fft.fft, v)(v),
        "forward var with a tuple axis (autograd's rule fails)": lambda: make_jvp(lambda x: anp.var(x, axis=(0, 1)), M)(M),
        "forward norm with keepdims (autograd's rule fails)":
            lambda: make_jvp(lambda x: anp.linalg.norm(x, axis=1, keepdims=True), M)(M),
        "reverse cbrt (autograd wraps it without a rule)": lambda: grad(lambda x: anp.sum(anp.cbrt(x)))(v),
        "reverse copysign (autograd wraps it without a rule)": lambda: grad(lambda x: anp.sum(anp.copysign(x, -1.0)))(v),
        "forward asarray": lambda: make_jvp(anp.asarray, v)(v),
        # ... and the methods zygote_nb adds to ArrayBox are seen only inside its traces:
        "a missing method": lambda: grad(lambda x: anp.sum(x.copy()))(v),
        "a missing operator": lambda: grad(lambda x: anp.sum(x // 2.0 + x))(v),
        "a missing conversion": lambda: grad(lambda x: float(x))(0.5),
        "a method autograd has": lambda: grad(lambda x: anp.sum(x.repeat(2, axis=-1) * numpy.arange(6.)))(v),
        "a method forward": lambda: make_jvp(lambda x: x.sum(axis=0), M)(M),
    }

    def described(value):
        if isinstance(value, tuple):
            return [described(part) for part in value]
        if isinstance(value, (numpy.ndarray, numpy.generic, float, int)):
            array = numpy.asarray(value)
            if array.dtype == object:
                return ["object array", list(array.shape), type(array.flat[0]).__name__ if array.size else None]
            return [str(array.dtype), numpy.round(array.astype(float), 10).tolist()]
        return type(value).__name__

    results = {}
    for name, call in calls.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                outcome = ["value", described(call())]
            except Exception as error:
                outcome = ["error", type(error).__name__, str(error).splitlines()[0][:200] if str(error) else ""]
        results[name] = outcome + [sorted({f"{w.category.__name__}: {w.message}" for w in caught})]
    print(json.dumps(results))
""")


def run_battery(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", BATTERY, mode], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_plain_autograd_calls_give_the_same_results_errors_and_warnings_after_import_zygote_nb():
    alone, beside = run_battery("without"), run_battery("with")
    assert alone["int argument"][:2] == ["error", "TypeError"]  # the battery reaches what it is meant to
    assert alone["tile with short reps"][0] == "value"
    assert alone["forward det (autograd has no rule)"][:2] == ["error", "NotImplementedError"]
    assert alone["reverse cbrt (autograd wraps it without a rule)"][:2] == ["error", "NotImplementedError"]
    assert alone["a missing method"][:2] == ["error", "AttributeError"]
    changed = {name: (alone[name], beside[name]) for name in alone if alone[name] != beside[name]}
    assert not changed, f"importing zygote_nb changed plain autograd: {changed}"
