"""The two legacy dialects of the earlier OCloudView ATP, converted to version-1 data.

- ``nested``: the earlier executor's format: top-level ``target_host``/``target_domain``, steps
  ``{name, action: {type: ..., ...}, verify, timeout}`` with integer-second durations.
- ``typed``: the earlier orchestrator's format (and the development guide's example): steps
  ``{type: vdi_action|virtualization_action|wait|verify|loop, action: <op>, ...}``;
  ``virtualization_action: connect`` selects the VM the following steps run on.

The converted data keeps the source positions (:mod:`yamlpos`), so a validation error of a
legacy file points at the legacy line. Meaning-preserving choices (documented in
``docs/scenario-format.md``): ``verify_command_success`` / ``command_success`` (no-ops before)
become ``guest_ping``; ``custom`` (a no-op before) becomes ``wait 0s``; the typed dialect's
``domain_status`` is a libvirt check on a VM chosen by ``connect``, else a VDI check.
"""

from __future__ import annotations

from atp_core.orchestrator.yamlpos import Issue, PosDict, PosList

NESTED = "nested"
TYPED = "typed"

TYPED_KINDS = ("vdi_action", "virtualization_action", "wait", "verify", "loop")
_V1_ONLY_TOP = ("version", "targets", "variables", "defaults", "finally")

# nested dialect: action type → (v1 type, {legacy field: v1 field})
NESTED_ACTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "send_key": ("send_key", {"key": "key"}),
    "send_text": ("send_text", {"text": "text"}),
    "mouse_click": ("mouse_click", {"x": "x", "y": "y", "button": "button"}),
    "exec_command": ("exec_command", {"command": "command"}),
    "wait": ("wait", {"duration": "duration"}),
    "custom": ("wait", {}),
    "vdi_create_desk_pool": (
        "vdi_create_desk_pool",
        {"name": "name", "template_id": "template", "count": "count"},
    ),
    "vdi_enable_desk_pool": ("vdi_enable_desk_pool", {"pool_id": "pool"}),
    "vdi_disable_desk_pool": ("vdi_disable_desk_pool", {"pool_id": "pool"}),
    "vdi_delete_desk_pool": ("vdi_delete_desk_pool", {"pool_id": "pool"}),
    "vdi_get_desk_pool_domains": ("vdi_get_desk_pool_domains", {"pool_id": "pool"}),
    "vdi_start_domain": ("vdi_start_domain", {"domain_id": "domain"}),
    "vdi_shutdown_domain": ("vdi_shutdown_domain", {"domain_id": "domain"}),
    "vdi_reboot_domain": ("vdi_reboot_domain", {"domain_id": "domain"}),
    "vdi_delete_domain": ("vdi_delete_domain", {"domain_id": "domain"}),
    "vdi_bind_user": ("vdi_bind_user", {"domain_id": "domain", "user_id": "user"}),
    "verify_domain_status": (
        "verify_domain_status",
        {"domain_id": "target", "expected_status": "expected", "timeout_secs": "timeout"},
    ),
    "verify_all_domains_running": (
        "verify_vdi_domains_running",
        {"pool_id": "pool", "timeout_secs": "timeout"},
    ),
    "verify_command_success": ("guest_ping", {"timeout_secs": "timeout"}),
}

# typed dialect: vdi_action op → (v1 type, fields)
VDI_OPS: dict[str, tuple[str, dict[str, str]]] = {
    "create_desk_pool": (
        "vdi_create_desk_pool",
        {"name": "name", "template_id": "template", "count": "count"},
    ),
    "enable_desk_pool": ("vdi_enable_desk_pool", {"pool_id": "pool"}),
    "disable_desk_pool": ("vdi_disable_desk_pool", {"pool_id": "pool"}),
    "delete_desk_pool": ("vdi_delete_desk_pool", {"pool_id": "pool"}),
    "get_desk_pool_domains": ("vdi_get_desk_pool_domains", {"pool_id": "pool"}),
    "start_domain": ("vdi_start_domain", {"domain_id": "domain"}),
    "shutdown_domain": ("vdi_shutdown_domain", {"domain_id": "domain"}),
    "reboot_domain": ("vdi_reboot_domain", {"domain_id": "domain"}),
    "delete_domain": ("vdi_delete_domain", {"domain_id": "domain"}),
    "bind_user": ("vdi_bind_user", {"domain_id": "domain", "user_id": "user"}),
}
VIRT_OPS = ("connect", "send_keyboard", "send_mouse_click", "send_mouse_move", "execute_command")
VERIFY_CONDITIONS = ("domain_status", "all_domains_running", "command_success")
# the earlier code compared states by substring; these spellings meant "off"
_STATE_ALIASES = {
    "stopped": "shutoff",
    "off": "shutoff",
    "shut off": "shutoff",
    "shutdown": "shutoff",
}


def detect(data: dict) -> str | None:
    """``"nested"``, ``"typed"`` or None (version 1) for a parsed top-level mapping."""
    if "version" in data:
        return None
    if "target_host" in data or "target_domain" in data:
        return NESTED
    steps = data.get("steps")
    if not isinstance(steps, list):
        return None
    if any(isinstance(s, dict) and isinstance(s.get("action"), dict) for s in steps):
        return NESTED
    if _has_typed(steps):
        return TYPED
    return None


def _has_typed(steps: list) -> bool:
    for step in steps:
        if not isinstance(step, dict):
            continue
        kind = step.get("type")
        if kind in ("vdi_action", "virtualization_action", "verify"):
            return True
        if "capture_output" in step:
            return True
        if kind == "loop" and isinstance(step.get("steps"), list) and _has_typed(step["steps"]):
            return True
    return False


class _Converter:
    def __init__(self, data: dict, dialect: str, default_name: str) -> None:
        self.default_name = default_name
        self.src = data
        self.dialect = dialect
        self.issues: list[Issue] = []
        self.first_vm: str | None = None  # the VM the run targets (top-level targets)
        self.current_vm: str | None = None  # the VM the next steps run on
        self.connected: set[str] = set()

    # -- positioned construction ------------------------------------------------------------

    @staticmethod
    def new_dict(like: object, srcpath: str) -> PosDict:
        out = PosDict()
        out.pos = getattr(like, "pos", None)
        out.srcpath = srcpath
        return out

    @staticmethod
    def put(out: PosDict, key: str, value: object, src: object = None, srckey: str = "") -> None:
        out[key] = value
        if isinstance(src, PosDict) and srckey in src:
            out.kpos[key] = src.kpos.get(srckey)
            out.vpos[key] = src.vpos.get(srckey)
            out.srckey[key] = f"{src.path}.{srckey}" if src.path else srckey
        else:
            out.kpos[key] = out.vpos[key] = out.pos

    def issue(self, container: object, key: str | None, path: str, message: str, allowed=None):
        pos = None
        if isinstance(container, PosDict):
            pos = container.vpos.get(key) if key else container.pos
            pos = pos or container.pos
        line, col = pos if pos else (None, None)
        self.issues.append(Issue(line, col, path, message, list(allowed) if allowed else None))

    # -- top level --------------------------------------------------------------------------

    def convert(self) -> PosDict:
        src = self.src
        out = self.new_dict(src, "")
        for key in ("name", "description", "tags", "timeout"):
            if key in src:
                self.put(out, key, src[key], src, key)
        if "name" not in src:  # the development guide's excerpt has none
            self.put(out, "name", self.default_name)
        if self.dialect == NESTED:
            vm = src.get("target_domain")
            if vm is not None:
                self.first_vm = self.current_vm = str(vm)
                target = self.new_dict(src, "target_domain")
                self.put(target, "vm", str(vm), src, "target_domain")
                host = src.get("target_host")
                if isinstance(host, str) and host and "://" not in host:
                    self.put(target, "host", host, src, "target_host")
                targets = PosList([target])
                targets.pos = src.vpos.get("target_domain") if isinstance(src, PosDict) else None
                targets.ipos = [targets.pos]
                self.put(out, "targets", targets, src, "target_domain")
        for key in _V1_ONLY_TOP:
            if key in src:
                self.issue(src, key, key, f"'{key}' is a version-1 field: add 'version: 1'")
        known = {"name", "description", "tags", "timeout", "steps", "target_host", "target_domain"}
        for key in src:
            if key not in known and key not in _V1_ONLY_TOP:
                self.issue(
                    src, key, key, f"unknown field '{key}' of a legacy scenario", sorted(known)
                )
        steps_src = src.get("steps")
        if "steps" not in src:
            self.issue(src, None, "steps", "missing required field 'steps'")
        elif not isinstance(steps_src, list):
            self.issue(src, "steps", "steps", "'steps' must be a list of steps")
        else:
            self.put(out, "steps", self.steps(steps_src, "steps"), src, "steps")
        if self.first_vm is not None and "targets" not in out:
            target = self.new_dict(src, "")
            self.put(target, "vm", self.first_vm)
            targets = PosList([target])
            targets.pos = target.pos
            targets.ipos = [target.pos]
            self.put(out, "targets", targets)
        return out

    def steps(self, items: list, path: str) -> PosList:
        out = PosList()
        out.pos = getattr(items, "pos", None)
        out.srcpath = path
        for index, step in enumerate(items):
            spath = f"{path}[{index}]"
            ipos = items.ipos[index] if isinstance(items, PosList) else None
            if not isinstance(step, dict):
                self.issues.append(
                    Issue(*(ipos or (None, None)), spath, "a step must be a mapping")
                )
                continue
            converted = (
                self.nested(step, spath) if self.dialect == NESTED else self.typed(step, spath)
            )
            for new in converted:
                out.append(new)
                out.ipos.append(new.pos or ipos)
        return out

    def _target(self, out: PosDict) -> None:
        """A step runs on the VM chosen by the last connect when that is not the run's VM."""
        if self.current_vm is not None and self.current_vm != self.first_vm and "target" not in out:
            self.put(out, "target", self.current_vm)

    def _fields(
        self, out: PosDict, src: PosDict, mapping: dict[str, str], path: str, skip: set[str]
    ) -> None:
        for key, value in src.items():
            if key in skip:
                continue
            if key in mapping:
                new = mapping[key]
                if new == "expected" and isinstance(value, str):
                    value = _STATE_ALIASES.get(value.strip().lower(), value.strip().lower())
                if new == "target":
                    value = str(value)
                    if value == self.first_vm:
                        continue
                self.put(out, new, value, src, key)
            else:
                allowed = sorted(mapping) if mapping else []
                self.issue(
                    src,
                    key,
                    f"{path}.{key}",
                    f"unknown field '{key}'"
                    + (" (this action takes no fields)" if not allowed else ""),
                    allowed or None,
                )

    # -- nested dialect ---------------------------------------------------------------------

    def nested(self, step: dict, path: str) -> list[PosDict]:
        out = self.new_dict(step, path)
        action = step.get("action")
        for key in step:
            if key not in ("name", "action", "verify", "timeout"):
                self.issue(
                    step,
                    key,
                    f"{path}.{key}",
                    f"unknown field '{key}' of a legacy step",
                    ["action", "name", "timeout", "verify"],
                )
        if not isinstance(action, dict):
            self.issue(
                step,
                "action" if "action" in step else None,
                f"{path}.action",
                "a legacy step needs an 'action' mapping with a 'type'",
            )
            return []
        apath = f"{path}.action"
        kind = action.get("type")
        if kind not in NESTED_ACTIONS:
            self.issue(
                action,
                "type" if "type" in action else None,
                f"{apath}.type",
                f"unknown legacy action type {kind!r}" if kind else "the action needs a 'type'",
                sorted(NESTED_ACTIONS),
            )
            return []
        new_kind, mapping = NESTED_ACTIONS[kind]
        self.put(out, "type", new_kind, action, "type")
        if "name" in step:
            self.put(out, "name", step["name"], step, "name")
        elif kind == "custom":
            self.put(out, "name", "custom action (no-op)")
        if kind == "custom":
            self.put(out, "duration", 0)
            if set(action) - {"type", "data"}:
                self._fields(out, action, {}, apath, {"type", "data"})
        else:
            self._fields(out, action, mapping, apath, {"type"})
        if "timeout" in step:
            self.put(out, "timeout", step["timeout"], step, "timeout")
        self._target(out)
        return [out]

    # -- typed dialect ----------------------------------------------------------------------

    def typed(self, step: dict, path: str) -> list[PosDict]:
        kind = step.get("type")
        if kind == "vdi_action":
            return self._vdi(step, path)
        if kind == "virtualization_action":
            return self._virt(step, path)
        if kind == "verify":
            return self._verify(step, path)
        if kind == "wait":
            out = self.new_dict(step, path)
            self.put(out, "type", "wait", step, "type")
            self._fields(out, step, {"duration": "duration", "name": "name"}, path, {"type"})
            self._target(out)
            return [out]
        if kind == "loop":
            out = self.new_dict(step, path)
            self.put(out, "type", "loop", step, "type")
            for key in step:
                if key in ("type",):
                    continue
                if key == "steps" and isinstance(step[key], list):
                    self.put(out, "steps", self.steps(step[key], f"{path}.steps"), step, key)
                elif key in ("count", "name", "timeout", "for_each", "as", "steps"):
                    self.put(out, key, step[key], step, key)
                else:
                    self.issue(
                        step,
                        key,
                        f"{path}.{key}",
                        f"unknown field '{key}' of a loop",
                        ["count", "name", "steps"],
                    )
            return [out]
        self.issue(
            step,
            "type" if "type" in step else None,
            f"{path}.type",
            f"unknown legacy step type {kind!r}" if kind else "a legacy step needs a 'type'",
            list(TYPED_KINDS),
        )
        return []

    def _op(self, step: dict, path: str, allowed: list[str]) -> str | None:
        op = step.get("action")
        if op not in allowed:
            self.issue(
                step,
                "action" if "action" in step else None,
                f"{path}.action",
                f"unknown action {op!r}" if op is not None else "the step needs an 'action'",
                allowed,
            )
            return None
        return str(op)

    def _common(self, out: PosDict, step: dict) -> None:
        if "name" in step:
            self.put(out, "name", step["name"], step, "name")
        if "capture_output" in step:
            self.put(out, "capture", step["capture_output"], step, "capture_output")
        if "timeout" in step:
            self.put(out, "timeout", step["timeout"], step, "timeout")

    _COMMON = {"type", "action", "name", "capture_output", "timeout"}

    def _vdi(self, step: dict, path: str) -> list[PosDict]:
        op = self._op(step, path, sorted(VDI_OPS))
        if op is None:
            return []
        new_kind, mapping = VDI_OPS[op]
        out = self.new_dict(step, path)
        self.put(out, "type", new_kind, step, "type")
        self._common(out, step)
        self._fields(out, step, mapping, path, self._COMMON)
        return [out]

    def _virt(self, step: dict, path: str) -> list[PosDict]:
        op = self._op(step, path, list(VIRT_OPS))
        if op is None:
            return []
        skip = self._COMMON | {"verify"}
        if op == "connect":
            vm = step.get("domain_id")
            if vm is None:
                self.issue(step, None, f"{path}.domain_id", "connect needs a 'domain_id'")
                return []
            self._fields(PosDict(), step, {"domain_id": "domain_id"}, path, skip)
            vm = str(vm)
            if self.first_vm is None:
                self.first_vm = vm
            self.current_vm = vm
            self.connected.add(vm)
            return []
        if op == "send_keyboard":
            return self._keyboard(step, path, skip)
        out = self.new_dict(step, path)
        self._common(out, step)
        if op == "send_mouse_click":
            self.put(out, "type", "mouse_click", step, "action")
            self._fields(out, step, {"x": "x", "y": "y", "button": "button"}, path, skip)
        elif op == "send_mouse_move":
            self.put(out, "type", "mouse_move", step, "action")
            self._fields(out, step, {"x": "x", "y": "y"}, path, skip)
        else:  # execute_command
            self.put(out, "type", "exec_command", step, "action")
            self._fields(out, step, {"command": "command"}, path, skip)
        self._target(out)
        return [out]

    def _keyboard(self, step: dict, path: str, skip: set[str]) -> list[PosDict]:
        given = [k for k in ("text", "key", "keys") if step.get(k) is not None]
        extra = {k for k in step if k not in skip | {"text", "key", "keys"}}
        for key in sorted(extra):
            self.issue(
                step,
                key,
                f"{path}.{key}",
                f"unknown field '{key}' of send_keyboard",
                ["key", "keys", "text"],
            )
        if not given:
            self.issue(
                step,
                None,
                path,
                "send_keyboard needs 'text', 'key' or 'keys'",
                ["key", "keys", "text"],
            )
            return []
        results: list[PosDict] = []
        for field in given:
            value = step[field]
            if field == "keys":
                if not isinstance(value, list) or not value:
                    self.issue(step, field, f"{path}.keys", "'keys' must be a non-empty list")
                    continue
                for index, key in enumerate(value):
                    out = self.new_dict(step, path)
                    out.pos = value.ipos[index] if isinstance(value, PosList) else out.pos
                    self.put(out, "type", "send_key", step, "action")
                    self._common(out, step) if index == 0 else None
                    out["key"] = key
                    out.kpos["key"] = out.vpos["key"] = out.pos
                    out.srckey["key"] = f"{path}.keys[{index}]"
                    self._target(out)
                    results.append(out)
                continue
            out = self.new_dict(step, path)
            self._common(out, step) if not results else None
            self.put(out, "type", "send_text" if field == "text" else "send_key", step, "action")
            self.put(out, field, value, step, field)
            self._target(out)
            results.append(out)
        return results

    def _verify(self, step: dict, path: str) -> list[PosDict]:
        cond = step.get("condition")
        fields_src: dict = step
        fields_path = path
        skip = self._COMMON | {"condition"}
        if isinstance(cond, dict):  # nested: condition: {condition: kind, ...fields}
            fields_src = cond
            fields_path = f"{path}.condition"
            kind_key = "condition" if "condition" in cond else "type"
            kind = cond.get(kind_key)
            skip_inner = {kind_key}
            for key in step:
                if key not in self._COMMON | {"condition"}:
                    self.issue(
                        step,
                        key,
                        f"{path}.{key}",
                        f"unknown field '{key}' of verify",
                        ["condition", "name", "timeout"],
                    )
        else:
            kind = cond
            kind_key = "condition"
            skip_inner = skip
        if kind not in VERIFY_CONDITIONS:
            self.issue(
                fields_src,
                kind_key if kind_key in fields_src else None,
                f"{fields_path}.{kind_key}",
                f"unknown verify condition {kind!r}" if kind else "verify needs a 'condition'",
                list(VERIFY_CONDITIONS),
            )
            return []
        out = self.new_dict(step, path)
        self._common(out, step)
        if kind == "domain_status":
            domain = fields_src.get("domain_id")
            on_vm = domain is not None and str(domain) in self.connected
            if on_vm:
                self.put(out, "type", "verify_domain_status", fields_src, kind_key)
                mapping = {"domain_id": "target", "expected_status": "expected"}
            else:
                self.put(out, "type", "verify_vdi_domain_status", fields_src, kind_key)
                mapping = {"domain_id": "domain", "expected_status": "expected"}
            self._fields(out, fields_src, mapping, fields_path, skip_inner)
            if on_vm and "target" not in out:
                self._target(out)
            if not on_vm and out.get("expected") == "shutoff":
                out["expected"] = "off"  # the platform's word for a powered-off VM
        elif kind == "all_domains_running":
            self.put(out, "type", "verify_vdi_domains_running", fields_src, kind_key)
            self._fields(out, fields_src, {"pool_id": "pool"}, fields_path, skip_inner)
        else:  # command_success: the VM answers
            self.put(out, "type", "guest_ping", fields_src, kind_key)
            self._fields(out, fields_src, {"domain_id": "target"}, fields_path, skip_inner)
            if "target" not in out:
                self._target(out)
        return [out]


def convert(
    data: dict, dialect: str, *, default_name: str = "legacy scenario"
) -> tuple[PosDict, list[Issue]]:
    """Version-1 data of a legacy scenario (positions kept) and the problems found; a legacy
    file without a ``name`` gets ``default_name``."""
    converter = _Converter(data, dialect, default_name)
    out = converter.convert()
    return out, converter.issues
