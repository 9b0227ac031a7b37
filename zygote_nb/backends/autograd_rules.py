"""autograd, taught to keep device arrays on their device.

autograd reaches NumPy in two ways.  Most of the time through NumPy's
functions applied to the values it traces, and for a device array those
dispatch to the array's own library (``numpy.exp(a)`` runs ``cupy.exp``).  But
in a few places it *builds* arrays with NumPy's constructors: the zeros of a
vector space, the ``zeros`` that ``where``'s derivative selects from, the
``zeros`` a sum's cotangent is broadcast against, the ``zeros`` + ``add.at``
that scatter an index's cotangent back, ``numpy.array`` in ``stack``, the
``asarray`` that ends ``dot``'s adjoints.  On a device those would be host
arrays, so each gets a device version here, built with the namespace of the
array at hand (:func:`zygote_nb.array_library.array_namespace`):

* :class:`DeviceArrayVSpace`, the vector space of a device array;
* :func:`_run_on_device`: a primitive whose own computation builds a NumPy
  array runs a device version when an argument is a device array;
* :func:`_device_vjp` / :func:`_device_jvp`: a derivative rule that builds
  NumPy arrays gets a device version, chosen when the values are on a device.

NumPy values always take autograd's own code, unchanged.  The rules are
installed once, when the first device array type is registered.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy
from autograd.core import SparseObject, VSpace, defjvp_argnums, defvjp_argnums, primitive_jvps, primitive_vjps, \
    sum_outgrads, vspace
from autograd.numpy import numpy_vjps
from autograd.numpy import numpy_wrapper as anp
from autograd.numpy.numpy_vjps import unbroadcast, unbroadcast_f
from autograd.tracer import getval, trace_primitives_map

from .. import array_library
from ..autograd_patches import replace_primitive_body, replace_vjp_helper
from ..errors import DifferentiationError


class NoDeviceRule(DifferentiationError):
    """A derivative rule that would build a NumPy array from device arrays, refused instead."""


class DeviceArrayVSpace(VSpace):
    """The vector space of a device array's shape and dtype; its zeros and ones live on the same device."""

    def __init__(self, value: Any):
        self.shape, self.dtype = tuple(value.shape), numpy.dtype(value.dtype)
        self.namespace = array_library.array_namespace(value)
        self.iscomplex = self.dtype.kind == "c"

    @property
    def size(self) -> int:
        return math.prod(self.shape) * (2 if self.iscomplex else 1)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def zeros(self) -> Any:
        return self.namespace.zeros(self.shape, dtype=self.dtype)

    def ones(self) -> Any:
        return self.namespace.ones(self.shape, dtype=self.dtype)

    def standard_basis(self):
        for index in range(math.prod(self.shape)):
            for unit in (1.0, 1.0j) if self.iscomplex else (1.0,):
                vector = self.namespace.zeros(math.prod(self.shape), dtype=self.dtype)
                vector[index] = unit
                yield vector.reshape(self.shape)

    def _inner_prod(self, x: Any, y: Any) -> Any:
        product = self.namespace.sum(self.namespace.conj(x) * y)
        return self.namespace.real(product) if self.iscomplex else product

    def _covector(self, x: Any) -> Any:
        return self.namespace.conj(x) if self.iscomplex else x


def _on_device(*values: Any) -> bool:
    """Whether any of ``values`` (traced or not, or a list of them) is a device array or its vector space."""
    for value in values:
        raw = getval(value)
        if isinstance(raw, (list, tuple)) and _on_device(*raw):
            return True
        if isinstance(raw, DeviceArrayVSpace) or array_library.is_device_array(raw):
            return True
    return False


# ----- Installing device versions beside autograd's own -----


def _run_on_device(primitive_function: Callable, device_function: Callable) -> None:
    """Make ``primitive_function`` compute with ``device_function`` when an argument is a device array."""

    def choose(host_function: Callable) -> Callable:
        def either(*args, **kwargs):
            chosen = device_function if _on_device(*args, *kwargs.values()) else host_function
            return chosen(*args, **kwargs)
        return either

    replace_primitive_body(primitive_function, choose)


def _device_vjp(primitive_function: Callable, device_vjp_maker: Callable) -> None:
    """Use ``device_vjp_maker(argnums, ans, args, kwargs)`` for ``primitive_function`` on device values."""
    host_vjp_maker = primitive_vjps[primitive_function]

    def vjp_maker(argnums, ans, args, kwargs):
        chosen = device_vjp_maker if _on_device(ans, *args) else host_vjp_maker
        return chosen(argnums, ans, args, kwargs)

    defvjp_argnums(primitive_function, vjp_maker)


def _device_jvp(primitive_function: Callable, device_jvp_maker: Callable) -> None:
    """Use ``device_jvp_maker(argnums, tangents, ans, args, kwargs)`` for ``primitive_function`` on device values."""
    host_jvp_maker = primitive_jvps[primitive_function]

    def jvp_maker(argnums, tangents, ans, args, kwargs):
        chosen = device_jvp_maker if _on_device(ans, *args) else host_jvp_maker
        return chosen(argnums, tangents, ans, args, kwargs)

    defjvp_argnums(primitive_function, jvp_maker)


def _per_argument(rules: dict) -> Callable:
    """A VJP maker from ``{argnum: vjp_maker(ans, *args, **kwargs)}``, zeros for the others (autograd's ``defvjp``)."""

    def vjp_maker(argnums, ans, args, kwargs):
        vjps = [rules[argnum](ans, *args, **kwargs) if argnum in rules
                else (lambda g, untraced=args[argnum]: vspace(untraced).zeros())
                for argnum in argnums]
        return lambda g: tuple(vjp(g) for vjp in vjps)

    return vjp_maker


def _summed_tangents(rules: dict) -> Callable:
    """A JVP maker from ``{argnum: jvp(g, ans, *args, **kwargs)}``, summing over the traced arguments."""

    def jvp_maker(argnums, tangents, ans, args, kwargs):
        parts = [rules[argnum](tangent, ans, *args, **kwargs) for argnum, tangent in zip(argnums, tangents)
                 if argnum in rules]
        return sum_outgrads(parts) if parts else vspace(ans).zeros()

    return jvp_maker


def _refused(name: str) -> Callable:
    """A rule maker whose rule raises :class:`NoDeviceRule` for ``name`` when it is needed."""

    def rule_maker(*args, **kwargs):
        def rule(*args, **kwargs):
            raise NoDeviceRule(
                f"the derivative of {name} has no device version in zygote_nb (it builds NumPy arrays): "
                f"compute this part with NumPy arrays, or wrap it in ignore_derivatives")
        return rule

    return rule_maker


# ----- Device versions of the forward computations -----


def _concatenate_args(axis, *arrays):
    return array_library.array_namespace(*arrays).concatenate(arrays, axis=axis)


def _array_options(array_args: tuple, array_kwargs: dict) -> dict:
    """``numpy.array``'s options, positional ``dtype`` included."""
    return dict(zip(("dtype",), array_args), **array_kwargs)


def _array_from_scalar_or_array(array_args, array_kwargs, value):
    options = _array_options(array_args, array_kwargs)
    namespace = array_library.array_namespace(value)
    result = namespace.asarray(value, dtype=options.get("dtype"))
    if result is value and options.get("copy", True):
        result = result.copy()
    missing = options.get("ndmin", 0) - result.ndim
    return result.reshape((1,) * missing + tuple(result.shape)) if missing > 0 else result


def _array_from_args(array_args, array_kwargs, *elements):
    dtype = _array_options(array_args, array_kwargs).get("dtype")
    namespace = array_library.array_namespace(*elements)
    return namespace.stack([namespace.asarray(element, dtype=dtype) for element in elements])


def _dot_adjoint_0(B, G, A_meta, B_meta):
    """``G`` pulled back through ``A ↦ dot(A, B)``: autograd's adjoint, ending in ``astype``, not ``asarray``."""
    _, A_ndim, A_dtype, _ = A_meta
    B_ndim = B_meta[1]
    if B_ndim == 0:
        out = G * B
    elif B_ndim == 1 or A_ndim == 0:
        out = numpy.tensordot(G, B, max(0, B_ndim - (A_ndim != 0)))
    else:
        out = numpy.tensordot(G, numpy.swapaxes(B, -1, -2), B_ndim - 1)
    return out.astype(A_dtype, copy=False)


def _dot_adjoint_1(A, G, A_meta, B_meta):
    """``G`` pulled back through ``B ↦ dot(A, B)``."""
    A_ndim = A_meta[1]
    _, B_ndim, B_dtype, _ = B_meta
    if A_ndim == 0:
        return (G * A).astype(B_dtype, copy=False)
    if A_ndim == 1 or B_ndim == 0:
        out = numpy.tensordot(G, A, max(0, A_ndim - (B_ndim != 0)))
    else:
        out = numpy.tensordot(G, A, [list(range(-A_ndim - B_ndim + 2, -B_ndim + 1)), list(range(A_ndim - 1))])
    if B_ndim > 1:
        out = numpy.swapaxes(out, -1, -2)
    return out.astype(B_dtype, copy=False)


def _untake(cotangent, index, vector_space):
    """The cotangent of ``A[index]`` scattered into zeros of ``A``'s shape, on ``A``'s device."""
    namespace = vector_space.namespace
    if isinstance(index, list) and (not index or not isinstance(index[0], slice)):
        index = numpy.asarray(index, dtype=numpy.int64)  # autograd's reading of a list index
    parts = tuple(namespace.asarray(part) if isinstance(part, (list, numpy.ndarray)) else part
                  for part in (index if isinstance(index, tuple) else (index,)))
    device_index = parts if isinstance(index, tuple) else parts[0]

    def add_into(target):
        if all(map(_selects_once, parts)):
            target[device_index] += cotangent
        else:
            namespace.add.at(target, device_index, cotangent)
        return target

    return SparseObject(vector_space, add_into)


def _selects_once(part: Any) -> bool:
    """Whether an index part never names one element twice, so that ``+=`` through it adds everything."""
    if part is None or part is Ellipsis or isinstance(part, (slice, int, numpy.integer)):
        return True
    return part.dtype.kind == "b" or part.ndim == 0


def _repeat_to_match_shape(host_version: Callable) -> Callable:
    """autograd's helper behind the reductions' rules, with the broadcasting zeros made beside ``g``."""

    def repeat_to_match_shape(g, shape, dtype, axis, keepdims):
        if not _on_device(g) or shape == ():
            return host_version(g, shape, dtype, axis, keepdims)
        axis = list(axis) if isinstance(axis, tuple) else axis
        kept_shape = numpy.array(shape)
        kept_shape[axis] = 1
        repetitions = numpy.prod(numpy.array(shape)[axis])
        zeros = array_library.array_namespace(g).zeros(shape, dtype=dtype)
        return anp.reshape(g, tuple(int(size) for size in kept_shape)) + zeros, repetitions

    return repeat_to_match_shape


# ----- Device versions of derivative rules -----


def _where_parts(condition, tangent, argnum):
    zeros = anp.zeros_like(tangent)
    return anp.where(condition, tangent, zeros) if argnum == 1 else anp.where(condition, zeros, tangent)


def _selected(condition, if_true, if_false):
    """``where(condition, if_true, if_false)``, as plain Python for a number so that no NumPy array appears."""
    if array_library.is_array(getval(condition)):
        return anp.where(condition, if_true, if_false)
    return if_true if condition != 0 else if_false


def _power_vjp_base(ans, x, y):
    return unbroadcast_f(x, lambda g: g * y * x ** _selected(y, y - 1, 1.0))


def _power_vjp_exponent(ans, x, y):
    return unbroadcast_f(y, lambda g: g * anp.log(_selected(x, x, 1.0)) * ans)


def _einsum_vjp(argnums, ans, args, kwargs):
    """einsum's reverse rule for device operands: autograd's, with the subscripts parsed on shape-only stand-ins."""
    if not isinstance(args[0], str):
        return _refused("einsum in its operand-sublist form")()
    stand_ins = [numpy.broadcast_to(numpy.empty(()), numpy.shape(operand)) for operand in args[1:]]
    in_subscripts, out_subscripts, _ = anp.parse_einsum_input(args[0], *stand_ins)
    subscripts = in_subscripts.split(",")
    operands = args[1:]

    def vjp_of(argnum):
        position = argnum - 1
        target, target_meta = subscripts[position], anp.metadata(operands[position])
        others = operands[:position] + operands[position + 1:]
        other_subscripts = subscripts[:position] + subscripts[position + 1:]
        named = set("".join([out_subscripts] + other_subscripts))
        # Subscripts only the target carries are summed away: contract the cotangent with ones there.
        summed = [(axis, letter) for axis, letter in enumerate(target) if letter not in named]
        extra_subscripts, extra_operands = [], []
        if summed:
            extra_subscripts = ["".join(letter for _, letter in summed)]
            extra_operands = [array_library.array_namespace(operands[position]).ones(
                tuple(numpy.shape(operands[position])[axis] for axis, _ in summed))]
        inputs = ",".join([out_subscripts] + extra_subscripts + other_subscripts)
        return lambda g: unbroadcast(anp.einsum(inputs + "->" + target, g, *extra_operands, *others), target_meta)

    vjps = [vjp_of(argnum) for argnum in argnums]
    return lambda g: tuple(vjp(g) for vjp in vjps)


_installed = False


def install_device_rules() -> None:
    """Install every device version beside autograd's rule (once; later calls do nothing)."""
    global _installed
    if _installed:
        return
    _installed = True
    _run_on_device(anp.concatenate_args, _concatenate_args)
    _run_on_device(anp._array_from_scalar_or_array, _array_from_scalar_or_array)
    _run_on_device(anp.array_from_args, _array_from_args)
    _run_on_device(numpy_vjps.dot_adjoint_0, _dot_adjoint_0)
    _run_on_device(numpy_vjps.dot_adjoint_1, _dot_adjoint_1)
    _run_on_device(numpy_vjps.untake, _untake)
    _run_on_device(anp.make_diagonal, _refused("diagonal")())
    replace_vjp_helper("repeat_to_match_shape", _repeat_to_match_shape)

    # autograd.numpy.where is a wrapper around the primitive; the rules belong to the primitive.
    where = trace_primitives_map[numpy.where]
    _device_vjp(where, _per_argument({
        1: lambda ans, condition, x=None, y=None: lambda g: _where_parts(condition, g, 1),
        2: lambda ans, condition, x=None, y=None: lambda g: _where_parts(condition, g, 2),
    }))
    _device_jvp(where, _summed_tangents({
        1: lambda g, ans, condition, x=None, y=None: _where_parts(condition, g, 1),
        2: lambda g, ans, condition, x=None, y=None: _where_parts(condition, g, 2),
    }))
    _device_vjp(anp.power, _per_argument({0: _power_vjp_base, 1: _power_vjp_exponent}))
    _device_jvp(anp.power, _summed_tangents({
        0: lambda g, ans, x, y: g * y * x ** _selected(y, y - 1, 1.0),
        1: lambda g, ans, x, y: g * anp.log(_selected(x, x, 1.0)) * ans,
    }))
    _device_vjp(anp.einsum, _einsum_vjp)
    for primitive_function, name in [(anp.trace, "trace"), (anp.sort, "sort"), (anp.partition, "partition"),
                                     (anp.gradient, "gradient"), (anp.linspace, "linspace")]:
        _device_vjp(primitive_function, _refused(name))
