"""Device arrays (CuPy): differentiated where they live, with nothing copied to the host.

An array type takes part once it is registered with :func:`register_array_type`,
keyed by type.  CuPy registers itself the first time one of its arrays reaches
zygote_nb; the tests register a NumPy-protocol duck array through the very same
call, so the CPU test run proves the CuPy code path.

Registration does three things:

1. :mod:`zygote_nb.array_library` learns the type's library and namespace, so that
   every operator builds its seeds, bases and results with that namespace
   (``array_namespace(x)``) and refuses to mix it with NumPy arrays;
2. autograd learns to box the type (``ArrayBox``) and gets a vector space for
   it whose zeros and ones come from the namespace;
3. the autograd rules that build NumPy arrays inside get device versions
   (:mod:`zygote_nb.backends.autograd_rules`).

What runs on the device, forward and in both derivative modes (so ``gradient``,
``jacobian``, ``hessian``, ``diaghessian`` and ``Params`` work):

* elementwise arithmetic and ufuncs: ``+ - * / ** @``, negation, ``abs``,
  ``exp``, ``log``, ``sqrt``, ``sin``/``cos``/``tan``, ``tanh`` and the other
  hyperbolic and inverse functions, ``maximum``, ``minimum``, ``logaddexp``,
  ``where``, ``clip``;
* products: ``dot``, ``matmul``, ``inner``, ``outer``, ``tensordot``, ``einsum``
  (subscript-string form);
* reductions with ``axis`` and ``keepdims``: ``sum``, ``mean``, ``prod``,
  ``var``, ``std``, ``max``, ``min``;
* shapes: ``reshape``, ``ravel``, ``transpose``/``.T``, ``swapaxes``,
  ``moveaxis``, ``expand_dims``, ``squeeze``, ``broadcast_to``, ``cumsum``;
* indexing and slicing (integers, slices, ``None``, ``...``, boolean masks and
  integer arrays, whose repeated indices accumulate with ``add.at``);
* joins: ``concatenate``, ``stack``, ``hstack``, ``vstack``, and ``array`` of
  traced values.

The derivative rules known to build NumPy arrays and not yet given a device
version (``trace``, ``diagonal``, ``sort``, ``partition``, ``gradient``,
``linspace``, einsum's operand-sublist form) raise a one-line
:class:`NoDeviceRule` naming the primitive.  Anything else that would meet a
host array fails the way CuPy does, with a ``TypeError``: nothing is ever
copied silently.

Results are arrays of the inputs' library on their device.  One exception, by
the contract of ``gradient``: an argument given as a Python number gets a
Python number, which reads one scalar back from the device.  Display (``repr``
of ``Grads``, ``showgrad`` reports, heatmaps) copies to the host what it shows.

>>> import numpy
>>> from zygote_nb.array_library import is_device_array
>>> is_device_array(numpy.ones(2))
False
"""

from __future__ import annotations

from typing import Any

from autograd.extend import VSpace
from autograd.numpy.numpy_boxes import ArrayBox

from .. import array_library
from .autograd_rules import DeviceArrayVSpace, NoDeviceRule, install_device_rules

__all__ = ["NoDeviceRule", "register_array_type"]


def register_array_type(array_type: type, namespace: Any, name: str | None = None) -> None:
    """Differentiate arrays of ``array_type`` on their device, with ``namespace`` making new ones.

    ``namespace`` is the module (or object) with ``zeros``, ``ones``, ``eye``,
    ``asarray``, ``concatenate``, ``stack`` and ``add.at`` for the type (for
    CuPy, the ``cupy`` module); ``name`` is what
    :func:`~zygote_nb.array_library.set_backend` calls the library (by default the
    type's top-level module).  Registering again replaces the entry.
    """
    array_library.register_library(array_type, namespace, name or array_type.__module__.partition(".")[0])
    ArrayBox.register(array_type)
    VSpace.register(array_type, DeviceArrayVSpace)
    install_device_rules()
