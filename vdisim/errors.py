"""The simulator's refusals: ``SimError(status, msg)`` and the status codes it answers.

Error codes the vendor does not document are the simulator's own choice (see ``docs/vdi.md``).
"""

from __future__ import annotations

OK_MSG = "操作成功"
TOKEN_INVALID = (1006, "token校验失败")
USER_UNKNOWN = (5098, "用户不存在")
PASSWORD_WRONG = (5099, "密码错误")
BAD_PARAM = 4001  # 参数错误
NOT_FOUND = 4004
STATE_CONFLICT = 4009


class SimError(Exception):
    """A refusal answered as ``{status != 0, msg}`` with HTTP 200."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg
