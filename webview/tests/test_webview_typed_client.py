"""The wire codec and the TypeScript declarations, without a window.

The ``.d.ts`` is checked with the real TypeScript compiler (``tsc``, Debian's
``node-typescript``): a page that uses the bound functions correctly compiles, and one
that passes a wrong type or misuses a stream does not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any, AsyncIterator, Optional, TypedDict

import pytest

NEEDS_DISPLAY = False

codec = pytest.importorskip("asyncio_guest_webview._codec")


def test_plain_json_is_not_enveloped() -> None:
    assert codec.encode({"a": [1, 2.5, "x", None, True]}, "v") == '{"a":[1,2.5,"x",null,true]}'


def test_binary_is_tagged_inside_an_envelope_and_decodes_back() -> None:
    value = {"raw": b"\x00\xff", "ba": bytearray(b"ab"), "mv": memoryview(b"xyz")[1:], "n": 1}
    text = codec.encode(value, "v")
    wire = json.loads(text)
    assert list(wire) == [codec.ENVELOPE_KEY]
    assert wire[codec.ENVELOPE_KEY]["raw"] == {codec.BYTES_KEY: "AP8="}
    assert codec.decode(wire) == {"raw": b"\x00\xff", "ba": b"ab", "mv": b"yz", "n": 1}


def test_a_strided_memoryview_sends_its_elements() -> None:
    view = memoryview(b"abcdef")[::2]
    assert codec.decode(json.loads(codec.encode(view, "v"))) == b"ace"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1, 2}, "the result of f() is a set, which cannot cross to JavaScript"),
        ([1, object()], "the result of f()[1] is an object, which cannot cross"),
        ({"k": [b"x", float("nan")]}, "the result of f()['k'][1] is a float"),
        ({(1, 2): b"x"}, "has a key (1, 2) of type tuple"),
        ({codec.BYTES_KEY: b"x"}, "uses the reserved key"),
    ],
)
def test_values_that_cannot_cross_name_their_place(value: Any, message: str) -> None:
    with pytest.raises(TypeError) as info:
        codec.encode(value, "the result of f()")
    assert message in str(info.value)


def test_a_cycle_is_an_error_not_a_recursion() -> None:
    cycle: list[Any] = [b"x"]
    cycle.append(cycle)
    with pytest.raises(TypeError, match=r"the result of f\(\)\[1\] contains itself"):
        codec.encode(cycle, "the result of f()")


def test_keys_convert_the_way_json_converts_them() -> None:
    value = {1: b"", False: 2, None: 3}
    assert codec.decode(json.loads(codec.encode(value, "v"))) == {"1": b"", "false": 2, "null": 3}


def test_js_tags_decode_to_bytes_and_int() -> None:
    wire = {codec.ENVELOPE_KEY: [{codec.BYTES_KEY: "AQI="}, {codec.INT_KEY: str(2**70)}]}
    assert codec.decode(wire) == [b"\x01\x02", 2**70]
    # Without the envelope nothing is interpreted.
    assert codec.decode({codec.BYTES_KEY: "AQI="}) == {codec.BYTES_KEY: "AQI="}


# ---------------------------------------------------------------------- TypeScript

typed = pytest.importorskip("asyncio_guest_webview")


class User(TypedDict):
    id: int
    name: str
    tags: list[str]


async def fetch_user(user_id: int, verbose: bool = False) -> User:
    """Fetch one user."""
    return {"id": user_id, "name": "Ada", "tags": []}


async def progress(url: str) -> AsyncIterator[float]:
    yield 0.5


async def chunks(count: int):  # type: ignore[no-untyped-def]  # unannotated on purpose
    yield b""


def thumbnail(image: bytes, size: Optional[int] = None) -> bytes:
    return image


def scores() -> dict[str, list[float]]:
    return {}


BINDINGS = {
    "fetchUser": fetch_user,
    "progress": progress,
    "chunks": chunks,
    "thumbnail": thumbnail,
    "scores": scores,
}

GOOD_PAGE = """
async function main(signal: AbortSignal): Promise<void> {
  const user = await fetchUser(7);
  const name: string = user.name;
  const tags: string[] = user.tags;
  const call = fetchUser(8, true, signal);
  call.cancel();
  for await (const fraction of progress("http://x")) {
    const f: number = fraction;
  }
  const stream = await progress("http://y");
  await stream.return!(undefined);
  for await (const chunk of chunks(3)) { console.log(chunk); }
  const image: Uint8Array = await thumbnail(new Uint8Array([1, 2]));
  await thumbnail(new ArrayBuffer(4), 32);
  await window.thumbnail(new Blob(["x"]), null);
  const s: Record<string, number[]> = await scores();
  const off = asyncioGuest.on("tick", (payload) => console.log(payload, name, tags, image, s));
  off();
}
"""

BAD_PAGES = {
    "wrong argument type": 'fetchUser("seven");',
    "stream is not a number": "async function f() { const n: number = await progress('u'); }",
    "bytes result is not a string": (
        "async function f() { const s: string = await thumbnail(new Uint8Array()); }"
    ),
    "too many arguments": "fetchUser(1, true, 3);",
}


def test_typescript_declares_promises_streams_and_binary() -> None:
    text = typed.typescript(BINDINGS)
    assert (
        "declare function fetchUser(user_id: number, verbose?: boolean, signal?: AbortSignal): "
        "AsyncioGuestCall<{ id: number; name: string; tags: Array<string> }>;" in text
    )
    assert (
        "declare function progress(url: string, signal?: AbortSignal): "
        "AsyncioGuestStreamCall<number>;" in text
    )
    assert (
        "declare function chunks(count: number, signal?: AbortSignal): "
        "AsyncioGuestStreamCall<unknown>;" in text
    )
    assert (
        "declare function thumbnail(image: ArrayBuffer | ArrayBufferView | Blob, "
        "size?: number | null, signal?: AbortSignal): AsyncioGuestCall<Uint8Array>;" in text
    )
    assert "/** Fetch one user. */" in text


def _tsc() -> str:
    tsc = shutil.which("tsc")
    if tsc is None and not os.environ.get("CI"):
        pytest.skip(
            "tsc is not installed (Debian: node-typescript; webview/scripts/install-webview.sh)"
        )
    assert tsc is not None, "CI installs node-typescript"
    return tsc


def _compile(tsc: str, folder: str, page: str) -> subprocess.CompletedProcess[str]:
    with open(os.path.join(folder, "page.ts"), "w") as f:
        f.write(page)
    return subprocess.run(
        [
            tsc,
            "--noEmit",
            "--strict",
            "--target",
            "es2020",
            "--lib",
            "es2020,dom,dom.iterable",
            "api.d.ts",
            "page.ts",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_tsc_accepts_a_correct_page_and_rejects_wrong_ones(tmp_path: Any) -> None:
    tsc = _tsc()
    # The command, as a user runs it: module:attribute -> api.d.ts.
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "asyncio_guest_webview",
            "dts",
            "test_webview_typed_client:BINDINGS",
            "-o",
            str(tmp_path / "api.d.ts"),
        ],
        check=True,
        env=env,
        timeout=60,
    )
    assert (tmp_path / "api.d.ts").read_text() == typed.typescript(BINDINGS)
    good = _compile(tsc, str(tmp_path), GOOD_PAGE)
    assert good.returncode == 0, good.stdout + good.stderr
    for label, page in BAD_PAGES.items():
        bad = _compile(tsc, str(tmp_path), page)
        assert bad.returncode != 0, label
        assert "page.ts" in bad.stdout and "error TS" in bad.stdout, (label, bad.stdout)


def test_dts_command_explains_a_bad_target() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "asyncio_guest_webview", "dts", "no_such_module_xyz:thing"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "cannot import 'no_such_module_xyz'" in proc.stderr


def test_version_is_the_package_and_the_library_is_reachable() -> None:
    from importlib.metadata import version

    assert typed.version() == version("asyncio-guest-webview")
    assert typed.library_version() == "0.12.0"
