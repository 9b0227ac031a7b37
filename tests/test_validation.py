"""zygote_nb.validation: one output check, raised as TypeError by the operators and UsageError by the magics."""

import re

import numpy
import pytest
from IPython.core.error import UsageError

import zygote_nb as zn
from zygote_nb.notebook.derivatives import output_check

BAD_OUTPUTS = {
    "a string": ("text", "is a str, not a number"),
    "a complex number": (1 + 2j, "is complex"),
    "a boolean array": (numpy.array([True]), "holds bool values"),
    "an array": (numpy.ones(3), "is an array of shape (3,)"),
}


@pytest.mark.parametrize("name", list(BAD_OUTPUTS))
def test_gradient_and_the_gradient_magic_refuse_an_output_with_the_same_words(name):
    output, problem = BAD_OUTPUTS[name]
    with pytest.raises(TypeError, match="^gradient needs a real scalar output, but f's output " + re.escape(problem)) as api:
        zn.gradient(lambda x: output, 1.0)
    with pytest.raises(UsageError, match=re.escape(f"`y` {problem}")) as magic:
        output_check("%%gradient")(output, "y")
    assert len(str(api.value).splitlines()) == len(str(magic.value).splitlines()) == 1


def test_jacobian_and_its_magic_take_an_array_and_refuse_a_string():
    assert zn.jacobian(lambda x: x * numpy.ones(2), 1.0)[0].tolist() == [1.0, 1.0]
    output_check("%%jacobian")(numpy.ones(2), "y")
    with pytest.raises(TypeError, match="is a str, not a number or an array"):
        zn.jacobian(lambda x: "text", 1.0)
    with pytest.raises(UsageError, match="is a str, not a number or an array"):
        output_check("%%jacobian")("text", "y")


@pytest.mark.parametrize("operator", [zn.gradient, zn.withgradient, zn.trace_gradient])
def test_the_scalar_operators_name_the_fix_for_an_array_output(operator):
    with pytest.raises(TypeError, match=re.escape("is an array of shape (2,): use jacobian(f, ...) for an array "
                                                  "output, or reduce it (np.sum)")):
        operator(lambda x: x * numpy.ones(2), 1.0)
