import os

import pytest

PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "imerit_ango")


def test_package_passes_mypy_strict() -> None:
    mypy = pytest.importorskip("mypy.api")
    stdout, stderr, status = mypy.run(["--strict", "--no-incremental", os.path.abspath(PACKAGE)])
    assert status == 0, stdout + stderr


def test_stubs_and_marker_ship_with_the_package() -> None:
    import imerit_ango
    root = os.path.dirname(imerit_ango.__file__)
    assert os.path.exists(os.path.join(root, "py.typed"))
    assert os.path.exists(os.path.join(root, "_native.pyi"))
