"""Schedule and notification-hook forms: plain text in, clear errors out."""

from __future__ import annotations

import json

import yaml
from django import forms

from atp_core.errors import InvalidInput
from atp_core.status import Result
from runs.models import RETRIES_MAX
from scenarios.models import Scenario

from . import services
from .models import NotificationHook, Schedule, format_seconds

RESULTS = list(Result.values())


def parse_targets_text(text: str) -> list[dict]:
    """One target per line: ``host/vm``, ``vm``, ``tag:NAME`` or ``pool:NAME``; or a YAML/JSON
    list of mappings as in a scenario. Empty: the scenario's own targets."""
    text = (text or "").strip()
    if not text:
        return []
    if text.startswith(("[", "-")):
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise InvalidInput("targets: not a valid YAML/JSON list") from None
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise InvalidInput("targets: give a list of mappings like {vm: NAME, host: HOST}")
        return value
    targets: list[dict] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("tag:"):
            targets.append({"tag": line[4:].strip()})
        elif line.startswith("pool:"):
            targets.append({"desk_pool": line[5:].strip()})
        elif "/" in line:
            host, vm = line.split("/", 1)
            if not host.strip() or not vm.strip():
                raise InvalidInput(f"targets line {n}: expected host/vm, got {line!r}")
            targets.append({"vm": vm.strip(), "host": host.strip()})
        else:
            targets.append({"vm": line})
    return targets


def targets_to_text(targets: list[dict]) -> str:
    lines = []
    for t in targets or []:
        if t.get("vm"):
            lines.append(f"{t['host']}/{t['vm']}" if t.get("host") else t["vm"])
        elif t.get("tag"):
            lines.append(f"tag:{t['tag']}")
        elif t.get("desk_pool"):
            lines.append(f"pool:{t['desk_pool']}")
    return "\n".join(lines)


class ScheduleForm(forms.ModelForm):
    scenario = forms.ModelChoiceField(
        queryset=Scenario.objects.filter(archived=False, current_revision__isnull=False)
    )
    targets_text = forms.CharField(
        label="Targets",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="one per line: host/vm, vm, tag:NAME, pool:NAME; empty: the scenario's targets",
    )
    variables_text = forms.CharField(
        label="Variables",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="name=value lines or YAML: overrides of the scenario's variables",
    )
    retries = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=RETRIES_MAX,
        initial=0,
        help_text=f"new attempts of each run after a lost worker (0-{RETRIES_MAX}); empty: 0",
    )
    every = forms.CharField(
        required=False, help_text="for an interval schedule: 90, 30s, 15m, 2h, 1d"
    )

    class Meta:
        model = Schedule
        fields = ["name", "scenario", "retries", "build", "kind", "every", "crontab", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        inst = self.instance
        if inst.pk:
            self.fields["targets_text"].initial = targets_to_text(inst.targets)
            self.fields["variables_text"].initial = "\n".join(
                f"{k}={v}" for k, v in (inst.variables or {}).items()
            )
            if inst.every_seconds:
                self.fields["every"].initial = format_seconds(inst.every_seconds)
        self.order_fields(
            [
                "name",
                "scenario",
                "targets_text",
                "variables_text",
                "retries",
                "build",
                "kind",
                "every",
                "crontab",
            ]
        )

    def clean_retries(self):
        return self.cleaned_data.get("retries") or 0

    def clean(self):
        from runs.services import check_variables, parse_variables

        data = super().clean()
        try:
            data["targets"] = parse_targets_text(data.get("targets_text", ""))
        except InvalidInput as exc:
            self.add_error("targets_text", str(exc))
        try:
            data["variables"] = check_variables(parse_variables(data.get("variables_text", "")))
        except InvalidInput as exc:
            self.add_error("variables_text", str(exc))
        try:
            data["build"] = services.check_build(data.get("build", ""))
        except InvalidInput as exc:
            self.add_error("build", str(exc))
        kind = data.get("kind")
        if kind == Schedule.KIND_INTERVAL:
            try:
                data["every_seconds"] = services.parse_every(data.get("every") or "")
            except InvalidInput as exc:
                self.add_error("every", str(exc))
        elif kind == Schedule.KIND_CRONTAB:
            try:
                services.parse_crontab(data.get("crontab", ""))
            except InvalidInput as exc:
                self.add_error("crontab", str(exc))
        if not self.errors and data.get("scenario"):
            probe = Schedule(scenario=data["scenario"], targets=data.get("targets") or [])
            try:
                services.validate_targets(probe)
            except InvalidInput as exc:
                self.add_error("targets_text", str(exc))
        return data

    def save(self, commit=True):
        schedule = super().save(commit=False)
        schedule.targets = self.cleaned_data.get("targets") or []
        schedule.variables = self.cleaned_data.get("variables") or {}
        if schedule.kind == Schedule.KIND_INTERVAL:
            schedule.every_seconds = self.cleaned_data.get("every_seconds")
            schedule.crontab = ""
        else:
            schedule.every_seconds = None
        if commit:
            services.save_schedule(schedule)
        return schedule


class NotificationHookForm(forms.ModelForm):
    url = forms.URLField(
        label="Webhook URL",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="POST JSON here",
    )
    secret = forms.CharField(
        label="Signing secret",
        required=False,
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="optional: each POST then carries X-ATP-Signature: sha256=<HMAC-SHA256 of "
        "the body with this secret>",
    )
    clear_secret = forms.BooleanField(
        label="Remove the signing secret", required=False, help_text="send unsigned from now on"
    )
    results = forms.MultipleChoiceField(
        choices=[(r, r) for r in RESULTS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="only runs ending so; none ticked: every result",
    )

    class Meta:
        model = NotificationHook
        fields = ["name", "scenario", "url", "secret", "emails", "results", "enabled"]
        widgets = {"emails": forms.TextInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.has_secret:
            self.fields["secret"].help_text = (
                "a secret is set; type a new one to replace it " + "(it is never shown)"
            )
        else:
            del self.fields["clear_secret"]

    def clean_url(self):
        from runs.webhooks import WebhookRefused, check_url

        url = self.cleaned_data.get("url", "")
        if url:
            try:
                check_url(url)
            except WebhookRefused as exc:
                raise forms.ValidationError(str(exc)) from None
        return url

    def save(self, commit=True):
        hook = super().save(commit=False)
        if self.cleaned_data.get("secret"):
            hook.set_secret(self.cleaned_data["secret"])
        elif self.cleaned_data.get("clear_secret"):
            hook.set_secret("")
        if commit:
            hook.save()
        return hook

    def clean_emails(self):
        from django.core.validators import validate_email

        raw = self.cleaned_data.get("emails", "")
        addresses = [a.strip() for a in raw.replace(";", ",").split(",") if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(f"{address!r} is not an e-mail address") from None
        return ", ".join(addresses)

    def clean(self):
        data = super().clean()
        if not data.get("url") and not data.get("emails"):
            raise forms.ValidationError("give a webhook URL, e-mail addresses, or both")
        return data


def hook_payload_example() -> str:
    return json.dumps(
        {"event": "run_finished", "run_id": 12, "scenario": "login-smoke", "result": "passed"}
    )
