"""The joins ``concatenate`` and ``stack`` as primitives whose derivatives cost time linear in the number of inputs.

autograd joins through ``concatenate_args``, whose reverse rule slices the
cotangent once per input from a list it rebuilds each time (quadratic in the
number of inputs). ``concatenate_along(axis, *arrays)`` and
``stack_along(axis, *arrays)`` cut every block out of one cotangent instead.

>>> stack_along(0, numpy.ones(2), numpy.zeros(2)).shape
(2, 2)
"""

from __future__ import annotations

import numpy
from autograd.extend import defjvp_argnums, defvjp_argnums, primitive
from autograd.numpy.numpy_vjps import match_complex


def _define_rules(join, blocks_along_axis):
    """Reverse and forward rules for ``join(axis, *arrays)``.

    ``blocks_along_axis(axis, arrays)`` gives, for each input, the index of its
    block along ``axis`` of the result. The reverse rule cuts every requested
    block out of one cotangent (O(k) for k inputs); the forward rule joins the
    tangents, with zeros for inputs that carry none.
    """

    def vjp_maker(argnums, joined, args, kwargs):
        axis, arrays = args[0] % numpy.ndim(joined), args[1:]
        blocks = blocks_along_axis(axis, arrays)
        leading = (slice(None),) * axis

        def vjp(cotangent):
            return [
                match_complex(arrays[argnum - 1], cotangent[leading + (blocks[argnum - 1],)])
                for argnum in argnums
            ]

        return vjp

    def jvp_maker(argnums, tangents, joined, args, kwargs):
        tangent_of = dict(zip(argnums, tangents))
        parts = [
            tangent_of[argnum] if argnum in tangent_of else numpy.zeros_like(joined, shape=numpy.shape(array))
            for argnum, array in enumerate(args[1:], start=1)
        ]
        return join(args[0], *parts, dtype=kwargs.get("dtype"))

    defvjp_argnums(join, vjp_maker)
    defjvp_argnums(join, jvp_maker)


@primitive
def concatenate_along(axis, *arrays, **options):
    return numpy.concatenate(arrays, axis=axis, **options)


@primitive
def stack_along(axis, *arrays, **options):
    return numpy.stack(arrays, axis=axis, **options)


def _concatenated_blocks(axis, arrays):
    ends = numpy.cumsum([numpy.shape(array)[axis] for array in arrays])
    return [slice(end - numpy.shape(array)[axis], end) for end, array in zip(ends, arrays)]


_define_rules(concatenate_along, _concatenated_blocks)
_define_rules(stack_along, lambda axis, arrays: range(len(arrays)))
