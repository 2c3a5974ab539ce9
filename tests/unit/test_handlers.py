"""The one handler loader (``trafficgate_local.handlers``) of the worker, the rehearsal and the tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trafficgate_local.handlers import HandlerError, load_handler, load_handler_module, parse_handler_ref

HANDLER = """
loaded_from = __file__


def handler(event, context):
    return {"where": loaded_from, "event": event}
"""


@pytest.fixture(autouse=True)
def _forget_loaded_modules() -> Iterator[None]:
    """What a test loads does not stay in sys.modules (only the names these tests make up)."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("trafficgate_handler_", "tg_test_")):
            del sys.modules[name]


def write(path: Path, text: str = HANDLER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_loads_the_handler_file_by_path(tmp_path: Path) -> None:
    app = write(tmp_path / "fn" / "app.py")

    handler = load_handler(tmp_path / "fn", "app.handler")

    assert handler({"k": 1}, None) == {"where": str(app), "event": {"k": 1}}
    # By path, not by name: nothing called plain ``app`` was imported from sys.path.
    assert "app" not in sys.modules


def test_the_module_is_registered_under_its_unique_name(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "app.py")

    module = load_handler_module(tmp_path / "fn")

    assert sys.modules[module.__name__] is module
    assert module.__name__.startswith("trafficgate_handler_fn_app_")


def test_an_alias_names_the_module(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "app.py")

    module = load_handler_module(tmp_path / "fn", alias="tg_test_alias_app")

    assert module.__name__ == "tg_test_alias_app"
    assert sys.modules["tg_test_alias_app"] is module


def test_two_code_dirs_with_the_same_app_py_are_two_modules(tmp_path: Path) -> None:
    first = write(tmp_path / "before_install" / "app.py")
    second = write(tmp_path / "after_install" / "app.py")

    one = load_handler_module(first.parent)
    two = load_handler_module(second.parent)

    assert one is not two
    assert one.__name__ != two.__name__
    assert one.loaded_from == str(first)
    assert two.loaded_from == str(second)
    assert sys.modules[one.__name__] is one and sys.modules[two.__name__] is two


def test_a_dotted_module_path_is_a_file_in_a_package_directory(tmp_path: Path) -> None:
    mod = write(tmp_path / "fn" / "pkg" / "mod.py")

    handler = load_handler(tmp_path / "fn", "pkg.mod.handler")

    assert handler({}, None)["where"] == str(mod)


def test_under_its_own_name_a_package_module_can_import_relatively(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the worker loads it: code dir first on sys.path, the module under the name Lambda gives it."""
    code_dir = tmp_path / "fn"
    write(code_dir / "tg_test_pkg" / "__init__.py", "")
    write(code_dir / "tg_test_pkg" / "helper.py", "ANSWER = 42\n")
    write(
        code_dir / "tg_test_pkg" / "mod.py",
        "from .helper import ANSWER\n\n\ndef handler(event, context):\n    return ANSWER\n",
    )
    monkeypatch.syspath_prepend(str(code_dir))

    handler = load_handler(code_dir, "tg_test_pkg.mod.handler", alias="tg_test_pkg.mod")

    assert handler({}, None) == 42


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("app", "is not <module>.<function>"),
        (".handler", "is not <module>.<function>"),
        ("app..handler", "is not <module>.<function>"),
        ("../app.handler", "is not <module>.<function>"),
        ("missing.handler", "no module 'missing'"),
        ("app.nothere", "has no function 'nothere'"),
        ("app.NOT_CALLABLE", "has no function 'NOT_CALLABLE'"),
    ],
)
def test_a_bad_ref_names_the_ref(tmp_path: Path, ref: str, words: str) -> None:
    write(tmp_path / "fn" / "app.py", HANDLER + "\nNOT_CALLABLE = 1\n")

    with pytest.raises(HandlerError) as caught:
        load_handler(tmp_path / "fn", ref)

    assert f"handler {ref!r}" in str(caught.value)
    assert words in str(caught.value)


def test_an_error_of_the_module_itself_propagates_and_leaves_nothing_behind(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "app.py", "raise ImportError('no module named boto4')\n")

    with pytest.raises(ImportError, match="boto4"):
        load_handler_module(tmp_path / "fn")

    assert not [name for name in sys.modules if name.startswith("trafficgate_handler_fn_app_")]


def test_parse_handler_ref_splits_at_the_last_dot() -> None:
    assert parse_handler_ref("app.handler") == ("app", "handler")
    assert parse_handler_ref("pkg.mod.handler") == ("pkg.mod", "handler")
