"""Which array library a value belongs to.

NumPy is the default; CuPy arrays are recognised by their module so that the
core never imports CuPy unless the user passes one.

>>> import numpy
>>> is_device_array(numpy.ones(3))
False
"""

from typing import Any


def is_device_array(value: Any) -> bool:
    """Whether ``value`` is an array that lives on a GPU (a CuPy array)."""
    return type(value).__module__.partition(".")[0] == "cupy"
