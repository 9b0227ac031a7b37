"""zygote_nb.params, grads and substitution: Params, IdDict, Grads, and the substitution of implicit parameters.

The substitution tests use plain sentinel objects as replacements: no autograd.
"""

import collections
import functools

import numpy as np
import pytest

import zygote_nb as zn
from zygote_nb import substitution
from zygote_nb.grads import Grads, _html_table
from zygote_nb.params import IdDict, Params, is_parameter_array
from zygote_nb.substitution import substituted


# --- Params -------------------------------------------------------------------------------------


def test_params_is_an_ordered_identity_set():
    w, b = np.ones(2), np.ones(2)
    ps = Params([w, b, w])
    assert len(ps) == 2
    assert list(ps)[0] is w and list(ps)[1] is b
    assert w in ps and b in ps
    assert np.ones(2) not in ps
    assert "float64 (2,)" in repr(ps)


def test_params_append_extend_remove():
    w, b, c = np.ones(1), np.ones(2), np.ones(3)
    ps = Params()
    ps.append(w)
    ps.append(w)
    ps.extend([b, c])
    assert [p.size for p in ps] == [1, 2, 3]
    ps.remove(b)
    assert [p.size for p in ps] == [1, 3]
    with pytest.raises(KeyError, match="not one of the parameters"):
        ps.remove(np.ones(2))


@pytest.mark.parametrize("bad, index, kind", [([np.ones(1), [1.0]], 1, "list"), ([2.0], 0, "float")])
def test_params_rejects_non_arrays_naming_index_and_type(bad, index, kind):
    with pytest.raises(TypeError, match=f"element {index} is a {kind}, not a numpy.ndarray"):
        Params(bad)


def test_params_of_a_bare_array_points_to_the_list_form():
    with pytest.raises(TypeError, match=r"Params\(\[w\]\)"):
        Params(np.ones(3))


def test_params_append_rejects_non_array():
    with pytest.raises(TypeError, match="append got a int"):
        Params().append(3)


def test_is_parameter_array():
    assert is_parameter_array(np.ones(()))
    assert not is_parameter_array((1.0,))


def test_copy_from_writes_in_c_order_in_place():
    w, b = np.zeros((2, 2)), np.zeros(3)
    Params([w, b]).copy_from(np.arange(7.0))
    np.testing.assert_array_equal(w, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(b, [4, 5, 6])


def test_copy_from_length_mismatch():
    with pytest.raises(ValueError, match="length 3"):
        Params([np.zeros(3)]).copy_from(np.zeros(4))


# --- IdDict -------------------------------------------------------------------------------------


def test_iddict_keys_by_identity():
    a, b = np.ones(2), np.ones(2)
    d = IdDict([(a, 1), (b, 2)])
    assert d[a] == 1 and d[b] == 2 and len(d) == 2
    assert a in d and np.ones(2) not in d
    assert [k is a for k in d] == [True, False]
    assert list(d.values()) == [1, 2]
    assert [v for _, v in d.items()] == [1, 2]
    assert list(d.keys())[1] is b
    with pytest.raises(KeyError, match="identity"):
        d[np.ones(2)]
    del d[a]
    assert a not in d and len(d) == 1
    assert "float64 (2,) => 2" in repr(d)


# --- Grads --------------------------------------------------------------------------------------


@pytest.fixture
def two():
    w, b = np.ones(2), np.ones(3)
    gs1 = Grads(Params([w, b]), IdDict([(w, np.array([1.0, 2.0])), (b, np.array([3.0, 4.0, 5.0]))]))
    gs2 = Grads(Params([w, b]), IdDict([(w, np.array([10.0, 20.0]))]))
    return w, b, gs1, gs2


def test_grads_lookup_and_views(two):
    w, b, gs1, gs2 = two
    np.testing.assert_array_equal(gs1[w], [1.0, 2.0])
    assert gs2[b] is None
    assert w in gs1 and np.ones(2) not in gs1
    assert len(gs1) == 2
    assert [p is q for p, q in zip(gs1, [w, b])] == [True, True]
    assert gs1.keys()[0] is w
    assert gs2.values()[1] is None
    assert [(p is w, g.tolist()) for p, g in gs1.items()][0] == (True, [1.0, 2.0])


def test_grads_lookup_of_a_non_parameter_is_a_key_error(two):
    _, _, gs1, _ = two
    with pytest.raises(KeyError, match="not one of the parameters of these Grads"):
        gs1[np.ones(2)]


def test_grads_rejects_gradients_for_strangers():
    w = np.ones(1)
    with pytest.raises(ValueError, match="not among the parameters"):
        Grads(Params([w]), IdDict([(np.ones(1), np.ones(1))]))


def test_grads_arithmetic_counts_none_as_zero(two):
    w, b, gs1, gs2 = two
    total = gs1 + gs2
    np.testing.assert_array_equal(total[w], [11.0, 22.0])
    np.testing.assert_array_equal(total[b], [3.0, 4.0, 5.0])
    np.testing.assert_array_equal((gs2 - gs1)[b], [-3.0, -4.0, -5.0])
    np.testing.assert_array_equal((gs1 * 2)[w], [2.0, 4.0])
    np.testing.assert_array_equal((2 * gs1)[b], [6.0, 8.0, 10.0])
    np.testing.assert_array_equal((gs1 / 2)[w], [0.5, 1.0])
    np.testing.assert_array_equal((-gs2)[b], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal((gs1 + IdDict([(w, np.ones(2)), (b, None)]))[w], [2.0, 3.0])
    np.testing.assert_array_equal(gs1[w], [1.0, 2.0])


def test_grads_in_place_add_keeps_gradient_arrays(two):
    w, b, gs1, gs2 = two
    gradient_w = gs1[w]
    original = gs1
    gs1 += gs2
    assert gs1 is original and gs1[w] is gradient_w
    np.testing.assert_array_equal(gradient_w, [11.0, 22.0])
    gs2 += IdDict([(w, np.ones(2)), (b, np.ones(3))])
    np.testing.assert_array_equal(gs2[w], [11.0, 21.0])
    np.testing.assert_array_equal(gs2[b], [1.0, 1.0, 1.0])


def test_grads_over_different_parameter_sets_cannot_combine(two):
    w, b, gs1, _ = two
    only_w = Grads(Params([w]), IdDict([(w, np.ones(2))]))
    for combine in (lambda: gs1 + only_w, lambda: gs1 - only_w, lambda: only_w + gs1):
        with pytest.raises(ValueError, match="parameter sets differ"):
            combine()
    with pytest.raises(ValueError, match="parameter sets differ"):
        gs1 += IdDict([(w, np.ones(2)), (np.ones(3), np.ones(3))])


def test_grads_shape_mismatch_in_arithmetic(two):
    w, b, gs1, _ = two
    with pytest.raises(ValueError, match="shapes differ"):
        gs1 + IdDict([(w, np.ones(5)), (b, np.ones(3))])


def test_grads_times_grads_is_not_supported(two):
    _, _, gs1, gs2 = two
    with pytest.raises(TypeError):
        gs1 * gs2


def test_grads_map_returns_new_grads_and_keeps_none(two):
    w, b, _, gs2 = two
    clipped = gs2.map(lambda g: np.clip(g, -0.1, 0.1))
    assert isinstance(clipped, Grads) and clipped is not gs2
    np.testing.assert_array_equal(clipped[w], [0.1, 0.1])
    assert clipped[b] is None
    np.testing.assert_array_equal(gs2[w], [10.0, 20.0])


def test_grads_foreach_edits_in_place(two):
    w, b, gs1, _ = two
    seen = []
    gs1.foreach(lambda g: (seen.append(g.shape), np.clip(g, -0.1, 0.1, out=g)))
    assert seen == [(2,), (3,)]
    np.testing.assert_array_equal(gs1[w], [0.1, 0.1])


def test_grads_own_their_arrays_even_when_autograd_shares_one():
    w, b = np.ones(2), np.ones(2)
    shared = np.broadcast_to(np.ones(1), (2,))  # read-only, and the same object for both
    gs = Grads(Params([w, b]), IdDict([(w, shared), (b, shared)]))
    gs.foreach(lambda g: np.multiply(g, 3, out=g))
    assert gs[w] is not gs[b]
    np.testing.assert_array_equal(gs[w], [3.0, 3.0])
    np.testing.assert_array_equal(gs[b], [3.0, 3.0])


def test_grads_scalar_gradient_becomes_editable_array():
    w = np.ones(())
    gs = Grads(Params([w]), IdDict([(w, np.float64(2.0))]))
    gs.foreach(lambda g: np.multiply(g, 2, out=g))
    assert gs[w] == 4.0


def test_copy_to_fills_a_flat_vector(two):
    _, _, _, gs2 = two
    vector = np.full(5, np.nan)
    assert gs2.copy_to(vector) is vector
    np.testing.assert_array_equal(vector, [10.0, 20.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="length 5"):
        gs2.copy_to(np.zeros(4))


def test_grads_text_and_html_repr(two):
    w, b, gs1, gs2 = two
    gs1[w][0] = np.nan
    text = repr(gs1)
    assert text.splitlines()[0] == "Grads(2 parameters):"
    # The norm is over the finite entries, as in the flow view's statistics: here the one entry 2.
    assert "norm=2 min=2 max=2 nan/inf=1" in text
    assert "[1] parameter float64 (3,): gradient None" in repr(gs2)
    page = gs1._repr_html_()
    assert page.startswith("<table>") and page.count("<tr>") == 3
    assert "<td>float64 (3,)</td><td>7.071</td><td>3</td><td>5</td><td>0</td>" in page


def test_grads_repr_shows_the_gradients_dtype_and_shape_beside_the_parameters():
    w = np.array([[1, 2], [3, 4]])
    jacobians = zn.jacobian(lambda: np.sin(w[0]) * w[1].astype(float), Params([w]))
    assert "[0] parameter int64 (2, 2): gradient float64 (2, 4)," in repr(jacobians)
    assert repr(jacobians).splitlines()[0] == "Grads(1 parameter):"
    assert "<caption>Grads (1 parameter)</caption>" in jacobians._repr_html_()


def test_grads_plus_a_dict_names_idict():
    w = np.ones(2)
    gs = Grads(Params([w]), IdDict([(w, np.ones(2))]))
    with pytest.raises(TypeError, match=r"IdDict\(\[\(w, g\)\]\)"):
        gs + {"w": np.ones(2)}
    assert (gs + IdDict([(w, np.ones(2))]))[w].tolist() == [2.0, 2.0]


def test_builtin_map_iterates_the_parameters_and_grads_map_the_gradients():
    w = np.ones(2)
    gs = Grads(Params([w]), IdDict([(w, np.array([3.0, 4.0]))]))
    assert list(map(lambda array: array is w, gs)) == [True]
    assert gs.map(lambda g: 2 * g)[w].tolist() == [6.0, 8.0]


def test_html_table_escapes_every_cell():
    page = _html_table(["<b>"], [["<script>alert(1)</script>"]], caption="a & b")
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a &amp; b" in page


# --- substituted --------------------------------------------------------------------------------

GLOBAL_W = np.ones(3)


def read_global():
    return GLOBAL_W


def helper_reading_global():
    return GLOBAL_W


def loss_through_helper():
    return helper_reading_global()


class Layer:
    def __init__(self, size):
        self.W = np.ones(size)

    def __call__(self):
        return self.W


class SlottedLayer:
    __slots__ = ("W",)

    def __init__(self):
        self.W = np.ones(2)


class STANDIN:
    """A sentinel that marks where a replacement landed."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"STANDIN({self.name})"


def stand_ins(n):
    return [STANDIN(i) for i in range(n)]


def test_module_global_and_helper_function():
    sentinel = stand_ins(1)
    with substituted(loss_through_helper, [GLOBAL_W], sentinel) as found:
        assert loss_through_helper() is sentinel[0]
        assert read_global() is sentinel[0]
    assert found == [True]
    assert read_global() is GLOBAL_W


def test_closure_cells_and_defaults():
    w, v = np.ones(1), np.ones(2)

    def outer(scale=(v,)):
        return w, scale[0]

    sentinel = stand_ins(2)
    with substituted(outer, [w, v], sentinel) as found:
        assert outer() == (sentinel[0], sentinel[1])
    assert found == [True, True]
    assert outer()[0] is w and outer()[1] is v


def test_model_attribute_list_of_layers_and_dict_three_levels_deep():
    model = Layer(2)
    model.layers = [Layer(3), SlottedLayer()]
    model.table = {"deep": {"deeper": {"deepest": np.ones(4)}}}
    arrays = [model.W, model.layers[0].W, model.layers[1].W, model.table["deep"]["deeper"]["deepest"]]
    sentinel = stand_ins(4)

    def loss():
        return model

    with substituted(loss, arrays, sentinel) as found:
        assert model.W is sentinel[0]
        assert model.layers[0].W is sentinel[1]
        assert model.layers[1].W is sentinel[2]
        assert model.table["deep"]["deeper"]["deepest"] is sentinel[3]
    assert found == [True] * 4
    assert model.W is arrays[0] and model.layers[0].W is arrays[1] and model.layers[1].W is arrays[2]
    assert model.table["deep"]["deeper"]["deepest"] is arrays[3]


def test_tuples_are_rebuilt_and_the_original_tuple_restored():
    w, b = np.ones(1), np.ones(2)
    Pair = collections.namedtuple("Pair", "w b")
    holder = {"plain": (w, (b, 3)), "named": Pair(w, b)}
    plain, named = holder["plain"], holder["named"]
    sentinel = stand_ins(2)
    with substituted(lambda: holder, [w, b], sentinel):
        assert holder["plain"] == (sentinel[0], (sentinel[1], 3))
        assert isinstance(holder["named"], Pair) and holder["named"].b is sentinel[1]
    assert holder["plain"] is plain and holder["named"] is named
    assert plain[0] is w and plain[1][0] is b


def test_bound_method_and_callable_object():
    layer = Layer(2)
    original = layer.W
    sentinel = stand_ins(1)
    for loss in (layer.__call__, layer):
        with substituted(loss, [original], sentinel) as found:
            assert layer() is sentinel[0]
        assert found == [True] and layer.W is original


def test_method_of_a_reached_object_reading_a_global():
    class Reader:
        def read(self):
            return GLOBAL_W

    reader = Reader()
    sentinel = stand_ins(1)
    with substituted(lambda: reader.read(), [GLOBAL_W], sentinel) as found:
        assert reader.read() is sentinel[0]
    assert found == [True] and reader.read() is GLOBAL_W


def test_partial_and_lambda_inside_the_loss():
    w = np.ones(1)
    weights = {"w": w}
    loss = functools.partial(lambda table: [f() for f in [lambda: table["w"]]], table=weights)
    sentinel = stand_ins(1)
    with substituted(loss, [w], sentinel) as found:
        assert loss() == [sentinel[0]]
    assert found == [True] and weights["w"] is w


def test_unreachable_and_too_deep_parameters_are_reported_missing():
    hidden = np.ones(1)
    deep = np.ones(1)
    chain = deep
    for _ in range(10):
        chain = [chain]
    sentinel = stand_ins(2)
    with substituted(lambda: chain, [hidden, deep], sentinel) as found:
        pass
    assert found == [False, False]


def test_arrays_and_boxes_are_not_walked_into():
    w = np.ones(1)
    cage = np.empty(1, dtype=object)
    cage[0] = w
    with substituted(lambda: cage, [w], stand_ins(1)) as found:
        assert cage[0] is w
    assert found == [False]


def test_a_self_referencing_structure_terminates():
    w = np.ones(1)
    loop = [w]
    loop.append(loop)
    loop.append((loop, w))
    sentinel = stand_ins(1)
    with substituted(lambda: loop, [w], sentinel):
        assert loop[0] is sentinel[0] and loop[2][1] is sentinel[0]
    assert loop[0] is w and loop[2][1] is w


def test_restored_after_the_loss_raises():
    model = Layer(2)
    original = model.W
    with pytest.raises(ZeroDivisionError):
        with substituted(lambda: model, [original], stand_ins(1)):
            assert model.W is not original
            1 / 0
    assert model.W is original


def test_restored_after_keyboard_interrupt_inside():
    model = Layer(2)
    original = model.W
    with pytest.raises(KeyboardInterrupt):
        with substituted(lambda: (model, GLOBAL_W), [original, GLOBAL_W], stand_ins(2)):
            raise KeyboardInterrupt
    assert model.W is original and read_global() is GLOBAL_W


def test_restored_after_keyboard_interrupt_mid_walk(monkeypatch):
    layers = [Layer(1) for _ in range(4)]
    originals = [layer.W for layer in layers]
    calls = []
    real_write = substitution._Place.write

    def interrupted_write(place, value):
        calls.append(value)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_write(place, value)

    monkeypatch.setattr(substitution._Place, "write", interrupted_write)
    with pytest.raises(KeyboardInterrupt):
        with substituted(lambda: layers, originals, stand_ins(4)):
            pass
    assert [layer.W is original for layer, original in zip(layers, originals)] == [True] * 4


def test_restored_when_interrupted_while_restoring(monkeypatch):
    layers = [Layer(1) for _ in range(3)]
    originals = [layer.W for layer in layers]
    real_write = substitution._Place.write
    interrupts = []

    def write_once_interrupted(place, value):
        if any(value is original for original in originals) and not interrupts:
            interrupts.append(place)
            raise KeyboardInterrupt
        real_write(place, value)

    monkeypatch.setattr(substitution._Place, "write", write_once_interrupted)
    with pytest.raises(KeyboardInterrupt):
        with substituted(lambda: layers, originals, stand_ins(3)):
            pass
    assert interrupts
    assert [layer.W is original for layer, original in zip(layers, originals)] == [True] * 3


def test_replacement_count_must_match():
    with pytest.raises(ValueError, match="one replacement per parameter"):
        with substituted(lambda: None, [np.ones(1)], []):
            pass


class GuardedList(list):
    """A list that accepts a limited number of item writes."""

    def __init__(self, items, writes_allowed):
        super().__init__(items)
        self.writes_allowed = writes_allowed

    def __setitem__(self, index, value):
        if self.writes_allowed == 0:
            raise RuntimeError("guarded")
        self.writes_allowed -= 1
        super().__setitem__(index, value)


def test_a_place_that_refuses_the_stand_in_is_left_alone():
    w, b = np.ones(1), np.ones(2)
    guarded = GuardedList([w], writes_allowed=0)
    holder = {"guarded": guarded, "b": b}
    with substituted(lambda: holder, [w, b], stand_ins(2)) as found:
        assert guarded[0] is w
    assert found == [False, True] and holder["b"] is b


def test_a_place_that_refuses_its_original_back_is_reported_after_the_rest_are_restored():
    w, b = np.ones(1), np.ones(2)
    guarded = GuardedList([w], writes_allowed=1)
    holder = {"b": b, "guarded": guarded}
    with pytest.raises(RuntimeError, match="guarded"):
        with substituted(lambda: holder, [w, b], stand_ins(2)):
            pass
    assert holder["b"] is b


def test_a_tuple_that_cannot_be_put_back_in_place_is_not_reported_found():
    w = np.ones(1)
    loss = functools.partial(lambda pair: pair, (w, 1))
    with substituted(loss, [w], stand_ins(1)) as found:
        assert loss()[0] is w
    assert found == [False]
