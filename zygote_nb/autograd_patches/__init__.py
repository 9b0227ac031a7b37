"""Every change zygote_nb makes to autograd, and every private part of autograd it uses, in one place.

zygote_nb is built on HIPS autograd 1.9 (tested up to 1.9.1, the bound in
``pyproject.toml``); every patch below targets that version.  autograd has no
public API for what follows, so each piece names the autograd internal it
relies on, and ``tests/test_autograd_contract.py`` pins every one of them: an
autograd release that renames or reshapes any of it fails that test before it
can change a gradient.  The rest of zygote_nb imports these names from here,
never from the submodules.

The patches, by submodule, each scoped so that code using autograd directly
sees autograd unchanged (``tests/test_autograd_unchanged.py`` compares plain
autograd calls with and without ``import zygote_nb``):

:mod:`.traces` -- zygote_nb's own traces, and integers traced inside them
    * ``_new_trace`` replaces ``TraceStack.new_trace``: autograd's forgets to
      pop its level when the traced function raises, so after one failed call
      every later trace would look nested.  A fix that holds for everyone.
    * :func:`own_traces` (:func:`enter_own_trace`, :func:`leave_own_trace`)
      marks, per thread, the stretches where zygote_nb traces; every patch
      below consults it.
    * Integers are traced (:class:`IndexBox`, the ``int`` entries of
      ``Box.type_mappings`` and ``VSpace.mappings``) only inside those traces,
      so ``x * x`` differentiates at ``x = 3``.
    * :func:`register_node_type` / :func:`register_untraced` fill autograd's
      ``notrace_primitives`` for zygote_nb's node types.

:mod:`.arraybox` -- what ``ArrayBox`` gains inside zygote_nb's traces
    * :func:`install_array_dispatch` gives ``ArrayBox`` NumPy's
      ``__array_function__`` / ``__array__`` protocols, so plain ``numpy``
      calls on traced values are traced; elsewhere they do what NumPy does for
      an object without them (:func:`call_numpy_implementation` reads NumPy's
      private ``_implementation``).
    * :func:`install_array_methods` gives ``ArrayBox`` ndarray methods it lacks
      (``x.copy()``, ``x.real``, ``x // 2``...) and repaired ones
      (``x.repeat``, ``x.sum``...) through :class:`OwnTraceAttribute`;
      elsewhere an ``ArrayBox`` has autograd's attributes, and lacks the others.

:mod:`.rule_tables` -- zygote_nb's rules for autograd's own primitives
    * Forward rules autograd lacks or gets wrong, reverse rules for ufuncs it
      wraps without one, the rules of :mod:`zygote_nb.numpy`: they go into
      zygote_nb's own tables (:data:`own_vjps`, :data:`own_jvps`, filled by
      :func:`define_own`), never into autograd's ``primitive_vjps`` /
      ``primitive_jvps``.  zygote_nb's traces read them first
      (:func:`vjp_maker_of`, :func:`jvp_maker_of`): ``RecordedNode`` of
      :mod:`zygote_nb.pullback`, :class:`OwnJVPNode` (forward mode),
      :class:`OwnVJPNode` (:func:`own_make_vjp`, for rules that differentiate
      inside), the engine's passes and per_sample's replay.  Rules of
      zygote_nb's own primitives (joins, checkpoints, hooks...) are registered
      with autograd as any extension's are: only zygote_nb's functions reach
      them.

:mod:`.device_rules` -- device arrays beside autograd's NumPy code
    * :func:`replace_primitive_body` (rewrites the ``f_raw`` closure cell of a
      primitive) and :func:`replace_vjp_helper` (replaces a helper of
      ``autograd.numpy.numpy_vjps``) let the device rules
      (:mod:`zygote_nb.backends.autograd_rules`) run beside autograd's own;
      they are installed only when a device array type is registered, and
      NumPy values keep autograd's code.

:mod:`.ignore_blocks` -- :func:`zygote_nb.ignore_derivatives` as a block
    * :func:`install_ignore_blocks` wraps ``autograd.tracer.new_box`` so that
      the blocks cut what they compute, per thread (:func:`ignore_traces_up_to`,
      :func:`ignored_trace_level`); it is installed on the first block
      entered, and outside a block the wrapper boxes as autograd does.

:mod:`.guarded` -- the traces of :func:`zygote_nb.per_sample_gradients`
    * :func:`guarded_trace` wraps ``Box.__bool__``, ``IndexBox.__index__`` /
      ``__int__`` and ``ArrayBox.__getitem__``, and maps ``numpy.bool_`` in
      ``Box.type_mappings``, so that the trace hears of every Python decision
      taken from its values; installed on the first such trace, active only
      for the thread and trace level that asked.  :data:`getitem_primitive` is
      the indexing primitive taken before that wrapper.

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

# The private names below are pinned by tests/test_autograd_contract.py; modules of zygote_nb import them from here.
from autograd.builtins import container_untake  # noqa: F401
from autograd.core import (JVPNode, SparseObject, VJPNode, VSpace, add_outgrads, backward_pass,  # noqa: F401
                           primitive_jvps, primitive_vjps, sparse_add, sum_outgrads, trace, vspace)
from autograd.numpy import _original_where, numpy_vjps, numpy_wrapper  # noqa: F401
from autograd.numpy.numpy_boxes import ArrayBox  # noqa: F401
from autograd.numpy.numpy_vjps import match_complex, unbroadcast, unbroadcast_f, untake  # noqa: F401
from autograd.numpy.numpy_wrapper import parse_einsum_input  # noqa: F401
from autograd.tracer import Box, TraceStack, notrace_primitives, trace_primitives_map  # noqa: F401
from autograd.util import func  # noqa: F401

from .arraybox import OwnTraceAttribute, call_numpy_implementation, install_array_dispatch, \
    install_array_methods  # noqa: F401
from .device_rules import replace_primitive_body, replace_vjp_helper  # noqa: F401
from .guarded import getitem_primitive, guarded_trace, report_conversion  # noqa: F401
from .ignore_blocks import ignore_traces_up_to, ignored_trace_level, install_ignore_blocks  # noqa: F401
from .rule_tables import OwnJVPNode, OwnVJPNode, define_own, jvp_maker_of, own_jvps, own_make_vjp, own_vjps, \
    vjp_maker_of  # noqa: F401
from .traces import INTEGER_TYPES, IndexBox, enter_own_trace, inside_own_trace, leave_own_trace, own_traces, \
    register_node_type, register_untraced  # noqa: F401
