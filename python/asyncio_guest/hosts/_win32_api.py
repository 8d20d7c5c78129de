"""ctypes declarations of the few Win32 functions the Win32 host and its sample use.

Every function gets ``argtypes`` and ``restype``: without them ctypes passes and returns C
``int``, which truncates handles and ``WPARAM``/``LPARAM``/``LRESULT`` (pointer-sized) on
64-bit Windows.  The types and structures are defined on every platform (so the host's logic
can be unit-tested on Linux with a fake ``user32``); :func:`load` works only on Windows.
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes
from types import SimpleNamespace
from typing import Any

# Pointer-sized integers (wintypes has WPARAM/LPARAM; LRESULT and UINT_PTR are spelled out).
WPARAM = ctypes.c_size_t  # UINT_PTR
LPARAM = ctypes.c_ssize_t  # LONG_PTR
LRESULT = ctypes.c_ssize_t  # LONG_PTR
UINT_PTR = ctypes.c_size_t

# WINFUNCTYPE (stdcall) exists only on Windows; on x64 there is one calling convention, so
# CFUNCTYPE builds the same callback type for the Linux unit tests.
_FUNCTYPE: Any = getattr(ctypes, "WINFUNCTYPE", ctypes.CFUNCTYPE)
WNDPROC = _FUNCTYPE(LRESULT, wintypes.HWND, wintypes.UINT, WPARAM, LPARAM)


class WNDCLASSEXW(ctypes.Structure):
    _fields_ = [
        ("cbSize", wintypes.UINT),
        ("style", wintypes.UINT),
        ("lpfnWndProc", WNDPROC),
        ("cbClsExtra", ctypes.c_int),
        ("cbWndExtra", ctypes.c_int),
        ("hInstance", wintypes.HINSTANCE),
        ("hIcon", wintypes.HICON),
        ("hCursor", wintypes.HANDLE),
        ("hbrBackground", wintypes.HBRUSH),
        ("lpszMenuName", wintypes.LPCWSTR),
        ("lpszClassName", wintypes.LPCWSTR),
        ("hIconSm", wintypes.HICON),
    ]


class POINT(ctypes.Structure):
    # Win32 LONG is 32-bit everywhere; wintypes.LONG is C long (64-bit on Linux).
    _fields_ = [("x", ctypes.c_int32), ("y", ctypes.c_int32)]


class MSG(ctypes.Structure):
    # Fixed-width fields so the layout is Windows' (48 bytes on x64) on every platform.
    _fields_ = [
        ("hWnd", wintypes.HWND),
        ("message", ctypes.c_uint32),
        ("wParam", WPARAM),
        ("lParam", LPARAM),
        ("time", ctypes.c_uint32),
        ("pt", POINT),
    ]


class INITCOMMONCONTROLSEX(ctypes.Structure):
    _fields_ = [("dwSize", ctypes.c_uint32), ("dwICC", ctypes.c_uint32)]


#: Parent of message-only windows (never visible, receive no broadcasts).
HWND_MESSAGE = -3
WM_DESTROY = 0x0002
WM_SETFONT = 0x0030
WM_CLOSE = 0x0010
WM_COMMAND = 0x0111
WM_TIMER = 0x0113
WM_USER = 0x0400
#: Private messages start at WM_APP (WM_USER+n is used by controls' own messages).
WM_APP = 0x8000
# GetQueueStatus flags (winuser.h): QS_TIMER means a WM_TIMER is due.
QS_KEY, QS_MOUSEMOVE, QS_MOUSEBUTTON, QS_TIMER, QS_PAINT = 0x1, 0x2, 0x4, 0x10, 0x20
QS_RAWINPUT = 0x400
#: QS_INPUT as defined before Windows 8 (later headers add QS_TOUCH|QS_POINTER, which
#: older systems reject as invalid flags).
QS_INPUT = QS_KEY | QS_MOUSEMOVE | QS_MOUSEBUTTON | QS_RAWINPUT

_USER32 = {
    # name: (restype, argtypes)
    "RegisterClassExW": (wintypes.ATOM, [ctypes.POINTER(WNDCLASSEXW)]),
    "UnregisterClassW": (wintypes.BOOL, [wintypes.LPCWSTR, wintypes.HINSTANCE]),
    "CreateWindowExW": (
        wintypes.HWND,
        [
            wintypes.DWORD,
            wintypes.LPCWSTR,
            wintypes.LPCWSTR,
            wintypes.DWORD,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            wintypes.HWND,
            wintypes.HMENU,
            wintypes.HINSTANCE,
            wintypes.LPVOID,
        ],
    ),
    "DestroyWindow": (wintypes.BOOL, [wintypes.HWND]),
    "DefWindowProcW": (LRESULT, [wintypes.HWND, wintypes.UINT, WPARAM, LPARAM]),
    "PostMessageW": (wintypes.BOOL, [wintypes.HWND, wintypes.UINT, WPARAM, LPARAM]),
    "SendMessageW": (LRESULT, [wintypes.HWND, wintypes.UINT, WPARAM, LPARAM]),
    "GetMessageW": (
        wintypes.BOOL,
        [ctypes.POINTER(MSG), wintypes.HWND, wintypes.UINT, wintypes.UINT],
    ),
    "TranslateMessage": (wintypes.BOOL, [ctypes.POINTER(MSG)]),
    "DispatchMessageW": (LRESULT, [ctypes.POINTER(MSG)]),
    "PostQuitMessage": (None, [ctypes.c_int]),
    "SetTimer": (UINT_PTR, [wintypes.HWND, UINT_PTR, wintypes.UINT, wintypes.LPVOID]),
    "KillTimer": (wintypes.BOOL, [wintypes.HWND, UINT_PTR]),
    "GetQueueStatus": (wintypes.DWORD, [wintypes.UINT]),
    # For the sample window.
    "ShowWindow": (wintypes.BOOL, [wintypes.HWND, ctypes.c_int]),
    "UpdateWindow": (wintypes.BOOL, [wintypes.HWND]),
    "SetWindowTextW": (wintypes.BOOL, [wintypes.HWND, wintypes.LPCWSTR]),
    "EnableWindow": (wintypes.BOOL, [wintypes.HWND, wintypes.BOOL]),
    "MessageBoxW": (
        ctypes.c_int,
        [wintypes.HWND, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.UINT],
    ),
    "LoadCursorW": (wintypes.HANDLE, [wintypes.HINSTANCE, wintypes.LPVOID]),
    "GetSysColorBrush": (wintypes.HBRUSH, [ctypes.c_int]),
}
_KERNEL32 = {
    "GetModuleHandleW": (wintypes.HMODULE, [wintypes.LPCWSTR]),
}
_GDI32 = {
    "GetStockObject": (wintypes.HGDIOBJ, [ctypes.c_int]),
}
_COMCTL32 = {
    "InitCommonControlsEx": (wintypes.BOOL, [ctypes.POINTER(INITCOMMONCONTROLSEX)]),
}


def _declare(dll: Any, table: dict[str, tuple[Any, list[Any]]]) -> Any:
    for name, (restype, argtypes) in table.items():
        fn = getattr(dll, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return dll


def load() -> SimpleNamespace:
    """``user32``, ``kernel32``, ``gdi32``, ``comctl32`` with prototypes set (Windows only)."""
    if sys.platform != "win32":
        raise OSError(f"the Win32 host needs Windows (sys.platform is {sys.platform!r})")
    windll: Any = getattr(ctypes, "WinDLL")  # noqa: B009 - absent on other platforms
    return SimpleNamespace(
        user32=_declare(windll("user32", use_last_error=True), _USER32),
        kernel32=_declare(windll("kernel32", use_last_error=True), _KERNEL32),
        gdi32=_declare(windll("gdi32", use_last_error=True), _GDI32),
        comctl32=_declare(windll("comctl32", use_last_error=True), _COMCTL32),
    )


def last_error() -> OSError:
    """The calling thread's last Win32 error as an OSError (``ctypes.WinError``)."""
    win_error: Any = getattr(ctypes, "WinError", None)
    get_last_error: Any = getattr(ctypes, "get_last_error", lambda: 0)
    if win_error is None:  # not Windows: the unit tests' fake user32
        return OSError("Win32 call failed")
    return win_error(get_last_error())  # type: ignore[no-any-return]
