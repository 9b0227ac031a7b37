"""Errors a user can act on, instead of autograd's internals.

Differential operators run the user's function inside :func:`explained_errors`:
an error that comes from tracing (an in-place write to a traced array, a
primitive without a derivative rule, a traced value handed to code that cannot
trace it) is re-raised as one line that says what to do; any other error is
the user's own and passes through untouched.

>>> import numpy, zygote_nb as zn
>>> def overwrite_first(x):
...     x[0] = 1.0
...     return x.sum()
>>> zn.gradient(overwrite_first, numpy.ones(2))
Traceback (most recent call last):
...
zygote_nb.errors.DifferentiationError: in-place assignment to a traced array cannot be differentiated: write into a zygote_nb.Buffer (buf = Buffer(x); buf[i] = v; y = buf.copy()) or build the array with np.where / np.concatenate
"""

from __future__ import annotations

import re


class DifferentiationError(TypeError):
    """A tracing problem explained in one line: what went wrong and what to do instead.

    It is a :class:`TypeError`, so code that caught autograd's errors still does:

    >>> issubclass(DifferentiationError, TypeError)
    True
    """


_MISSING_RULE = re.compile(r"^(VJP|JVP) of (\S+) wrt argnums? .* not defined")


def explain(error: BaseException) -> str | None:
    """The one-line message for an error raised by tracing, or ``None`` for the user's own errors."""
    message = str(error)
    if ("does not support item assignment" in message or "has no attribute '__setitem__'" in message) \
            and "Box" in message:
        return ("in-place assignment to a traced array cannot be differentiated: write into a "
                "zygote_nb.Buffer (buf = Buffer(x); buf[i] = v; y = buf.copy()) or build the array "
                "with np.where / np.concatenate")
    if "arrays used as indices must be of integer" in message or "integer or boolean arrays are valid indices" in message:
        return ("an index is a float array: every input is differentiated as floats, integer arrays too, so an "
                "array used as an index must not be an input; leave it out of the inputs (read it from the "
                "notebook or close over it) and differentiate with respect to the arrays it indexes")
    missing = _MISSING_RULE.match(message)
    if missing:
        mode, name = missing.groups()
        if mode == "JVP":
            return (f"no forward-mode rule for {name}: use hessian_reverse instead of hessian, or "
                    "wrap the call in ignore_derivatives if it needs no derivative")
        return (f"no derivative rule for {name} with respect to that argument: wrap the call in "
                "ignore_derivatives if it needs no derivative, or write it with zygote_nb.numpy")
    if "Implicit conversion to a NumPy array" in message or "Unsupported type <class 'numpy.ndarray'>" in message:
        return (f"a NumPy array met a device (CuPy) array ({message.splitlines()[0]}): make constants with the "
                "inputs' library (cupy.asarray(c)), or put everything on one backend with "
                "zygote_nb.using_backend(...)")
    if "Box" in message or "__array_function__" in message:
        return (f"a traced value reached code that cannot trace it ({message.splitlines()[0]}): "
                "use zygote_nb.numpy (import zygote_nb.numpy as np) instead of math or Python "
                "built-ins, or wrap that part in ignore_derivatives")
    return None


class explained_errors:
    """Re-raise tracing errors as a one-line :class:`DifferentiationError` that names the fix.

    A class rather than a generator-based context manager: every operator call enters one.
    """

    def __enter__(self) -> None:
        return None

    def __exit__(self, error_type, error, traceback) -> bool:
        if error is None or isinstance(error, DifferentiationError):
            return False
        if not isinstance(error, (TypeError, ValueError, NotImplementedError, KeyError, AttributeError, IndexError)):
            return False
        message = explain(error)
        if message is None:
            return False
        raise DifferentiationError(message) from None
