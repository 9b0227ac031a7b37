"""The vectorised derivative engine: record once, then sweep every basis vector through as one batch.

autograd builds a Jacobian one backward pass per output element, and a
forward-over-reverse Hessian by re-tracing the function for every column.
The engine instead

1. records the function once (:func:`~zygote_nb.pullback.record`, the
   graph of :class:`~zygote_nb.pullback.RecordedNode` that ``pullback`` makes);
2. pushes all basis cotangents (reverse mode, :func:`~zygote_nb.engine.passes.pull_back`)
   or all basis tangents (forward mode, :func:`~zygote_nb.engine.passes.push_forward`)
   through that graph together, as arrays with a leading batch axis, in
   chunks that fit a memory budget (:mod:`~zygote_nb.engine.memory`);
3. at each node uses a batch rule (:mod:`~zygote_nb.engine.rules`), or, for a
   primitive without one, the node's own derivative once per row.

``jacobian`` picks forward mode when the inputs are fewer than the outputs
(and every primitive has a batch rule), reverse mode otherwise.

``hessian`` is forward over reverse, built as a *batched forward pass over the
recorded reverse pass*: the engine records ``x ↦ gradient(f, x)`` — the
gradient's own backward pass is made of traceable primitives, so it lands in
the graph as ordinary nodes — and then pushes all ``n`` basis tangents
forward through that graph at once.  The alternative, JVP rules for every VJP
pushed through the backward pass, needs a second rule per primitive for the
same result; this way each primitive needs one tangent rule, the ones that
forward-mode Jacobians use anyway.  ``hessian_reverse`` sweeps the same
recorded graph in reverse mode, and ``diaghessian`` pushes tangents forward
and keeps the diagonal.

The standard basis is kept small while it can be: through elementwise
primitives and reshapes, row ``b`` stays ``d[b]·e_b``, and 1-D contiguous
slices (with autograd's ``untake``, their adjoint) only shift those entries
onto neighbouring diagonals (:class:`~zygote_nb.engine.batch.Banded`).  So
the Jacobian of an elementwise map, the Hessian diagonal of a separable
function, or the banded Hessian of a chain or stencil such as Rosenbrock's
costs vector operations only.

Instrumentation keeps its meaning: ``showgrad``, ``hook``, ``Buffer`` and
``checkpointed`` are primitives without batch rules, so a batched reverse
sweep calls their own VJP once per row, as the row-by-row loop does (a
``showgrad`` reports once per row).  Graphs that hold them are never swept in
forward mode by ``jacobian``.  Every operator keeps the row-by-row engine (:mod:`~zygote_nb.engine.loop`,
the same signatures) as ``engine="loop"``; it is also taken automatically for
complex values and inside an enclosing differentiation (where plain-NumPy
batch rules would drop the outer derivative), which makes every operator
differentiable with respect to what it closes over.

>>> import numpy, autograd.numpy as anp
>>> from zygote_nb.engine import jacobian_matrices
>>> from zygote_nb.pullback import record
>>> W = numpy.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
>>> jacobian_matrices(record(lambda x: anp.tanh(W @ x), numpy.zeros(2)), 1)[0]
array([[1., 2.],
       [3., 4.],
       [5., 6.]])
"""

from types import ModuleType

from . import batched, loop
from .batched import can_batch, hessian_diagonal, jacobian_matrices
from .memory import MemoryBudgetError

__all__ = ["ENGINES", "MemoryBudgetError", "can_batch", "engine_for", "hessian_diagonal", "jacobian_matrices",
           "require_engine"]

ENGINES = ("batched", "loop")


def require_engine(operator_name: str, engine: str) -> None:
    """``engine`` must name one of :data:`ENGINES`."""
    if engine not in ENGINES:
        raise ValueError(f"{operator_name} got engine={engine!r}: use engine=\"batched\" (the default) or "
                         f"engine=\"loop\" (one pass per row)")


def engine_for(engine: str, recording) -> ModuleType:
    """The engine module (:mod:`~zygote_nb.engine.batched` or :mod:`~zygote_nb.engine.loop`) that
    computes on ``recording`` for ``engine="batched"`` or ``"loop"``: the batched one only where it
    applies (:func:`can_batch`).  Both offer ``jacobian_matrices`` and ``hessian_diagonal``.

    >>> import numpy, autograd.numpy as anp
    >>> from zygote_nb.pullback import record
    >>> recording = record(anp.sin, numpy.zeros(2))
    >>> engine_for("batched", recording).__name__, engine_for("loop", recording).__name__
    ('zygote_nb.engine.batched', 'zygote_nb.engine.loop')
    """
    return batched if engine == "batched" and can_batch(recording) else loop
