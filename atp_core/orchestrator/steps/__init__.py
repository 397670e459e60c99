"""Step handlers by kind: ``HANDLERS[kind](call: StepCall) -> None``; containers (``loop``,
``parallel``, ``group``) are run by the executor itself."""

from __future__ import annotations

from collections.abc import Callable

from ..runtime import StepCall
from . import control, guest, input, logon, power, screen, text, vdi, waits

Handler = Callable[[StepCall], None]

HANDLERS: dict[str, Handler] = {
    "send_key": input.send_key,
    "send_text": input.send_text,
    "mouse_move": input.mouse_move,
    "mouse_click": input.mouse_click,
    "mouse_drag": input.mouse_drag,
    "mouse_scroll": input.mouse_scroll,
    "verify_input": input.verify_input,
    "exec_command": guest.exec_command,
    "verify_command": guest.verify_command,
    "file_write": guest.file_write,
    "file_read": guest.file_read,
    "guest_ping": guest.guest_ping,
    "wait": waits.wait,
    "wait_until": waits.wait_until,
    "verify_domain_status": waits.verify_domain_status,
    "screenshot": screen.screenshot,
    "verify_screen": screen.verify_screen,
    "click_image": screen.click_image,
    "logon": logon.logon,
    "wait_screen_change": screen.wait_screen_change,
    "wait_screen_still": screen.wait_screen_still,
    "verify_text": text.verify_text,
    "wait_text": text.wait_text,
    "read_text": text.read_text,
    "vm_start": power.vm_start,
    "vm_shutdown": power.vm_shutdown,
    "vm_reboot": power.vm_reboot,
    "vm_reset": power.vm_reset,
    "vm_destroy": power.vm_destroy,
    "vdi_login": vdi.vdi_login,
    "vdi_start_domain": vdi.vdi_start_domain,
    "vdi_shutdown_domain": vdi.vdi_shutdown_domain,
    "vdi_reboot_domain": vdi.vdi_reboot_domain,
    "vdi_suspend_domain": vdi.vdi_suspend_domain,
    "vdi_resume_domain": vdi.vdi_resume_domain,
    "vdi_delete_domain": vdi.vdi_delete_domain,
    "vdi_create_desk_pool": vdi.vdi_create_desk_pool,
    "vdi_enable_desk_pool": vdi.vdi_enable_desk_pool,
    "vdi_disable_desk_pool": vdi.vdi_disable_desk_pool,
    "vdi_delete_desk_pool": vdi.vdi_delete_desk_pool,
    "vdi_get_desk_pool_domains": vdi.vdi_get_desk_pool_domains,
    "vdi_bind_user": vdi.vdi_bind_user,
    "verify_vdi_domain_status": vdi.verify_vdi_domain_status,
    "verify_vdi_domains_running": vdi.verify_vdi_domains_running,
    "set": control.set_values,
}
