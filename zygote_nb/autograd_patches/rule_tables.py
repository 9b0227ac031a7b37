"""zygote_nb's own derivative rules for autograd's primitives, kept beside autograd's tables.

Rules zygote_nb gives to autograd's primitives (anything in autograd.numpy): a
missing forward rule, a repaired one, a derivative for a ufunc autograd wraps
without one.  Registered in autograd's own ``primitive_vjps`` /
``primitive_jvps`` they would change plain autograd; kept here, only the nodes
of zygote_nb's traces see them (``RecordedNode``, :class:`OwnJVPNode`,
:class:`OwnVJPNode`, the engine's and per_sample's passes).
"""

from __future__ import annotations

from typing import Any, Callable

from autograd.core import JVPNode, VJPNode, backward_pass, primitive_jvps, primitive_vjps, trace, vspace

from .traces import own_traces, register_node_type

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
