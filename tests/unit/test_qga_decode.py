"""Guest output decoding: UTF-16 recognised, UTF-8 first, GBK for Chinese Windows, NUL
characters replaced, never an exception."""

import pytest

from atp_core.protocol.qga import decode_output


@pytest.mark.parametrize("text", ["", "plain ascii\n", "héllo wörld", "你好，世界", "emoji 🙂"])
def test_utf8(text):
    assert decode_output(text.encode("utf-8")) == text


@pytest.mark.parametrize(
    "text", ["你好，世界", "系统找不到指定的文件。\r\n", "C:\\用户\\管理员>dir", "中文 mixed 123"]
)
def test_gbk_fallback(text):
    raw = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the case the fallback exists for
    assert decode_output(raw) == text


def test_utf8_wins_when_both_would_decode():
    # pure ASCII and valid UTF-8 multibyte are never re-read as GBK
    assert decode_output("é".encode()) == "é"


def test_undecodable_bytes_are_replaced_not_raised():
    raw = b"ok \xff\xfe\xfd end"
    out = decode_output(raw)
    assert out.startswith("ok ") and out.endswith(" end") and "\ufffd" in out


def test_windows_line_endings_are_kept():
    assert decode_output(b"a\r\nb\r\n") == "a\r\nb\r\n"


@pytest.mark.parametrize(
    "raw, text",
    [
        (
            "Name  State\r\nvm1   Running\r\n".encode("utf-16-le"),
            "Name  State\r\nvm1   Running\r\n",
        ),
        ("héllo wörld\n".encode("utf-16-be"), "héllo wörld\n"),
        ("with a BOM\r\n".encode("utf-16"), "with a BOM\r\n"),
        ("odd length cut".encode("utf-16-le") + b"x", "odd length cut"),
    ],
)
def test_utf16_output_of_windows_tools_is_decoded(raw, text):
    assert "\x00" in raw.decode("utf-8", errors="replace")  # read as UTF-8 it holds NULs
    assert decode_output(raw) == text


def test_nul_characters_left_are_replaced():
    assert decode_output(b"a\x00b\x00\x00cdefgh") == "a\ufffdb\ufffd\ufffdcdefgh"
    assert "\x00" not in decode_output(bytes(range(256)))


def test_without_nul_cleans_nested_values():
    from atp_core.text import without_nul

    value = {"k\x00": ["a\x00", ("b", {"c": "\x00"})], "n": 1, "none": None}
    assert without_nul(value) == {
        "k\ufffd": ["a\ufffd", ("b", {"c": "\ufffd"})],
        "n": 1,
        "none": None,
    }
