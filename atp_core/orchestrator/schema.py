"""The scenario language, version 1, as pydantic v2 models (the one place it is defined).

One model per step kind, a discriminated union :data:`Step` on ``type``; every model forbids
unknown fields so a typo is an error naming the allowed ones. Durations are float seconds.
Strings may hold ``${...}`` variables, resolved by the executor at run time; literal parts of
``send_text.text`` and ``send_key.key`` are checked against the US keyboard here.

Conventions for the executor:

- common fields default to ``None`` = "inherit from ``Scenario.defaults``";
- ``finally_``, ``from_`` and ``as_`` are the Python names of ``finally``, ``from`` and ``as``
  (``model_dump()`` writes the YAML names: the models serialise by alias);
- ``vdi_create_desk_pool.name`` is the pool's name, not the step's display name: use
  :func:`display_name` for what to show.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from atp_core.errors import AtpError
from atp_core.orchestrator.durations import DURATION_REGEX, format_duration, parse_duration
from atp_core.protocol.keyboard import parse_key, validate_text

VARIABLE = re.compile(r"\$\{[^}]*\}")
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
# A tag (of a scenario, a reference image, a VM): trimmed, non-empty, at most TAG_MAX_LENGTH
# characters, matched exactly; at most MAX_TAGS of them on one thing. The web side stores
# them in one table (scenarios.models.Tag) and checks VM tags with the same limits.
TAG_MAX_LENGTH = 64
MAX_TAGS = 50


def has_variables(value: object) -> bool:
    """True when ``value`` (a string, or a list of them) contains a ``${...}`` reference."""
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, list | tuple):
        return any(has_variables(v) for v in value)
    return False


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": DURATION_REGEX},
            ],
            "description": "seconds, or a number with a unit: 500ms, 2s, 1.5m, 1h",
        }
    ),
]
VarName = Annotated[str, Field(pattern=IDENTIFIER, max_length=100)]
Button = Literal["left", "right", "middle"]
KeySpec = str | list[str]
Point = tuple[int, int]


def _coordinate(value: object) -> object:
    if isinstance(value, str) and not VARIABLE.fullmatch(value.strip()):
        try:
            return int(value)
        except ValueError:
            raise ValueError(
                f"expected a whole number of pixels or a ${{variable}}, got {value!r}"
            ) from None
    return value


# a pixel coordinate, or a ${variable} holding one (e.g. where click_image found something)
Coordinate = Annotated[int | str, BeforeValidator(_coordinate)]
VarPoint = tuple[Coordinate, Coordinate]
DOMAIN_STATES = (
    "running",
    "shutoff",
    "paused",
    "blocked",
    "shutdown",
    "crashed",
    "pmsuspended",
    "nostate",
)


def _regex_compiles(value: str | None) -> str | None:
    """A regular expression field's check (skipped while it holds ``${...}``)."""
    if value is not None and not has_variables(value):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    return value


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        coerce_numbers_to_str=True,
        str_max_length=1_000_000,
    )


def _check_key(value: KeySpec) -> KeySpec:
    if has_variables(value):
        return value
    try:
        parse_key(value)
    except AtpError as exc:
        raise ValueError(str(exc)) from None
    return value


def _check_text(value: str) -> str:
    literal = VARIABLE.sub("", value)
    try:
        validate_text(literal)
    except AtpError as exc:
        raise ValueError(str(exc)) from None
    return value


def _positive_timeout(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ValueError("a timeout must be longer than 0 (it would expire at once)")
    return value


def _positive_latency(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ValueError("max_latency must be longer than 0 (every input would fail)")
    return value


def _list_expression(value: object) -> object:
    if isinstance(value, str) and not VARIABLE.fullmatch(value.strip()):
        raise ValueError(f"expected a list or a ${{variable}} holding one, got {value!r}")
    return value


def _exactly_one(model: BaseModel, *names: str) -> None:
    given = [n for n in names if getattr(model, n) is not None]
    shown = " or ".join(f"'{n.rstrip('_')}'" for n in names)
    if len(given) != 1:
        which = "none" if not given else "both"
        raise ValueError(f"give exactly one of {shown} ({which} given)")


# ---------------------------------------------------------------------------------------------
# Top level pieces


class TargetRef(_Model):
    """A VM (or a set of VMs) the scenario runs on: by name, inventory tag or VDI desk pool."""

    vm: str | None = Field(None, description="VM (libvirt domain) name")
    host: str | None = Field(None, description="host name, when VM names are ambiguous")
    tag: str | None = Field(None, description="every VM with this inventory tag")
    desk_pool: str | None = Field(None, description="every VM of this VDI desk pool")

    @model_validator(mode="after")
    def _one_selector(self) -> TargetRef:
        given = [n for n in ("vm", "tag", "desk_pool") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "a target needs exactly one of 'vm', 'tag' or 'desk_pool' "
                f"({'none' if not given else ', '.join(given)} given)"
            )
        return self


class StepDefaults(_Model):
    """Values every step gets unless it sets its own."""

    timeout: Duration | None = Field(
        None, description="bound on each step; unset = the step kind's own default"
    )
    retries: int = Field(0, ge=0, le=100, description="re-attempts of a failed step")
    retry_delay: Duration = Field(1.0, description="pause between attempts")
    continue_on_error: bool = Field(False, description="a failed step does not stop the run")
    max_latency: Duration | None = Field(
        None,
        description="every input step on a SPICE display fails when its input-to-display "
        "latency is longer (e.g. 150ms)",
    )

    @field_validator("timeout")
    @classmethod
    def _timeout_positive(cls, value: float | None) -> float | None:
        return _positive_timeout(value)

    @field_validator("max_latency")
    @classmethod
    def _latency_positive(cls, value: float | None) -> float | None:
        return _positive_latency(value)


class Expect(_Model):
    """What a command must produce to pass (default: exit code 0)."""

    exit_code: int | Literal["any"] = Field(0, description="required exit code, or 'any'")
    stdout_contains: str | None = None
    stdout_regex: str | None = None
    stderr_contains: str | None = None

    @field_validator("stdout_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return _regex_compiles(value)


class Area(_Model):
    """A rectangle of the screen in screenshot pixels."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


# ---------------------------------------------------------------------------------------------
# Steps


class StepBase(_Model):
    """Fields every step has, and what each kind declares about itself.

    A step kind is declared once, by its model here: the ``type`` literal names it; the class
    says whether it is a check (``is_check``: ``wait_until`` may poll it), a container of
    steps the executor runs itself (``is_container``), the least bound of an attempt when the
    scenario sets no timeout (``min_timeout``) and how it describes itself (:meth:`detail`).
    Its handler registers against the kind in ``atp_core.orchestrator.steps``. The union
    :data:`Step`, :data:`STEP_MODELS`, :data:`CheckStep`, :data:`CHECK_KINDS` and
    :data:`CONTAINER_KINDS` are derived from the models.
    """

    kind: ClassVar[str] = ""
    is_check: ClassVar[bool] = False
    is_container: ClassVar[bool] = False
    min_timeout: ClassVar[float | None] = None

    name: str | None = Field(None, description="shown in the live view and the report")
    timeout: Duration | None = Field(None, description="bound on this step")
    retries: int | None = Field(None, ge=0, le=100, description="re-attempts on failure")
    retry_delay: Duration | None = Field(None, description="pause between attempts")
    continue_on_error: bool | None = Field(
        None, description="a failure of this step does not stop the run"
    )
    capture: VarName | None = Field(None, description="store the step's result in this variable")
    target: str | None = Field(None, description="run this step on another VM of the run")
    sensitive: bool | None = Field(
        None, description="mask this step's rendered text (***) in output, errors and reports"
    )

    @field_validator("timeout")
    @classmethod
    def _timeout_positive(cls, value: float | None) -> float | None:
        return _positive_timeout(value)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("type")
        if field is not None and isinstance(field.default, str):
            cls.kind = field.default
            if any(m.kind == cls.kind for m in _KIND_MODELS):
                raise TypeError(f"step kind {cls.kind!r} is declared twice")
            _KIND_MODELS.append(cls)

    def detail(self) -> str:
        """What follows the kind in the step's default name (``'uname -a'``, ``×3``)."""
        return ""

    def default_timeout(self, base: float) -> float:
        """The bound of one attempt when the step sets no ``timeout``; ``base`` is the
        scenario's ``defaults.timeout`` (or the engine's default)."""
        return max(base, self.min_timeout) if self.min_timeout else base


# every step kind's model, in the order they are declared (filled by StepBase subclasses)
_KIND_MODELS: list[type[StepBase]] = []


# -- input ------------------------------------------------------------------------------------


class Until(_Model):
    """What the screen shows once the input took effect: a reference image or a text (OCR)."""

    reference: str | None = Field(None, description="name of a reference image")
    text: str | None = Field(None, description="text read on the screen by OCR")

    @model_validator(mode="after")
    def _one(self) -> Until:
        _exactly_one(self, "reference", "text")
        return self


class _LatencyFields(StepBase):
    """An input step: its input-to-display latency is measured on a SPICE display."""

    until: Until | None = Field(
        None, description="the latency ends when this reference or text is on the screen"
    )
    max_latency: Duration | None = Field(
        None, description="fail the step when the input-to-display latency is longer (150ms)"
    )

    @field_validator("max_latency")
    @classmethod
    def _latency_positive(cls, value: float | None) -> float | None:
        return _positive_latency(value)


class _InputStep(_LatencyFields):
    area: Area | None = Field(
        None, description="the latency ends at the first display update in this rectangle"
    )


class SendKey(_InputStep):
    """Press a key or a chord (ret, ctrl+alt+del, ["ctrl", "c"]) and release it."""

    type: Literal["send_key"] = "send_key"
    key: KeySpec = Field(description="key or chord: ret, ctrl+alt+del, ctrl-c, [ctrl, c]")
    hold: Duration | None = Field(None, description="how long the keys stay down")

    @field_validator("key")
    @classmethod
    def _key(cls, value: KeySpec) -> KeySpec:
        return _check_key(value)

    def detail(self) -> str:
        return _short(_key_text(self.key))


class SendText(_InputStep):
    """Type text key by key (US layout; newline = Enter, tab = Tab)."""

    type: Literal["send_text"] = "send_text"
    text: str = Field(description="text to type; unknown characters are an error")
    interval: Duration | None = Field(None, description="pause between keys")

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return _check_text(value)

    def detail(self) -> str:
        return _short(self.text)


class MouseMove(_InputStep):
    """Move the mouse pointer to a screen position (or by an offset when relative)."""

    type: Literal["mouse_move"] = "mouse_move"
    x: int
    y: int
    relative: bool = Field(False, description="x and y are an offset, not a position")

    def detail(self) -> str:
        return f"{'by' if self.relative else 'to'} ({self.x}, {self.y})"


class MouseClick(_InputStep):
    """Click a mouse button, after moving to x, y when given."""

    type: Literal["mouse_click"] = "mouse_click"
    x: int | None = None
    y: int | None = None
    button: Button = "left"
    double: bool = Field(False, description="double click")

    @model_validator(mode="after")
    def _both_or_neither(self) -> MouseClick:
        if (self.x is None) != (self.y is None):
            raise ValueError("give both 'x' and 'y', or neither")
        return self

    def detail(self) -> str:
        text = self.button + (" double" if self.double else "")
        if self.x is not None:
            text += f" at ({self.x}, {self.y})"
        return text


class MouseDrag(_InputStep):
    """Press a button at one point, move to another, release."""

    type: Literal["mouse_drag"] = "mouse_drag"
    from_: VarPoint = Field(
        alias="from", description="[x, y] where the drag starts; ${variables} allowed"
    )
    to: VarPoint = Field(description="[x, y] where the drag ends; ${variables} allowed")
    button: Button = "left"
    moves: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="pointer moves on the way (default 8); window managers that follow the "
        "pointer while moving a window (twm) want small steps, e.g. 40",
    )
    hold: Duration | None = Field(
        None,
        le=30,
        description="pause after the press and before the release (default 150ms); a window "
        "manager that pops up a menu or starts a move on the press wants time to react on a "
        "busy guest, e.g. 1s",
    )

    def detail(self) -> str:
        return f"({self.from_[0]}, {self.from_[1]}) → ({self.to[0]}, {self.to[1]})"


class MouseScroll(_InputStep):
    """Turn the mouse wheel: positive delta scrolls up, negative down."""

    type: Literal["mouse_scroll"] = "mouse_scroll"
    delta: int

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("delta 0 scrolls nothing; use positive (up) or negative (down)")
        return value

    def detail(self) -> str:
        return f"{self.delta:+d}"


# -- guest commands and files -----------------------------------------------------------------


DEFAULT_MAX_OUTPUT = 1024 * 1024  # bytes a file_read or a command's output may bring in
MAX_OUTPUT_LIMIT = 64 * 1024 * 1024  # the most a step may raise that to


class _CommandFields(StepBase):
    command: str | None = Field(None, description="a shell command line")
    argv: list[str] | None = Field(None, min_length=1, description="program and arguments")
    shell: Literal["auto", "sh", "cmd", "powershell"] = "auto"
    env: dict[str, str] | None = None
    stdin: str | None = None
    expect: Expect = Field(default_factory=Expect)
    max_output: int | None = Field(
        None,
        ge=1,
        le=MAX_OUTPUT_LIMIT,
        description="bytes of stdout and of stderr kept (the rest is cut); default 1 MiB",
    )

    @model_validator(mode="after")
    def _command_or_argv(self) -> _CommandFields:
        _exactly_one(self, "command", "argv")
        return self

    def detail(self) -> str:
        return _short(self.command if self.command is not None else self.argv)


class ExecCommand(_CommandFields):
    """Run a command in the guest through the guest agent; a mismatch of expect is an error."""

    type: Literal["exec_command"] = "exec_command"


class VerifyCommand(_CommandFields):
    """Check: run a command in the guest; a mismatch of expect makes the step failed."""

    is_check: ClassVar[bool] = True

    type: Literal["verify_command"] = "verify_command"


class FileWrite(StepBase):
    """Write a file in the guest through the guest agent."""

    type: Literal["file_write"] = "file_write"
    path: str
    content: str = ""

    def detail(self) -> str:
        return _short(self.path)


class FileRead(StepBase):
    """Read a file of the guest (capture it to use the content)."""

    is_check: ClassVar[bool] = True

    type: Literal["file_read"] = "file_read"
    path: str
    max_bytes: int | None = Field(
        None,
        ge=1,
        le=MAX_OUTPUT_LIMIT,
        description="a longer file is an error (reading stops there); default 1 MiB",
    )

    def detail(self) -> str:
        return _short(self.path)


class GuestPing(StepBase):
    """Check that the guest agent answers."""

    is_check: ClassVar[bool] = True

    type: Literal["guest_ping"] = "guest_ping"


# -- waits and checks -------------------------------------------------------------------------


class Wait(StepBase):
    """Sleep for a duration (cancellable)."""

    type: Literal["wait"] = "wait"
    duration: Duration

    def detail(self) -> str:
        return format_duration(self.duration)

    def default_timeout(self, base: float) -> float:
        return float(self.duration) + 10.0


class Screenshot(StepBase):
    """Save a PNG of the screen as an artifact."""

    type: Literal["screenshot"] = "screenshot"
    label: str | None = Field(None, description="artifact name")

    def detail(self) -> str:
        return _short(self.label) if self.label else ""


class VerifyDomainStatus(StepBase):
    """Check: poll the libvirt state of the VM until it is the expected one."""

    is_check: ClassVar[bool] = True

    type: Literal["verify_domain_status"] = "verify_domain_status"
    expected: Literal[DOMAIN_STATES]  # type: ignore[valid-type]
    interval: Duration | None = None

    def detail(self) -> str:
        return self.expected


class VerifyScreen(StepBase):
    """Check: poll screenshots until the reference image matches."""

    is_check: ClassVar[bool] = True

    type: Literal["verify_screen"] = "verify_screen"
    reference: str = Field(description="name of a reference image")
    area: Area | None = Field(None, description="compare only this rectangle")
    threshold: float | None = Field(
        None, ge=0, le=1, description="similarity 0-1 needed; default: the reference's"
    )
    method: Literal["template", "ssim"] | None = Field(
        None, description="template matching or SSIM"
    )
    interval: Duration | None = None

    def detail(self) -> str:
        return _short(self.reference)


class ClickImage(_LatencyFields):
    """Find a reference on the screen (polling until the timeout) and click its match area's
    centre, moved by ``offset``."""

    type: Literal["click_image"] = "click_image"
    reference: str = Field(description="name of a reference image (any of its candidates)")
    offset: Point | None = Field(None, description="[dx, dy] from the match area's centre")
    button: Button = "left"
    double: bool = Field(False, description="double click")
    threshold: float | None = Field(
        None, ge=0, le=1, description="similarity 0-1 needed; default: the reference's"
    )
    interval: Duration | None = Field(None, description="pause between screenshots")

    def detail(self) -> str:
        return _short(self.reference)


class _ScreenChangeFields(StepBase):
    area: Area | None = Field(None, description="watch only this rectangle")
    exclude: list[Area] = Field(
        default_factory=list, description="rectangles never counted (a clock, a cursor)"
    )
    threshold: float = Field(
        0.0,
        ge=0,
        le=1,
        description="fraction 0-1 of the area's pixels that may change (still) / must be "
        "exceeded (change); a blinking cursor is ~0.001 of a 1024x768 screen",
    )
    interval: Duration | None = Field(None, description="pause between screenshots")


class WaitScreenChange(_ScreenChangeFields):
    """Pass at the first change of the screen (in the area) from when the step starts."""

    type: Literal["wait_screen_change"] = "wait_screen_change"


class WaitScreenStill(_ScreenChangeFields):
    """Pass once the screen (in the area) did not change for ``duration``."""

    type: Literal["wait_screen_still"] = "wait_screen_still"
    duration: Duration = Field(1.0, description="how long nothing may change")

    @field_validator("duration")
    @classmethod
    def _duration_positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("duration must be longer than 0")
        return value

    def detail(self) -> str:
        return format_duration(self.duration)


class _TextFields(StepBase):
    text: str | None = Field(None, description="text that must be on the screen")
    regex: str | None = Field(None, description="a regular expression to search for instead")
    area: Area | None = Field(None, description="read only this rectangle")
    fuzzy: float | None = Field(
        None, gt=0, le=1, description="least similarity 0-1 of text to what is read"
    )

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return _regex_compiles(value)

    @model_validator(mode="after")
    def _text_or_regex(self) -> _TextFields:
        _exactly_one(self, "text", "regex")
        if self.fuzzy is not None and self.regex is not None:
            raise ValueError("'fuzzy' goes with 'text', not with 'regex'")
        return self

    def detail(self) -> str:
        return _short(self.text if self.text is not None else self.regex)


class VerifyText(_TextFields):
    """Check: the text is on the screen now (OCR); the error shows what was read."""

    is_check: ClassVar[bool] = True

    type: Literal["verify_text"] = "verify_text"


class WaitText(_TextFields):
    """Check: poll the screen by OCR until the text is there or the timeout expires."""

    type: Literal["wait_text"] = "wait_text"
    interval: Duration | None = Field(None, description="pause between reads")


class ReadText(StepBase):
    """Read the text on the screen (in the area) by OCR; capture it into a variable."""

    type: Literal["read_text"] = "read_text"
    area: Area | None = Field(None, description="read only this rectangle")


class VerifyInput(StepBase):
    """Check: the guest's input devices saw exactly these key presses."""

    is_check: ClassVar[bool] = True

    type: Literal["verify_input"] = "verify_input"
    text: str | None = None
    keys: list[KeySpec] | None = Field(None, min_length=1)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return value if value is None else _check_text(value)

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: list[KeySpec] | None) -> list[KeySpec] | None:
        for key in value or []:
            _check_key(key)
        return value

    @model_validator(mode="after")
    def _text_or_keys(self) -> VerifyInput:
        _exactly_one(self, "text", "keys")
        return self

    def detail(self) -> str:
        return _short(self.text if self.text is not None else [_key_text(k) for k in self.keys])


class Logon(StepBase):
    """Log on at the login screen over SPICE and time each phase: (powered on, agent up,) login
    screen shown, credentials sent, desktop shown, (first app ready)."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["logon"] = "logon"
    username: str = Field(description="typed at the login screen, then Enter")
    password: str = Field(description="typed after the user name, then Enter; use ${secret.NAME}")
    desktop: Until = Field(description="the reference or text that shows the desktop is up")
    login_screen: Until | None = Field(
        None, description="the reference or text of the login screen; unset: the screen as is"
    )
    app: Until | None = Field(None, description="what shows the first application is ready")
    power_on: bool = Field(
        False, description="start the VM first when it is off (phases powered on, agent up)"
    )
    settle: Duration = Field(
        1.0, description="pause between the login screen shown and typing (greeters draw first)"
    )

    @field_validator("username", "password")
    @classmethod
    def _typable(cls, value: str) -> str:
        return _check_text(value)

    def detail(self) -> str:
        return _short(self.username)


# -- VM power ---------------------------------------------------------------------------------


class _Power(StepBase):
    force: bool = Field(False, description="skip the graceful path")
    wait: bool = Field(False, description="wait until the agent answers / the VM is off")


class VmStart(_Power):
    """Start the VM through libvirt."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["vm_start"] = "vm_start"


class VmShutdown(_Power):
    """Shut the VM down (ACPI, or the guest agent)."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["vm_shutdown"] = "vm_shutdown"


class VmReboot(_Power):
    """Reboot the VM."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["vm_reboot"] = "vm_reboot"


class VmReset(_Power):
    """Hard-reset the VM (like the reset button)."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["vm_reset"] = "vm_reset"


class VmDestroy(_Power):
    """Power the VM off at once (pull the plug)."""

    type: Literal["vm_destroy"] = "vm_destroy"


# -- VDI platform -----------------------------------------------------------------------------


class VdiLogin(StepBase):
    """Log in to the VDI platform (default: the endpoint's stored credentials)."""

    type: Literal["vdi_login"] = "vdi_login"
    endpoint: str | None = Field(None, description="name of a VDI endpoint")
    username: str | None = None
    password: str | None = None

    def detail(self) -> str:
        return _short(self.endpoint) if self.endpoint else ""


class _VdiDomainOp(StepBase):
    domain: str | list[str] = Field(description="VM id or name, or a list of them")
    force: bool = False
    wait: bool = Field(False, description="follow the platform's event until done")

    def detail(self) -> str:
        return _short(self.domain)


class VdiStartDomain(_VdiDomainOp):
    """Start VMs through the VDI platform."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["vdi_start_domain"] = "vdi_start_domain"


class VdiShutdownDomain(_VdiDomainOp):
    """Shut VMs down through the VDI platform."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["vdi_shutdown_domain"] = "vdi_shutdown_domain"


class VdiRebootDomain(_VdiDomainOp):
    """Reboot VMs through the VDI platform."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["vdi_reboot_domain"] = "vdi_reboot_domain"


class VdiSuspendDomain(_VdiDomainOp):
    """Suspend VMs through the VDI platform."""

    type: Literal["vdi_suspend_domain"] = "vdi_suspend_domain"


class VdiResumeDomain(_VdiDomainOp):
    """Resume suspended VMs through the VDI platform."""

    type: Literal["vdi_resume_domain"] = "vdi_resume_domain"


class VdiDeleteDomain(_VdiDomainOp):
    """Delete VMs through the VDI platform."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["vdi_delete_domain"] = "vdi_delete_domain"


class VdiCreateDeskPool(StepBase):
    """Create a VDI desk pool of linked clones (capture it to use the pool)."""

    min_timeout: ClassVar[float | None] = 600.0

    type: Literal["vdi_create_desk_pool"] = "vdi_create_desk_pool"
    name: str = Field(description="the pool's name (also this step's display name)")
    template: str = Field(description="template (model) id or name")
    count: int = Field(1, ge=1, le=10_000, description="number of VMs")
    prefix: str | None = Field(None, description="VM name prefix")
    pool_type: Literal["dedicated", "shared", "teaching"] = "dedicated"
    remark: str | None = None

    def detail(self) -> str:
        return _short(self.name)


class _VdiPoolOp(StepBase):
    pool: str = Field(description="desk pool id or name")

    def detail(self) -> str:
        return _short(self.pool)


class VdiEnableDeskPool(_VdiPoolOp):
    """Enable a VDI desk pool."""

    type: Literal["vdi_enable_desk_pool"] = "vdi_enable_desk_pool"


class VdiDisableDeskPool(_VdiPoolOp):
    """Disable a VDI desk pool."""

    type: Literal["vdi_disable_desk_pool"] = "vdi_disable_desk_pool"


class VdiDeleteDeskPool(_VdiPoolOp):
    """Delete a VDI desk pool."""

    min_timeout: ClassVar[float | None] = 300.0

    type: Literal["vdi_delete_desk_pool"] = "vdi_delete_desk_pool"


class VdiGetDeskPoolDomains(_VdiPoolOp):
    """List the VMs of a VDI desk pool (capture them)."""

    type: Literal["vdi_get_desk_pool_domains"] = "vdi_get_desk_pool_domains"


class VdiBindUser(StepBase):
    """Bind a VDI user to a VM."""

    type: Literal["vdi_bind_user"] = "vdi_bind_user"
    domain: str
    user: str

    def detail(self) -> str:
        return f"{_short(self.domain)} → {_short(self.user)}"


class VerifyVdiDomainStatus(StepBase):
    """Check: poll the VDI platform's status of a VM until it is the expected one."""

    is_check: ClassVar[bool] = True

    type: Literal["verify_vdi_domain_status"] = "verify_vdi_domain_status"
    domain: str
    expected: str = Field(description="off, running, suspended, ...")
    interval: Duration | None = None

    def detail(self) -> str:
        return f"{_short(self.domain)} {self.expected}"


class VerifyVdiDomainsRunning(_VdiPoolOp):
    """Check: poll until every VM of a desk pool is running."""

    is_check: ClassVar[bool] = True

    type: Literal["verify_vdi_domains_running"] = "verify_vdi_domains_running"
    interval: Duration | None = None


# -- flow -------------------------------------------------------------------------------------


class Set(StepBase):
    """Assign variables."""

    type: Literal["set"] = "set"
    values: dict[VarName, Any] = Field(min_length=1)

    def detail(self) -> str:
        return ", ".join(self.values)


class Loop(StepBase):
    """Repeat steps count times, or once per item of a list (${loop.index}, ${loop.item})."""

    is_container: ClassVar[bool] = True

    type: Literal["loop"] = "loop"
    count: int | None = Field(None, ge=0, le=1_000_000)
    for_each: str | list[Any] | None = Field(None, description="a list, or ${var} of a list")
    as_: VarName | None = Field(None, alias="as", description="also name the item like this")
    steps: list[Step] = Field(min_length=1)

    @field_validator("for_each")
    @classmethod
    def _for_each(cls, value: object) -> object:
        return _list_expression(value)

    @model_validator(mode="after")
    def _count_or_list(self) -> Loop:
        _exactly_one(self, "count", "for_each")
        return self

    def detail(self) -> str:
        return f"×{self.count}" if self.count is not None else f"over {_short(self.for_each)}"


class Parallel(StepBase):
    """Run the nested steps in parallel branches: one per item or per target VM."""

    is_container: ClassVar[bool] = True

    type: Literal["parallel"] = "parallel"
    for_each: str | list[Any] | None = Field(None, description="a list, or ${var} of a list")
    targets: list[str] | None = Field(None, min_length=1, description="VM names")
    as_: VarName | None = Field(None, alias="as", description="also name the item like this")
    max_concurrency: int | None = Field(None, ge=1, le=1000)
    steps: list[Step] = Field(min_length=1)

    @field_validator("for_each")
    @classmethod
    def _for_each(cls, value: object) -> object:
        return _list_expression(value)

    @model_validator(mode="after")
    def _list_or_targets(self) -> Parallel:
        _exactly_one(self, "for_each", "targets")
        return self

    def detail(self) -> str:
        if self.for_each is not None:
            return f"over {_short(self.for_each)}"
        return f"on {_short(self.targets)}"


class Group(StepBase):
    """A named block of steps with its own teardown (finally)."""

    is_container: ClassVar[bool] = True

    type: Literal["group"] = "group"
    steps: list[Step] = Field(min_length=1)
    finally_: list[Step] = Field(default_factory=list, alias="finally")


class WaitUntil(StepBase):
    """Poll a check step until it passes or the timeout expires."""

    type: Literal["wait_until"] = "wait_until"
    check: CheckStep
    interval: Duration | None = Field(None, description="pause between attempts")

    def detail(self) -> str:
        return describe(self.check)


# -- derived from the models above ----------------------------------------------------------

STEP_MODELS: tuple[type[StepBase], ...] = tuple(_KIND_MODELS)
STEP_TYPES: dict[str, type[StepBase]] = {m.kind: m for m in STEP_MODELS}
STEP_KINDS: list[str] = list(STEP_TYPES)
CHECK_KINDS: list[str] = [m.kind for m in STEP_MODELS if m.is_check]
CONTAINER_KINDS: tuple[str, ...] = tuple(m.kind for m in STEP_MODELS if m.is_container)

# Any step, by its ``type`` (a discriminated union of every kind's model, built at run time).
Step = Annotated[Union[STEP_MODELS], Field(discriminator="type")]  # noqa: UP007
# Everything a wait_until may poll.
CheckStep = Annotated[
    Union[tuple(m for m in STEP_MODELS if m.is_check)],  # noqa: UP007
    Field(discriminator="type"),
]


class Scenario(_Model):
    """A test scenario, version 1: targets, variables, steps and teardown."""

    version: Literal[1] = Field(1, description="format version; absent = 1")
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    tags: list[
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TAG_MAX_LENGTH)
        ]
    ] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description="labels to find the scenario by (exact match)",
    )
    timeout: Duration = Field(3600.0, description="whole run per target; default 1h")
    display: Literal["hypervisor", "spice"] = Field(
        "hypervisor",
        description="path of keyboard, mouse and screen steps: 'hypervisor' (libvirt/QEMU, any "
        "domain) or 'spice' (the VM's SPICE server, as a remote user sees it)",
    )
    targets: list[TargetRef] = Field(default_factory=list)
    variables: dict[VarName, Any] = Field(default_factory=dict)
    defaults: StepDefaults = Field(default_factory=StepDefaults)
    steps: list[Step]
    finally_: list[Step] = Field(
        default_factory=list, alias="finally", description="teardown: always runs"
    )
    pause_on: str | None = Field(
        None,
        description="developer mode: pause a target on 'failure' (a step failed or erred), "
        "'mismatch' (a screen check did not match) or 'step:<id>' (before that step, by its "
        "plan id, e.g. step:3 or step:2.1), until someone resumes it from the live view",
    )

    @field_validator("timeout")
    @classmethod
    def _timeout_positive(cls, value: float) -> float:
        return _positive_timeout(value)

    @field_validator("pause_on")
    @classmethod
    def _pause_on_known(cls, value: str | None) -> str | None:
        from atp_core.orchestrator.pause import PauseRule

        try:
            rule = PauseRule.parse(value)
        except AtpError as exc:
            raise ValueError(str(exc).removeprefix("pause_on: ")) from None
        return None if rule is None else str(rule)


for _model in (Loop, Parallel, Group, WaitUntil, Scenario):
    _model.model_rebuild()


# ---------------------------------------------------------------------------------------------
# Default step names


def _short(value: object, limit: int = 40) -> str:
    if isinstance(value, list | tuple):
        text = " ".join(str(v) if not isinstance(v, list) else "+".join(v) for v in value)
    else:
        text = str(value)
    text = text.replace("\n", "\\n").replace("\t", "\\t")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def _key_text(key: KeySpec) -> str:
    return "+".join(key) if isinstance(key, list) else key


def describe(step: StepBase) -> str:
    """The default display name of a step: ``send_text 'Hello'``, ``exec_command 'uname -a'``."""
    kind = step.kind or type(step).__name__
    return f"{kind} {step.detail()}".strip()


def display_name(step: StepBase) -> str:
    """What the live view and the report show for a step: its ``name``, else :func:`describe`
    (only the kind for a ``sensitive`` step: its text is not shown)."""
    if getattr(step, "sensitive", None):
        return step.name or f"{step.type} (sensitive)"
    if isinstance(step, VdiCreateDeskPool):
        return describe(step)
    return step.name or describe(step)
