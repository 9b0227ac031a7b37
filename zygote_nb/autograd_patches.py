"""Every change zygote_nb makes to autograd, and every private part of autograd it uses, in one place.

zygote_nb is built on HIPS autograd 1.9 (tested up to 1.9.1, the bound in
``pyproject.toml``).  autograd has no public API for what follows, so each
piece names the autograd internal it relies on, and
``tests/test_autograd_contract.py`` pins every one of them: an autograd
release that renames or reshapes any of it fails that test before it can
change a gradient.

Patches, each scoped so that code using autograd directly sees autograd
unchanged (``tests/test_autograd_unchanged.py`` compares plain autograd calls
with and without ``import zygote_nb``):

* :func:`_new_trace` replaces ``TraceStack.new_trace`` (a fix that holds for
  everyone; see there).
* Integers are traced (:class:`IndexBox`, the ``int`` entries of
  ``Box.type_mappings`` and ``VSpace.mappings``) only inside zygote_nb's own
  traces: :func:`own_traces` marks them, per thread.
* :func:`install_array_dispatch` gives ``ArrayBox`` NumPy's
  ``__array_function__`` / ``__array__`` protocols, in force inside zygote_nb's
  traces; elsewhere they do what NumPy does for an object without them.
* zygote_nb's rules for autograd's own primitives (forward rules autograd
  lacks or gets wrong, reverse rules for ufuncs it wraps without one, the
  rules of :mod:`zygote_nb.numpy`) go into zygote_nb's own tables
  (:data:`own_vjps`, :data:`own_jvps`, filled by :func:`define_own`), never
  into autograd's ``primitive_vjps`` / ``primitive_jvps``.  zygote_nb's traces
  read them first (:func:`vjp_maker_of`, :func:`jvp_maker_of`): ``RecordedNode``
  of :mod:`zygote_nb.pullback`, :class:`OwnJVPNode` (forward mode),
  :class:`OwnVJPNode` (:func:`own_make_vjp`, for rules that differentiate
  inside), the engine's passes and per_sample's replay.  Rules of
  zygote_nb's own primitives (joins, checkpoints, hooks...) are registered
  with autograd as any extension's are: only zygote_nb's functions reach them.
* :func:`install_array_methods` gives ``ArrayBox`` ndarray methods it lacks
  (``x.copy()``, ``x.real``, ``x // 2``...) and repaired ones (``x.repeat``,
  ``x.sum``...), seen only inside zygote_nb's traces; elsewhere an
  ``ArrayBox`` has autograd's attributes, and lacks the others.
* :func:`replace_primitive_body` and :func:`replace_vjp_helper` let the device
  rules (:mod:`zygote_nb.backends.autograd_rules`) run beside autograd's own;
  they are installed only when a device array type is registered, and NumPy
  values keep autograd's code (those rules are registered in autograd's tables
  and choose autograd's rule for NumPy values).
* :func:`install_ignore_blocks` wraps ``autograd.tracer.new_box`` so that the
  blocks of :func:`zygote_nb.ignore_derivatives` cut what they compute; it is
  installed on the first block entered, and outside a block the wrapper boxes
  as autograd does.
* :func:`guarded_trace` wraps ``Box.__bool__``, ``IndexBox.__index__`` /
  ``__int__`` and ``ArrayBox.__getitem__``, and maps ``numpy.bool_`` in
  ``Box.type_mappings``, so that the trace of
  :func:`zygote_nb.per_sample_gradients` hears of every Python decision taken
  from its values; installed on the first such trace, active only for the
  thread and trace level that asked.

>>> import zygote_nb
>>> from autograd import grad
>>> try:
...     grad(lambda x: x * x)(3)
... except TypeError as error:
...     print(error)
Can't differentiate w.r.t. type <class 'int'>
>>> zygote_nb.gradient(lambda x: x * x, 3)
(6.0,)
"""

from __future__ import annotations

import operator
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

import numpy
# The private names below are pinned by tests/test_autograd_contract.py; modules of zygote_nb import them from here.
from autograd.builtins import container_untake  # noqa: F401
from autograd.core import (JVPNode, SparseObject, VJPNode, VSpace, add_outgrads, backward_pass,  # noqa: F401
                           primitive_jvps, primitive_vjps, sparse_add, sum_outgrads, trace, vspace)
from autograd.numpy import _original_where, numpy_vjps, numpy_wrapper  # noqa: F401
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.numpy.numpy_vjps import match_complex, unbroadcast, unbroadcast_f, untake  # noqa: F401
from autograd.numpy.numpy_vspaces import ArrayVSpace
from autograd.numpy.numpy_wrapper import parse_einsum_input  # noqa: F401
import autograd.tracer
from autograd.tracer import Box, TraceStack, notrace_primitives, trace_primitives_map  # noqa: F401
from autograd.util import func  # noqa: F401

INTEGER_TYPES = (int, numpy.int8, numpy.int16, numpy.int32, numpy.int64,
                 numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64)

# The primitive behind ``box[index]``, taken before :func:`guarded_trace` may wrap ``ArrayBox.__getitem__``:
# rule tables key on it, and a node records it whether or not the wrapper is installed.
getitem_primitive = func(ArrayBox.__getitem__)


# ----- A failed trace no longer leaves its level behind (for everyone) -----


@contextmanager
def _new_trace(stack: TraceStack) -> Iterator[int]:
    stack.top += 1
    try:
        yield stack.top
    finally:
        stack.top -= 1


# autograd's own new_trace forgets to pop its level when the traced function raises, so after one
# failed call every later trace would look nested inside a differentiation that is not running.
TraceStack.new_trace = _new_trace


# ----- zygote_nb's own traces -----


class _OwnTraces(threading.local):
    """How many of zygote_nb's traces or backward passes are running in this thread."""

    depth = 0


_own = _OwnTraces()


def inside_own_trace() -> bool:
    """Whether this thread is running one of zygote_nb's traces (forward or backward)."""
    return _own.depth > 0


def enter_own_trace() -> None:
    """Start a stretch of zygote_nb's tracing in this thread (pair with :func:`leave_own_trace`)."""
    _own.depth += 1


def leave_own_trace() -> None:
    _own.depth -= 1


@contextmanager
def own_traces() -> Iterator[None]:
    """A block in which zygote_nb's rules for integers and NumPy calls apply (nests; per thread)."""
    _own.depth += 1
    try:
        yield
    finally:
        _own.depth -= 1


class IndexBox(ArrayBox):
    """A traced integer: differentiable as a float, and still usable as an index, axis or shape."""

    __slots__ = ()

    def __index__(self) -> int:
        return operator.index(self._value)

    def __int__(self) -> int:
        return int(self._value)


def _box_integer(value: Any, trace: int, node: Any) -> IndexBox:
    if not _own.depth:
        # autograd's new_box turns this KeyError into its own "Can't differentiate w.r.t. type" error.
        raise KeyError(type(value))
    return IndexBox(value, trace, node)


def _integer_vector_space(value: Any) -> ArrayVSpace:
    if not _own.depth:
        raise KeyError(type(value))  # autograd's vspace then raises its own TypeError
    return ArrayVSpace(numpy.float64(value))  # the gradient space of an integer is the reals


Box.types.add(IndexBox)
Box.type_mappings[IndexBox] = IndexBox
for _integer_type in INTEGER_TYPES:
    Box.type_mappings[_integer_type] = _box_integer
    VSpace.mappings[_integer_type] = _integer_vector_space


def register_node_type(node_type: type) -> None:
    """Record ``node_type`` nodes as autograd records its base (``VJPNode`` or ``JVPNode``): comparisons and the
    like untraced.

    The same set object is shared, so that later registrations count too.
    """
    base = JVPNode if issubclass(node_type, JVPNode) else VJPNode
    notrace_primitives[node_type] = notrace_primitives[base]


# ----- NumPy's dispatch protocols on ArrayBox -----


def _numpy_without_dispatch(func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
    """What NumPy does when ``ArrayBox`` has no ``__array_function__``: ask the others, else run its own code."""
    if any(not issubclass(kind, (Box, numpy.ndarray)) for kind in types):
        return NotImplemented
    return func._implementation(*args, **kwargs)


def install_array_dispatch(array_function: Callable, array: Callable) -> None:
    """Give ``ArrayBox`` ``__array_function__`` and ``__array__`` that run ``array_function`` / ``array``
    inside zygote_nb's traces and do what NumPy would without them elsewhere (installing twice is harmless).
    """

    def __array_function__(self, func, types, args, kwargs):
        if _own.depth:
            return array_function(self, func, types, args, kwargs)
        return _numpy_without_dispatch(func, types, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        if _own.depth:
            _report_conversion(self, "__array__")
            return array(self, dtype, copy)
        # NumPy reads an object without __array__ as the sequence of its elements.
        elements = numpy.empty(self.shape, dtype=object)
        for index in numpy.ndindex(self.shape):
            elements[index] = self[index]
        return elements if dtype is None else elements.astype(dtype)

    ArrayBox.__array_function__ = __array_function__
    ArrayBox.__array__ = __array__


def call_numpy_implementation(func: Callable, args: tuple, kwargs: dict) -> Any:
    """NumPy's own code for ``func``, skipping ``__array_function__`` dispatch (NumPy's ``_implementation``)."""
    return func._implementation(*args, **kwargs)


# ----- Device versions beside autograd's own code -----


def replace_primitive_body(primitive_function: Callable, choose: Callable[[Callable], Callable]) -> None:
    """Make ``primitive_function`` run ``choose(original_body)`` instead of its original body.

    autograd's ``primitive`` keeps the function it wraps in a closure cell
    named ``f_raw``, and every derivative rule is registered against the
    wrapper; replacing the cell's content changes what runs while every
    registration stays valid.
    """
    cell = primitive_function.__closure__[primitive_function.__code__.co_freevars.index("f_raw")]
    cell.cell_contents = choose(cell.cell_contents)


def replace_vjp_helper(name: str, choose: Callable[[Callable], Callable]) -> None:
    """Replace the helper ``autograd.numpy.numpy_vjps.<name>`` (looked up at call time by the rules) with
    ``choose(original)``."""
    setattr(numpy_vjps, name, choose(getattr(numpy_vjps, name)))



# ----- Ignore blocks: primitives that hand back plain values -----


class _IgnoredTraces(threading.local):
    """The deepest trace level whose primitives return unboxed values in this thread (-1 cuts none)."""

    level = -1  # autograd numbers traces from 0


_ignored = _IgnoredTraces()
_installing = threading.Lock()
_plain_new_box = None


def ignored_trace_level() -> int:
    """The deepest trace level cut by the ignore blocks open in this thread (-1 when none is open)."""
    return _ignored.level


def ignore_traces_up_to(level: int) -> None:
    """Cut traces ``0..level`` in this thread: their primitives return plain values (-1 cuts none)."""
    _ignored.level = level


def _new_box_unless_ignored(value: Any, trace: int, node: Any) -> Any:
    if trace <= _ignored.level:
        return value
    return _plain_new_box(value, trace, node)


def install_ignore_blocks() -> None:
    """Wrap ``autograd.tracer.new_box`` once, so that primitives in a cut trace return plain values.

    autograd's ``primitive`` boxes every result through the module global
    ``autograd.tracer.new_box``, looked up at call time.  The wrapper consults
    the calling thread's own cut level, so another thread differentiating
    meanwhile is untouched.  It is installed lazily, on the first ignore block,
    so that code which never opens one runs autograd's ``new_box`` unwrapped.

    >>> install_ignore_blocks(); install_ignore_blocks()
    >>> autograd.tracer.new_box is _new_box_unless_ignored
    True
    """
    global _plain_new_box
    with _installing:
        if _plain_new_box is None:
            _plain_new_box = autograd.tracer.new_box
            autograd.tracer.new_box = _new_box_unless_ignored


# ----- Guarded traces: Python conversions and tuple indices of one trace handed to its owner -----


class _GuardedTraces(threading.local):
    """The trace levels of this thread whose owner watches conversions and tuple indices, with its handlers."""

    def __init__(self) -> None:
        self.handlers: dict = {}


_guarded = _GuardedTraces()
_guards_installed = False


def _report_conversion(box: Box, name: str) -> None:
    handlers = _guarded.handlers.get(box._trace)
    if handlers is not None:
        handlers[0](box, name)


def _converting(name: str, original: Callable) -> Callable:
    def conversion(box, *args):
        _report_conversion(box, name)
        return original(box, *args)

    conversion.__name__ = name
    return conversion


def _indexing(original: Callable) -> Callable:
    def __getitem__(array, index):
        handlers = _guarded.handlers.get(array._trace)
        if handlers is not None and isinstance(index, tuple) and any(isinstance(part, Box) for part in index):
            return handlers[1](array, index)
        return original(array, index)

    return __getitem__


def _box_numpy_bool(value: Any, trace: int, node: Any) -> ArrayBox:
    if trace not in _guarded.handlers:
        raise KeyError(type(value))  # autograd's new_box then raises its own "Can't differentiate" error
    return ArrayBox(value, trace, node)


def _install_guards() -> None:
    """Wrap ``Box.__bool__``, ``IndexBox.__index__``/``__int__`` and ``ArrayBox.__getitem__`` once, and box
    NumPy bools, each consulting the calling thread's guarded levels (elsewhere they do what they did)."""
    global _guards_installed
    with _installing:
        if _guards_installed:
            return
        for owner, name in [(Box, "__bool__"), (IndexBox, "__index__"), (IndexBox, "__int__")]:
            setattr(owner, name, _converting(name, vars(owner)[name]))
        ArrayBox.__getitem__ = _indexing(ArrayBox.__getitem__)
        Box.type_mappings[numpy.bool_] = _box_numpy_bool
        _guards_installed = True


@contextmanager
def guarded_trace(level: int, on_conversion: Callable, on_tuple_index: Callable) -> Iterator[None]:
    """While the block runs in this thread, boxes of trace ``level`` report to their owner.

    ``on_conversion(box, method_name)`` runs before such a box becomes a Python
    value (``__bool__``, ``__index__``, ``__int__``) or NumPy reads it as a
    plain array (``__array__``, inside zygote_nb's traces), and may raise;
    ``on_tuple_index(array, index)`` replaces autograd's indexing when a tuple
    index holds traced parts (which autograd would read as plain numbers); and
    a primitive of the level that returns a NumPy bool (a comparison, where the
    node type traces them) gets an ``ArrayBox``.  Other threads and other levels
    see autograd's behaviour: the handlers live in thread-local state, and the
    wrappers installed on first use pass everything else through.

    >>> from autograd.tracer import trace_stack
    >>> seen = []
    >>> with trace_stack.new_trace() as level, guarded_trace(level, lambda box, name: seen.append(name), None):
    ...     bool(IndexBox(3, level, None)), bool(IndexBox(3, level + 1, None))
    (True, True)
    >>> seen
    ['__bool__']
    """
    _install_guards()
    _guarded.handlers[level] = (on_conversion, on_tuple_index)
    try:
        yield
    finally:
        del _guarded.handlers[level]


def register_untraced(node_type: type, functions: Iterable[Callable]) -> None:
    """Have ``functions`` (primitives) return plain values in traces of ``node_type`` nodes, as autograd's
    ``notrace_primitives`` does for the comparisons in its own traces."""
    notrace_primitives[node_type].update(functions)


# ----- zygote_nb's own derivative rules, beside autograd's tables -----

# Rules zygote_nb gives to autograd's primitives (anything in autograd.numpy): a missing forward rule, a
# repaired one, a derivative for a ufunc autograd wraps without one. Registered in autograd's own
# ``primitive_vjps`` / ``primitive_jvps`` they would change plain autograd; kept here, only the nodes of
# zygote_nb's traces see them (RecordedNode, OwnJVPNode, the engine's and per_sample's passes).
own_vjps: dict = {}
own_jvps: dict = {}


def define_own(define: Callable, fun: Callable, *rules: Any, **options: Any) -> None:
    """Run autograd's rule maker ``define`` (``defvjp``, ``defjvp``, ``def_linear``...) for ``fun`` into zygote_nb's tables.

    autograd's makers write into its global tables under the function they are given, so they are given a
    stand-in that calls ``fun``; its entries are moved to zygote_nb's tables at once.

    >>> from autograd.extend import def_linear, primitive
    >>> halve = primitive(lambda x: x / 2)
    >>> define_own(def_linear, halve)
    >>> halve in own_jvps, halve in primitive_jvps
    (True, False)
    """

    def stand_in(*args, **kwargs):
        return fun(*args, **kwargs)

    stand_in.__name__ = getattr(fun, "__name__", "primitive")
    define(stand_in, *rules, **options)
    for own, table in ((own_vjps, primitive_vjps), (own_jvps, primitive_jvps)):
        if stand_in in table:
            own[fun] = table.pop(stand_in)


def vjp_maker_of(fun: Callable, argnums: tuple = ()) -> Callable:
    """The reverse rule zygote_nb's traces use for ``fun``: its own, else autograd's (NotImplementedError if none)."""
    maker = own_vjps.get(fun) or primitive_vjps.get(fun)
    if maker is None:
        raise NotImplementedError(f"VJP of {getattr(fun, '__name__', fun)} wrt argnums {argnums} not defined")
    return maker


def jvp_maker_of(fun: Callable, argnums: tuple = ()) -> Callable:
    """The forward rule zygote_nb's traces use for ``fun``: its own, else autograd's (NotImplementedError if none)."""
    maker = own_jvps.get(fun) or primitive_jvps.get(fun)
    if maker is None:
        raise NotImplementedError(f"JVP of {getattr(fun, '__name__', fun)} wrt argnums {argnums} not defined")
    return maker


class OwnJVPNode(JVPNode):
    """autograd's forward-mode node, reading zygote_nb's rules first."""

    __slots__ = ()

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        self.g = jvp_maker_of(fun, parent_argnums)(parent_argnums, [parent.g for parent in parents],
                                                   value, args, kwargs)


class OwnVJPNode(VJPNode):
    """autograd's reverse-mode node, reading zygote_nb's rules first (for rules that differentiate inside)."""

    __slots__ = ()

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        self.parents = parents
        self.vjp = vjp_maker_of(fun, parent_argnums)(parent_argnums, value, args, kwargs)


register_node_type(OwnJVPNode)
register_node_type(OwnVJPNode)


def own_make_vjp(fun: Callable, x: Any) -> tuple[Callable, Any]:
    """autograd's ``core.make_vjp`` with zygote_nb's rules: ``(vjp, fun(x))``."""
    with own_traces():
        value, end = trace(OwnVJPNode.new_root(), fun, x)

    def vjp(cotangent):
        if end is None:
            return vspace(x).zeros()
        with own_traces():
            return backward_pass(cotangent, end)

    return vjp, value


# ----- ndarray's methods on ArrayBox, inside zygote_nb's traces -----

# Conversions Python looks up on the type; outside zygote_nb's traces they fail as they did without them.
_CONVERSIONS = {"__float__": float, "__int__": int, "__complex__": complex}


class _OwnTraceAttribute:
    """An ``ArrayBox`` attribute: zygote_nb's version inside its traces; elsewhere ``ArrayBox``'s own, or none."""

    def __init__(self, name: str, own: Any, original: Any):
        self.name, self.own, self.original = name, own, original

    def __get__(self, box: Any, owner: type | None = None) -> Any:
        if box is None:
            return self
        if _own.depth:
            return self.own.__get__(box, owner)
        if self.original is not None:
            return self.original.__get__(box, owner)
        # What Python does for an object without the attribute, in its own words (an instance of a bare
        # class of the same name raises the same errors).
        bare = type(type(box).__name__, (), {})()
        if self.name in _CONVERSIONS:
            return lambda: _CONVERSIONS[self.name](bare)
        if self.name.startswith("__"):
            return lambda other: NotImplemented  # an operator: Python asks the other operand, then raises
        return getattr(bare, self.name)


def install_array_methods(methods: dict[str, Any]) -> None:
    """Give ``ArrayBox`` the attributes ``methods`` (name: function or property) inside zygote_nb's traces.

    Outside them an ``ArrayBox`` keeps autograd's attribute of that name, or
    lacks it, so plain autograd (``autograd.grad``, ``make_jvp``) is unchanged.
    Installing again replaces zygote_nb's versions and keeps autograd's.

    >>> import zygote_nb  # installs zygote_nb.array_methods
    >>> from autograd import grad
    >>> float(grad(lambda x: x * hasattr(x, "copy"))(1.0))  # autograd's ArrayBox has no copy()
    0.0
    >>> zygote_nb.gradient(lambda x: x.copy() * 2.0, 1.0)
    (2.0,)
    """
    for name, method in methods.items():
        current = vars(ArrayBox).get(name)
        original = current.original if isinstance(current, _OwnTraceAttribute) else current
        setattr(ArrayBox, name, _OwnTraceAttribute(name, method, original))
