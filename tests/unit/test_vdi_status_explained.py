"""Known platform status codes get a plain-language reading beside the platform's own words."""

from atp_core.vdiplatform.errors import VdiApiError, VdiAuthError, explain_status


def test_known_codes_read_in_plain_language_beside_the_original():
    wrong = VdiAuthError(5099, "密码错误", method="POST", path="/ocloud/v1/login")
    text = str(wrong)
    assert "5099: 密码错误" in text, "the original code and message stay"
    assert "wrong password: check the endpoint's password" in text
    assert wrong.explanation == explain_status(5099)
    for code in (1006, 5098, 5100, 5101, 5102):
        assert explain_status(code), code


def test_unknown_codes_keep_only_the_original():
    err = VdiApiError(4321, "未知错误")
    assert str(err) == "VDI: platform status 4321: 未知错误"
    assert err.explanation == ""
