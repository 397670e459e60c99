"""GuestAgent.exec: stdout, stderr and exit code; env; stdin; argv vs a shell string."""

import pytest

from atp_core.errors import InvalidInput, ProtocolError

pytestmark = pytest.mark.rig


def test_stdout_stderr_and_exit_code(vm_session):
    result = vm_session.agent.exec("echo out; echo err >&2; exit 7")
    assert (result.exit_code, result.stdout, result.stderr) == (7, "out\n", "err\n")
    assert result.pid and result.duration > 0 and not result.timed_out


def test_success_with_no_output(vm_session):
    result = vm_session.agent.exec("true")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_env_is_passed(vm_session):
    result = vm_session.agent.exec('echo "$ATP_A|$ATP_B"', env={"ATP_A": "one two", "ATP_B": "x=y"})
    assert result.stdout == "one two|x=y\n"


def test_stdin_text_and_bytes(vm_session):
    assert vm_session.agent.exec("tr a-z A-Z", stdin="hello\n").stdout == "HELLO\n"
    result = vm_session.agent.exec("od -An -tx1", stdin=bytes([0, 255, 10]))
    assert result.stdout.split() == ["00", "ff", "0a"]


def test_argv_is_not_interpreted_by_a_shell(vm_session):
    result = vm_session.agent.exec(argv=["/bin/echo", "$HOME", "a;b", "*"])
    assert result.stdout == "$HOME a;b *\n"
    shell = vm_session.agent.exec("echo a;echo b")
    assert shell.stdout == "a\nb\n"


def test_utf8_output(vm_session):
    result = vm_session.agent.exec("printf '\\344\\275\\240\\345\\245\\275 \\303\\251\\n'")
    assert result.stdout == "你好 é\n"


def test_missing_program_is_a_protocol_error_naming_the_domain(vm_session):
    with pytest.raises(ProtocolError, match=vm_session.name):
        vm_session.agent.exec(argv=["/no/such/program"])


def test_bad_arguments(vm_session):
    with pytest.raises(InvalidInput, match="exactly one of command"):
        vm_session.agent.exec("true", argv=["/bin/true"])
    with pytest.raises(InvalidInput, match="shell 'bash': allowed auto, sh, cmd, powershell"):
        vm_session.agent.exec("true", shell="bash")


def test_linux_guest_gets_sh(vm_session):
    assert vm_session.agent.os_family() == "linux"
    assert vm_session.agent.exec("echo $0").stdout == "/bin/sh\n"


def test_ping_sync_info_osinfo(vm_session):
    vm_session.agent.ping()
    vm_session.agent.sync()
    commands = {c["name"] for c in vm_session.agent.info()["supported_commands"]}
    assert {"guest-exec", "guest-file-open", "guest-shutdown"} <= commands
    assert vm_session.agent.osinfo()["id"] == "atpguest"
