"""Guest output decoding: UTF-8 first, GBK for Chinese Windows, never an exception."""

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
