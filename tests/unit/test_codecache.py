"""app.codecache: the code dataclasses and typing compile at each start, kept between starts. What comes
from the cache is what compiling the same text gives, classes built with it behave the same, and a bad
or missing file only means compiling again."""

from __future__ import annotations

import dataclasses
import marshal
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import codecache


@pytest.fixture
def cache_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "cache" / "start-code"
    codecache.stop()   # whatever the test left started


def make_classes() -> tuple[type, type]:
    @dataclasses.dataclass(frozen=True, order=True)
    class Point:
        x: int
        y: int = 0
        tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)

    @dataclasses.dataclass(slots=True, kw_only=True)
    class Line:
        start: Point
        end: Point | None = None
    return Point, Line


def check(point_class: type, line_class: type) -> None:
    point = point_class(1, 2)
    assert point == point_class(1, 2, ()) and point < point_class(2)
    assert repr(point).endswith("Point(x=1, y=2, tags=())")
    assert hash(point) == hash(point_class(1, 2, ()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 3
    line = line_class(start=point)
    assert line.end is None and line == line_class(start=point_class(1, 2))
    with pytest.raises(TypeError):
        line_class(point)   # keyword only


def test_classes_built_from_the_cache_are_the_classes_python_builds(cache_path: Path) -> None:
    plain = make_classes()
    codecache.start(cache_path)
    first = make_classes()
    codecache.stop()
    assert cache_path.exists()
    codecache.start(cache_path)
    cache = codecache._ACTIVE[0]
    cached = make_classes()
    assert cache.compiled == 0 and cache.used   # every function came from the file
    codecache.stop()
    for classes in (plain, first, cached):
        check(*classes)
    for name in ("__init__", "__repr__", "__eq__", "__lt__", "__setattr__", "__hash__"):
        ours, python = getattr(cached[0], name), getattr(plain[0], name)
        assert ours.__code__ == python.__code__, name
        # This test module's `from __future__ import annotations` must not leak into the generated code.
        assert ours.__annotations__ == python.__annotations__, name
    assert cached[1].__init__.__code__ == plain[1].__init__.__code__


def test_every_cached_code_is_what_compile_makes_of_its_text(cache_path: Path) -> None:
    codecache.start(cache_path)
    make_classes()
    point_class, line_class = make_classes()
    typing.get_type_hints(line_class, localns={"Point": point_class})   # string annotations: typing compiles them
    codecache.stop()
    known = marshal.loads(cache_path.read_bytes()[len(codecache.MAGIC_NUMBER):])
    assert {mode for _source, mode in known} == {"exec", "eval"}
    for (source, mode), code in known.items():
        assert code == compile(source, "<string>", mode, dont_inherit=True)


def test_the_hooks_are_gone_after_the_start(cache_path: Path) -> None:
    codecache.start(cache_path)
    assert "exec" in vars(dataclasses) and "compile" in vars(typing)
    codecache.stop()
    assert "exec" not in vars(dataclasses) and "compile" not in vars(typing)
    codecache.stop()   # twice: nothing happens


@pytest.mark.parametrize("content", [b"", b"garbage", codecache.MAGIC_NUMBER + b"\x00\x01garbage",
                                     b"\x00\x00\x0d\x0a" + marshal.dumps({}),
                                     codecache.MAGIC_NUMBER + marshal.dumps([1, 2])])
def test_a_damaged_or_foreign_file_means_compiling_again(cache_path: Path, content: bytes) -> None:
    cache_path.parent.mkdir(parents=True)
    cache_path.write_bytes(content)
    codecache.start(cache_path)
    check(*make_classes())
    assert codecache._ACTIVE[0].compiled > 0
    codecache.stop()
    assert marshal.loads(cache_path.read_bytes()[len(codecache.MAGIC_NUMBER):])   # written anew


def test_a_folder_that_cannot_be_written_means_no_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    codecache.start(blocker / "start-code")
    check(*make_classes())
    codecache.stop()   # no error
    assert list(tmp_path.iterdir()) == [blocker]
