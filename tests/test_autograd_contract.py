"""The parts of autograd that zygote_nb relies on, pinned (see zygote_nb/autograd_patches/).

An autograd release that renames or reshapes any of these fails here, with the
internal named, before it can change a gradient.
"""

import ast
import importlib
import importlib.metadata
import inspect
import pathlib
import tomllib
from collections import defaultdict

import autograd
import autograd.numpy as anp
import numpy
import pytest
from autograd.core import JVPNode, SparseObject, VJPNode, VSpace, add_outgrads, primitive_jvps, primitive_vjps, vspace
from autograd.numpy import numpy_vjps
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import Box, TraceStack, new_box, notrace_primitives, primitive, trace_stack

import zygote_nb
from zygote_nb import autograd_patches

PACKAGE = pathlib.Path(zygote_nb.__file__).parent


def autograd_uses():
    """``(file, module, name)`` for every ``from autograd... import name`` and every ``module.name``
    attribute read on an autograd module bound to a local name, in the package's code."""
    uses = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        local_modules = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("autograd"):
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    uses.add((path.name, node.module, alias.name))
                    if inspect.ismodule(getattr(importlib.import_module(node.module), alias.name, None)):
                        local_modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("autograd") and alias.asname:
                        local_modules[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in local_modules and isinstance(node.ctx, ast.Load)):
                uses.add((path.name, local_modules[node.value.id], node.attr))
    return sorted(uses)


def test_the_installed_autograd_is_within_the_bound_in_pyproject():
    (requirement,) = [line for line in tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"][
        "dependencies"] if line.startswith("autograd")]
    assert requirement == "autograd>=1.9,<=1.9.1"  # raise the upper bound only with this file passing
    version = tuple(int(part) for part in importlib.metadata.version("autograd").split(".")[:3])
    assert (1, 9) <= version <= (1, 9, 1)


def test_the_package_uses_autograd_internals():
    assert len(autograd_uses()) > 40  # the scan below found what it is meant to find


@pytest.mark.parametrize("use", autograd_uses(), ids=lambda use: f"{use[0]}:{use[1]}.{use[2]}")
def test_every_autograd_name_the_package_uses_exists(use):
    _, module, name = use
    assert hasattr(importlib.import_module(module), name), f"autograd no longer has {module}.{name}"


def test_a_primitive_keeps_its_function_in_a_closure_cell_named_f_raw():
    @primitive
    def double(x):
        return 2 * x

    assert "f_raw" in double.__code__.co_freevars
    autograd_patches.replace_primitive_body(double, lambda original: lambda x: original(x) + 1)
    assert double(3.0) == 7.0


def test_new_box_looks_up_box_type_mappings_and_turns_a_miss_into_type_error():
    assert Box.type_mappings is autograd.tracer.box_type_mappings
    with pytest.raises(TypeError, match="Can't differentiate w.r.t. type <class 'str'>"):
        new_box("text", 0, VJPNode.new_root())
    sentinel = object()
    Box.type_mappings[bytes] = lambda value, trace, node: sentinel
    try:
        assert new_box(b"x", 0, None) is sentinel
    finally:
        del Box.type_mappings[bytes]


def test_vspace_looks_up_vspace_mappings_and_turns_a_miss_into_type_error():
    with pytest.raises(TypeError, match="Can't find vector space"):
        vspace("text")
    VSpace.mappings[bytes] = lambda value: "space"
    try:
        assert vspace(b"x") == "space"
    finally:
        del VSpace.mappings[bytes]


def test_traced_types_are_recognised_by_membership_in_box_types():
    assert isinstance(Box.types, set) and ArrayBox in Box.types
    assert autograd_patches.IndexBox in Box.types
    assert autograd.tracer.box_types is Box.types


def test_vjp_node_has_the_fields_and_root_that_recorded_node_inlines():
    assert list(VJPNode.__slots__) == ["parents", "vjp"]
    parameters = list(inspect.signature(VJPNode.__init__).parameters)
    assert parameters == ["self", "value", "fun", "args", "kwargs", "parent_argnums", "parents"]
    root = VJPNode.new_root()
    assert list(root.parents) == [] and root.vjp(1.0) == ()


def test_rule_tables_are_dicts_keyed_by_primitive_with_the_documented_makers():
    vjp = primitive_vjps[anp.sin]((0,), numpy.sin(0.5), (0.5,), {})
    assert vjp(2.0) == (pytest.approx(2 * numpy.cos(0.5)),)
    tangent = primitive_jvps[anp.sin]((0,), [2.0], numpy.sin(0.5), (0.5,), {})
    assert tangent == pytest.approx(2 * numpy.cos(0.5))
    assert set(inspect.signature(JVPNode.__init__).parameters) >= {"value", "fun", "args", "kwargs", "parents"}


def test_notrace_primitives_is_a_set_per_node_type():
    assert isinstance(notrace_primitives, defaultdict)
    assert anp.equal in notrace_primitives[VJPNode]


def test_trace_stack_is_a_counter_with_a_context_manager_and_a_failed_trace_pops_its_level():
    assert isinstance(trace_stack, TraceStack) and trace_stack.top == -1
    with pytest.raises(ZeroDivisionError):
        with trace_stack.new_trace():
            1 / 0
    assert trace_stack.top == -1


def test_add_outgrads_returns_a_value_and_a_flag():
    total, flag = add_outgrads(None, numpy.ones(2))
    total, flag = add_outgrads((total, flag), numpy.ones(2))
    numpy.testing.assert_array_equal(total, [2.0, 2.0])


def test_sparse_object_has_a_space_and_an_adder():
    sparse = SparseObject(vspace(numpy.zeros(2)), lambda target: target)
    assert sparse.vs.shape == (2,) and callable(sparse.mut_add)


def test_the_reduction_rules_call_repeat_to_match_shape_by_its_module_name():
    original = numpy_vjps.repeat_to_match_shape
    calls = []
    autograd_patches.replace_vjp_helper("repeat_to_match_shape",
                                        lambda host: lambda *args: calls.append(args) or host(*args))
    try:
        assert autograd.grad(lambda x: anp.sum(x))(numpy.ones(3)).tolist() == [1.0, 1.0, 1.0]
    finally:
        numpy_vjps.repeat_to_match_shape = original
    assert len(calls) == 1 and list(inspect.signature(original).parameters) == ["g", "shape", "dtype", "axis",
                                                                                  "keepdims"]


def test_numpy_array_functions_have_their_implementation():
    for function in (numpy.dot, numpy.block, numpy.concatenate, numpy.linalg.det):
        assert callable(function._implementation)


def test_arraybox_gets_numpys_ufunc_protocol_from_autograd_but_not_the_function_protocol():
    assert "__array_ufunc__" in vars(ArrayBox)
    installed = vars(ArrayBox)["__array_function__"]
    assert installed.__module__ == "zygote_nb.autograd_patches.arraybox"


def test_a_primitive_boxes_its_result_through_the_tracer_modules_new_box_looked_up_at_call_time():
    @primitive
    def double(x):
        return 2 * x

    assert "new_box" in double.__code__.co_names and double.__globals__ is vars(autograd.tracer)
    autograd_patches.install_ignore_blocks()
    assert autograd.tracer.new_box is not new_box  # the wrapper of ignore_derivatives, installed above
    boxed_results = []

    def keep_box_kind(x):
        autograd_patches.ignore_traces_up_to(trace_stack.top)
        try:
            boxed_results.append(isinstance(anp.sin(x), Box))
        finally:
            autograd_patches.ignore_traces_up_to(-1)
        boxed_results.append(isinstance(anp.sin(x), Box))
        return x

    autograd.grad(keep_box_kind)(1.0)
    assert boxed_results == [False, True]


def test_the_conversions_and_indexing_that_guarded_trace_wraps_are_methods_of_these_classes():
    assert "__bool__" in vars(Box) and "__bool__" not in vars(ArrayBox)  # ArrayBox inherits Box's
    assert {"__index__", "__int__"} <= set(vars(autograd_patches.IndexBox))
    assert "__getitem__" in vars(ArrayBox)
    with trace_stack.new_trace() as level, autograd_patches.guarded_trace(level, None, None):
        pass  # installs the wrappers
    assert vars(Box)["__bool__"].__module__ == "zygote_nb.autograd_patches.guarded"
    assert vars(ArrayBox)["__getitem__"].__module__ == "zygote_nb.autograd_patches.guarded"
    # outside a guarded trace a NumPy bool is still refused as autograd refuses it
    with pytest.raises(TypeError, match="Can't differentiate w.r.t. type <class 'numpy.bool"):
        new_box(numpy.bool_(True), 0, VJPNode.new_root())


def test_a_primitive_returns_plain_values_for_the_functions_in_notrace_primitives_of_its_node_type():
    class CountingNode(VJPNode):
        __slots__ = ()

    @primitive
    def double(x):
        return 2 * x

    autograd_patches.register_untraced(CountingNode, [double])
    with trace_stack.new_trace() as level:
        box = ArrayBox(numpy.ones(2), level, CountingNode.new_root())
        assert type(double(box)) is numpy.ndarray and isinstance(anp.sin(box), ArrayBox)


def test_autograds_rule_makers_write_into_its_tables_under_the_function_they_are_given():
    # define_own hands them a stand-in and moves its entries into zygote_nb's tables.
    from autograd.extend import def_linear, defjvp, defvjp

    @primitive
    def scaled(x):
        return 3.0 * x

    autograd_patches.define_own(defvjp, scaled, lambda ans, x: lambda g: 3.0 * g)
    autograd_patches.define_own(def_linear, scaled)
    autograd_patches.define_own(defjvp, anp.sin, lambda g, ans, x: g * anp.cos(x))
    try:
        assert primitive_jvps[anp.sin] is not autograd_patches.own_jvps[anp.sin]
    finally:
        del autograd_patches.own_jvps[anp.sin]
    assert scaled not in primitive_vjps and scaled not in primitive_jvps
    assert autograd_patches.own_vjps[scaled]((0,), 6.0, (2.0,), {})(1.0) == (3.0,)
    assert autograd_patches.own_jvps[scaled]((0,), [1.0], 6.0, (2.0,), {}) == 3.0


def test_jvp_node_keeps_its_tangent_in_g_and_has_its_own_notrace_set():
    assert list(JVPNode.__slots__) == ["g"]
    parameters = list(inspect.signature(JVPNode.__init__).parameters)
    assert parameters == ["self", "value", "fun", "args", "kwargs", "parent_argnums", "parents"]
    assert JVPNode.new_root(2.0).g == 2.0
    assert anp.equal in notrace_primitives[JVPNode]
    assert notrace_primitives[autograd_patches.OwnJVPNode] is notrace_primitives[JVPNode]
    assert notrace_primitives[autograd_patches.OwnVJPNode] is notrace_primitives[VJPNode]


def test_arraybox_methods_are_class_attributes_read_through_the_descriptor_protocol():
    # install_array_methods keeps autograd's attribute as the fallback, so it must be in the class dict.
    for name in ("repeat", "diagonal", "take", "trace", "ptp", "sum", "mean", "prod", "max", "min", "std", "var"):
        installed = vars(ArrayBox)[name]
        assert isinstance(installed, autograd_patches.OwnTraceAttribute) and installed.original is not None
    for name in ("copy", "dot", "real", "__floordiv__", "item", "__float__"):
        assert vars(ArrayBox)[name].original is None  # autograd's ArrayBox lacks them
