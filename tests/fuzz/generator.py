"""A seeded generator of random NumPy programs, written out as Python source.

A program is a straight-line function ``f(x)``: each line applies one NumPy
operation (with keyword forms such as a negative or tuple ``axis``,
``keepdims``, Python-float and integer arguments, broadcasting constants,
fancy and boolean indices, joins, linear algebra) to earlier lines' values.
Every candidate line is run on plain NumPy while the program is generated and
kept only if NumPy accepts it and its values stay finite and moderate, so a
program always runs; whether zygote_nb differentiates it right is what
:mod:`fuzz.checks` finds out.

The source names the namespace ``np``: the checks run each program with
``np = zygote_nb.numpy`` and with ``np = numpy`` (NumPy calls dispatched on
traced values), and some lines call array methods (``v.sum(axis=0)``).
Constants are written as literals, so a printed program reproduces by itself.

>>> program = generate(3)
>>> program.source.splitlines()[0]
'def f(x):'
>>> numpy.shape(program.function(numpy)(program.x)) == numpy.shape(program.output)
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy

# ----- operation templates: (rng, name, value) -> expression text, or None where it does not apply -----


def _constant(rng, shape) -> str:
    values = numpy.round(rng.uniform(-1.0, 1.0, size=shape), 2)
    return f"numpy.array({values.tolist()!r})" if shape else repr(float(values))


def _broadcastable_shape(rng, shape) -> tuple:
    """A shape that broadcasts against ``shape``: some trailing axes, some of them of length one."""
    kept = shape[len(shape) - int(rng.integers(0, len(shape) + 1)):]
    return tuple(1 if rng.random() < 0.3 else size for size in kept)


def _axis(rng, ndim, allow_tuple=True) -> str | None:
    if ndim == 0:
        return None
    choice = rng.random()
    if choice < 0.25:
        return "None"
    if allow_tuple and ndim >= 2 and choice < 0.45:
        axes = sorted(rng.choice(ndim, size=2, replace=False).tolist())
        return repr(tuple(axis - ndim if rng.random() < 0.5 else axis for axis in axes))
    axis = int(rng.integers(0, ndim))
    return str(axis - ndim if rng.random() < 0.5 else axis)


_SMOOTH_UNARY = [
    "np.sin({v})", "np.cos({v})", "np.tanh({v})", "np.exp(0.3 * {v})", "np.arctan({v})",
    "np.sinh(0.5 * {v})", "np.log1p({v} ** 2)", "np.sqrt(1.0 + {v} ** 2)", "np.square({v})",
    "{v} ** 3", "-{v}", "np.expm1(0.3 * {v})", "np.log(1.5 + {v} ** 2)", "1.0 / (2.0 + np.sin({v}))",
    "np.abs({v})", "np.cosh(0.5 * {v})", "np.arcsinh({v})", "np.power({v}, 2)", "{v} ** 2.0",
    "np.clip({v}, -0.5, 0.5)", "np.maximum({v}, 0.1)", "np.fmin({v}, -0.2)", "np.hypot({v}, 0.7)",
    "np.logaddexp({v}, 0.3)", "np.arctan2({v}, 1.3)", "np.sign({v}) * {v}", "2 * {v} + 1",
    "np.real({v})", "np.conj({v})", "{v}.copy()", "np.positive({v})", "np.arcsin(0.5 * np.tanh({v}))",
    "np.arccos(0.5 * np.tanh({v}))", "np.arctanh(0.5 * np.tanh({v}))", "np.log2(2.0 + {v} ** 2)",
    "np.log10(1.0 + {v} ** 2)", "np.exp2({v})", "np.cbrt(1.5 + {v} ** 2)", "np.reciprocal(1.5 + {v} ** 2)",
    "np.sinc({v})", "np.fmax({v}, 0.2)", "np.logaddexp2({v}, -0.4)", "np.true_divide({v}, 3)",
    "np.power(1.5 + {v} ** 2, 0.5)", "{v} ** 3 * 2", "3 * {v}", "{v} - 1", "np.nan_to_num({v})",
    "np.deg2rad({v})", "np.rad2deg(0.01 * {v})", "np.fabs({v})", "np.trunc({v}) + {v}",
    "np.floor({v}) * 0.0 + {v}", "{v} % 0.7", "np.mod({v}, 2)", "np.round({v}, 1) + {v}",
    "np.heaviside({v}, 0.5) * {v}", "np.tan(0.5 * {v})", "np.arccosh(1.5 + {v} ** 2)",
]


def _unary(rng, name, value):
    return rng.choice(_SMOOTH_UNARY).format(v=name)


def _binary_constant(rng, name, value):
    constant = _constant(rng, _broadcastable_shape(rng, numpy.shape(value)))
    form = rng.choice(["{v} + {c}", "{c} - {v}", "{v} * {c}", "{v} / (1.5 + {c} ** 2)", "np.multiply({c}, {v})",
                       "np.subtract({v}, {c})", "np.where({c} > 0, {v}, {v} ** 2)", "np.where({v} > {c}, {v}, 0.25)",
                       "np.where({c} > 0, 0.5, {v})", "np.maximum({v}, {c})", "{v} // 2 + {v}",
                       "np.divide({c}, 2.0 + np.cos({v}))", "np.arctan2({c}, 1.5 + {v} ** 2)"])
    return form.format(v=name, c=constant)


def _reduction(rng, name, value):
    ndim = numpy.ndim(value)
    if ndim == 0:
        return None
    function = rng.choice(["sum", "mean", "max", "min", "prod", "std", "var", "amax", "amin", "average"])
    axis = _axis(rng, ndim)
    keepdims = ", keepdims=True" if rng.random() < 0.4 else ""
    argument = f"(0.5 + 0.3 * {name})" if function == "prod" else name
    if function in ("std", "var"):
        argument = f"({name} + {_constant(rng, numpy.shape(value))})"
    if function == "average":
        return f"np.average({argument}, axis={axis})"
    if function in ("std", "var") and rng.random() < 0.3:
        keepdims += ", ddof=1"
    if rng.random() < 0.3 and not function.startswith("am"):
        return f"{argument}.{function}(axis={axis}{keepdims})"
    return f"np.{function}({argument}, axis={axis}{keepdims})"


def _scan(rng, name, value):
    ndim = numpy.ndim(value)
    if ndim == 0:
        return None
    axis = int(rng.integers(-ndim, ndim))
    return rng.choice([f"np.cumsum({name}, axis={axis})", f"np.cumprod(0.5 + 0.3 * {name}, axis={axis})",
                       f"np.roll({name}, 1, axis={axis})", f"np.flip({name}, axis={axis})",
                       f"np.sort({name}, axis={axis})", f"np.diff({name}, axis={axis})",
                       f"np.cumsum({name})", f"np.roll({name}, -2)", f"np.cumulative_sum({name}, axis={axis})",
                       f"np.sort({name}, axis=None)", f"np.cumsum({name}, axis={axis}) * {name}"])


def _reshape(rng, name, value):
    shape, ndim = numpy.shape(value), numpy.ndim(value)
    forms = [f"np.reshape({name}, (-1,))", f"{name}[None]", f"np.expand_dims({name}, -1)",
             f"np.broadcast_to({name}, (2,) + {shape!r})", f"np.tile({name}, 2)", f"np.atleast_2d({name})",
             f"np.repeat({name}, 2)", f"np.tile({name}, (2, 1))", f"{name}.ravel()", f"np.atleast_3d({name})",
             f"np.expand_dims({name}, (0, -1))", f"np.squeeze({name}[None, ..., None])", f"np.diag(np.ravel({name}))",
             f"np.reshape({name}, (1, -1), order='F')", f"np.pad({name}, 1)", f"{name}.repeat(3, axis=None)",
             f"np.tile({name}, (2, 1, 1))", f"np.broadcast_to({name}, (3,) + {shape!r})[1:]"]
    if ndim >= 1:
        axis = int(rng.integers(-ndim, ndim))
        forms += [f"np.repeat({name}, 2, axis={axis})", f"np.repeat({name}, {[1, 2] * 3}[:{shape[axis]}], axis={axis})",
                  f"np.flip({name})", f"np.tile({name}, (1,) * {ndim} + (2,))"]
    if ndim >= 2:
        forms += [f"np.transpose({name})", f"np.swapaxes({name}, 0, -1)", f"np.moveaxis({name}, 0, -1)",
                  f"{name}.T", f"np.reshape({name}, ({shape[-1]}, -1))", f"np.squeeze({name}[:1], axis=0)",
                  f"np.diagonal({name})", f"np.diagonal({name}, 0, -1, 0)", f"np.triu({name})",
                  f"np.tril({name}, -1)", f"np.diagonal({name}, offset=1)", f"{name}.diagonal(axis1=-1, axis2=-2)",
                  f"np.rot90({name})", f"np.fliplr({name})", f"np.flipud({name})", f"np.diag({name})",
                  f"np.matrix_transpose({name})", f"np.flip({name}, axis=(0, -1))", f"np.roll({name}, (1, 2), axis=(0, 1))",
                  f"np.diagonal({name}, -1, 1, 0)", f"np.trace({name}, axis1=-1, axis2=0)"]
    return rng.choice(forms)


def _index(rng, name, value):
    shape, ndim = numpy.shape(value), numpy.ndim(value)
    if ndim == 0:
        return None
    first = shape[0]
    indices = rng.integers(0, first, size=int(rng.integers(1, 4))).tolist()
    mask = (rng.random(first) < 0.6).tolist()
    forms = [f"{name}[1:]", f"{name}[::-1]", f"{name}[{indices!r}]", f"{name}[numpy.array({mask!r})]",
             f"{name}[..., -1]", f"{name}[{int(rng.integers(-first, first))}]",
             f"np.take({name}, {indices!r}, axis=0)", f"{name}[{name} > 0.1]", f"{name}.take({indices!r})",
             f"np.take({name}, {indices!r})", f"{name}[numpy.array({indices!r})]", f"{name}[-1:0:-1]",
             f"np.split({name}, [1])[1]", f"np.array_split({name}, 2)[0]", f"{name}[numpy.array({indices!r}) % 2]"]
    if ndim >= 2:
        second = shape[1]
        forms += [f"{name}[:, {rng.integers(0, second, size=2).tolist()!r}]",
                  f"{name}[{indices!r}, {rng.integers(0, second, size=len(indices)).tolist()!r}]",
                  f"{name}[:, None, 1:]"]
    return rng.choice(forms)


def _join(rng, name, value):
    shape, ndim = numpy.shape(value), numpy.ndim(value)
    other = f"np.sin({name})"
    forms = [f"np.stack([{name}, {other}], axis={int(rng.integers(-ndim - 1, ndim + 1))})",
             f"np.hstack([{name}, {other}])", f"np.vstack([{name}, {_constant(rng, shape)}])",
             f"np.array([{name}, 2.0 * {name}])"]
    if ndim >= 1:
        forms += [f"np.concatenate([{name}, {other}, {name} ** 2], axis={int(rng.integers(-ndim, ndim))})",
                  f"np.concatenate([{name}, {name}], axis=None)", f"np.column_stack([{name}, {name} ** 2])",
                  f"np.dstack([{name}, {other}])", f"np.select([{name} > 0, {name} < -0.5], [{name}, 0.5], 0.1)",
                  f"np.concatenate([{name}, {_constant(rng, shape)}], axis=-1)", f"np.unstack({name}, axis=-1)[0]"]
    return rng.choice(forms)


def _product(rng, name, value):
    shape, ndim = numpy.shape(value), numpy.ndim(value)
    forms = [f"np.outer({name}, {name} * 2.0)", f"np.outer({_constant(rng, (2,))}, {name})", f"np.kron({name}, {name})",
             f"np.inner({name}, {name})", f"np.vdot({name}, {name})", f"np.tensordot({name}, {name}, axes=0)"]
    if ndim >= 1:
        last = shape[-1]
        forms += [f"np.dot({name}, {_constant(rng, (last, 2))})", f"{name} @ {_constant(rng, (last,))}",
                  f"np.matmul({_constant(rng, (2, last))}, np.swapaxes(np.atleast_2d({name}), -1, -2))",
                  f"np.tensordot({name}, {_constant(rng, (last,))}, axes=1)", f"{name}.dot({name})"
                  if ndim == 1 else f"np.einsum('...i,...i->...', {name}, {name})",
                  f"np.einsum('...i->...', {name})", f"np.vecdot({name}, {name})",
                  f"np.einsum('...i,i->...i', {name}, {_constant(rng, (last,))})"]
        if last == 3:
            forms += [f"np.cross({name}, {_constant(rng, (3,))})"]
    if ndim == 2:
        forms += [f"np.einsum('ij,kj->ik', {name}, {name})", f"np.einsum('ij->', {name})",
                  f"np.tensordot({name}, {name}, axes=([0], [0]))", f"np.trace({name} @ {name}.T)"]
        if shape[0] == shape[1]:
            forms += [f"np.einsum('ii->i', {name})", f"np.einsum('ii', {name})", f"np.trace({name}, offset=1)"]
    return rng.choice(forms)


def _linalg(rng, name, value):
    shape, ndim = numpy.shape(value), numpy.ndim(value)
    if ndim == 0:
        return None
    forms = [f"np.linalg.norm({name})", f"np.linalg.norm({name}, axis=-1, keepdims=True)",
             f"np.linalg.norm(2.0 * {name}, axis={int(rng.integers(-ndim, ndim))})",
             f"np.linalg.norm({name}, {rng.choice(['1', 'numpy.inf', '-numpy.inf', '3', '0.5'])}, axis=-1)",
             f"np.linalg.vector_norm({name}, ord=3)"]
    if ndim == 2:
        summing_order = rng.choice(["1", "numpy.inf", "None", "'fro'"])
        spectral_order = rng.choice(["2", "-2", "'nuc'"])
        forms += [f"np.linalg.norm({name}, {summing_order})",
                  f"np.linalg.norm({name}, axis=(0, 1), keepdims=True)",
                  f"np.linalg.norm({name}, {spectral_order})"]
        if shape[0] == shape[1]:
            square = f"({name} @ {name}.T + 3.0 * numpy.eye({shape[0]}))"
            forms += [f"np.linalg.det({square})", f"np.linalg.inv({square})",
                      f"np.linalg.solve({square}, {_constant(rng, shape[:1])})",
                      f"np.linalg.slogdet({square})[1]", f"np.linalg.eigh({square})[0]",
                      f"np.linalg.cholesky({square})", f"np.linalg.pinv({square})", f"np.linalg.eigvalsh({square})",
                      f"np.linalg.matrix_power({square}, 2)", f"np.linalg.svd({square})[1]",
                      f"np.linalg.qr({square})[1]", f"np.linalg.matrix_norm({name}, ord=1)", f"np.linalg.trace({name})"]
    return rng.choice(forms)


def _statistics(rng, name, value):
    shape, ndim = numpy.shape(value), numpy.ndim(value)
    if ndim == 0:
        return None
    axis = _axis(rng, ndim, allow_tuple=False)
    holes = f"np.where(numpy.array({(rng.random(shape) < 0.2).tolist()!r}), numpy.nan, {name})"
    forms = [f"np.{function}({holes}, axis={axis})" for function in
             ("nansum", "nanmean", "nanmax", "nanmin", "nanvar", "nanprod")]
    forms += [f"np.ptp({name}, axis={axis})", f"np.median({name}, axis={axis})",
              f"np.quantile({name}, {rng.choice(['0.3', '[0.2, 0.9]'])}, axis={axis})",
              f"np.percentile({name}, 40, axis={axis}, keepdims=True)", f"np.float_power(1.5 + {name} ** 2, 1.5)",
              f"np.take_along_axis({name}, numpy.argsort({name}, axis=-1), axis=-1)", f"np.trapezoid({name})",
              f"np.fmod({name}, 0.7)", f"np.copysign({name}, -0.5) + np.copysign(0.3, {name})",
              f"np.divmod({name}, 0.6)[1]", f"np.vander(np.ravel({name}), 3)"]
    if ndim == 1:
        kernel = _constant(rng, (int(rng.integers(1, 5)),))
        mode = rng.choice(["'full'", "'same'", "'valid'"])
        forms += [f"np.convolve({name}, {kernel}, {mode})", f"np.correlate({kernel}, {name}, mode={mode})",
                  f"np.diagflat({name}, 1)", f"np.meshgrid({name}, {name} ** 2)[1]",
                  f"np.broadcast_arrays({name}, {_constant(rng, (2, 1))})[0]"]
    if ndim == 2:
        forms += [f"np.cov({name})", f"np.corrcoef({name}, rowvar=False)", f"np.cov({name}, ddof=0)"]
    return rng.choice(forms)


def _two_values(rng, name, value, other_name, other_value):
    try:
        numpy.broadcast_shapes(numpy.shape(value), numpy.shape(other_value))
    except ValueError:
        return None
    return rng.choice(["{a} * {b}", "{a} + {b}", "{a} - np.sin({b})", "np.where({b} > 0, {a}, {b})",
                       "np.hypot({a}, 1.0 + {b} ** 2)", "np.maximum({a}, {b})"]).format(a=name, b=other_name)


TEMPLATES: list[tuple[float, Callable]] = [
    (3.0, _unary), (2.0, _binary_constant), (1.5, _reduction), (1.0, _scan), (1.5, _reshape),
    (1.5, _index), (1.0, _join), (1.0, _product), (1.0, _linalg), (1.0, _statistics),
]

# ----- programs -----


@dataclass
class Program:
    """A generated program: its ``source``, an input ``x`` and NumPy's ``output`` at ``x``."""

    seed: int
    source: str
    x: object
    output: numpy.ndarray

    def function(self, namespace) -> Callable:
        """The program as a function, with ``np`` bound to ``namespace``."""
        scope = {"np": namespace, "numpy": numpy}
        exec(self.source, scope)  # the source was generated above, from literals only
        return scope["f"]

    def __str__(self) -> str:
        x = self.x if isinstance(self.x, float) else f"numpy.array({self.x.tolist()!r})"
        return f"# program of seed {self.seed}\n{self.source}\nx = {x}"


_INPUT_SHAPES = [(), (3,), (4,), (2, 3), (3, 3), (2, 2, 3)]


def _acceptable(value) -> bool:
    value = numpy.asarray(value)
    return (value.dtype.kind in "fc" and 0 < value.size <= 40 and bool(numpy.all(numpy.isfinite(value)))
            and float(numpy.max(numpy.abs(value))) < 1e3)


def generate(seed: int, length: int | None = None) -> Program:
    """The program of ``seed``: ``length`` lines (3 to 7 when ``None``) on an input of a random shape."""
    rng = numpy.random.default_rng(seed)
    shape = _INPUT_SHAPES[int(rng.integers(len(_INPUT_SHAPES)))]
    # Four decimals ending in 5: never equal to a two-decimal constant, so no comparison is a tie.
    x = numpy.round(rng.uniform(-1.0, 1.0, size=shape), 3) + 0.0005
    while numpy.unique(x).size < x.size:  # distinct entries: no ties for max, min or sort to break
        x = numpy.round(rng.uniform(-1.0, 1.0, size=shape), 3) + 0.0005
    x = round(float(x), 4) if shape == () and rng.random() < 0.5 else numpy.asarray(numpy.round(x, 4))
    length = int(rng.integers(3, 8)) if length is None else length
    values = {"x": x}
    lines = []
    weights = numpy.array([weight for weight, _ in TEMPLATES])
    while len(lines) < length:
        names = list(values)
        name = names[-1] if rng.random() < 0.7 else names[int(rng.integers(len(names)))]
        if rng.random() < 0.15 and len(names) > 1:
            other = names[int(rng.integers(len(names)))]
            expression = _two_values(rng, name, values[name], other, values[other])
        else:
            template = TEMPLATES[int(rng.choice(len(TEMPLATES), p=weights / weights.sum()))][1]
            expression = template(rng, name, numpy.asarray(values[name]) if name != "x" else values[name])
        if expression is None:
            continue
        try:
            with numpy.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = eval(expression, {"np": numpy, "numpy": numpy}, dict(values))  # generated text
        except Exception:  # NumPy refused this line for these shapes: draw another
            continue
        if not _acceptable(value):
            continue
        new_name = f"v{len(lines)}"
        lines.append(f"    {new_name} = {expression}")
        values[new_name] = value
    source = "def f(x):\n" + "\n".join(lines) + f"\n    return v{length - 1}\n"
    return Program(seed, source, x, numpy.asarray(values[f"v{length - 1}"]))
