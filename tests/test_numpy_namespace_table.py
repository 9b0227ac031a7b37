"""The docs' table of zygote_nb.numpy is the one the code and the fuzzer give today."""

from fuzz.namespace_table import page_table, table


def test_the_docs_table_of_the_numpy_namespace_is_up_to_date():
    assert page_table() == table(), (
        "docs/numpy_namespace.md is out of date: run `cd tests && python -m fuzz.namespace_table`")


def test_the_table_reports_each_kind_of_function():
    rows = {line.split("|")[1].strip(" `"): line for line in table().splitlines() if line.startswith("| `")}
    assert "| rule | rule | rule |" in rows["sin"]
    assert "| composition | composition | composition |" in rows["tile"]
    assert "`axis=tuple`" in rows["sum"] and "`keepdims=`" in rows["sum"]
    assert "`argmax`" in table().split("**Zero derivative**")[1].split("**No derivative rule**")[0]
