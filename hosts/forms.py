from django import forms

from atp_site.tags import normalise_tags, parse_tag_text

from .models import Host, VdiEndpoint


class TagsField(forms.CharField):
    """Comma-separated tags (each non-empty, at most 64 characters, at most 50)."""

    def prepare_value(self, value):
        return ", ".join(normalise_tags(value)) if isinstance(value, list) else value

    def to_python(self, value):
        return parse_tag_text(super().to_python(value))


class HostForm(forms.ModelForm):
    tags = TagsField(required=False, help_text="comma separated")

    class Meta:
        model = Host
        fields = ["name", "uri", "description", "credentials_ref", "tags", "slots", "enabled"]
        labels = {"uri": "URI", "credentials_ref": "Credentials reference"}

    def clean_slots(self):
        slots = self.cleaned_data.get("slots")
        if slots is not None and slots < 1:
            raise forms.ValidationError("at least 1: the number of runs this host takes at once")
        return slots


class VdiEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL", max_length=255, assume_scheme="https", help_text="http(s)://host:port"
    )
    tags = TagsField(required=False, help_text="comma separated")
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="stored encrypted",
    )

    class Meta:
        model = VdiEndpoint
        fields = [
            "name",
            "url",
            "username",
            "password",
            "verify_tls",
            "tags",
            "name_prefix",
            "libvirt_host",
            "enabled",
        ]
        labels = {"verify_tls": "Verify TLS", "libvirt_host": "Libvirt host"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # only an existing endpoint has a password to keep
            self.fields[
                "password"
            ].help_text = "stored encrypted; leave empty to keep the current one"

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not data.get("password"):
            self.add_error("password", "required for a new endpoint")
        return data

    def save(self, commit=True):
        endpoint = super().save(commit=False)
        if self.cleaned_data.get("password"):
            endpoint.set_password(self.cleaned_data["password"])
        if commit:
            endpoint.save()
        return endpoint
