"""Inventory: libvirt hosts, VDI endpoints, their virtual machines, and guest-agent checks."""

from __future__ import annotations

from django.db import models

from atp_site.tags import validate_tags

from .secrets import decrypt_secret, encrypt_secret
from .uris import validate_host_uri


class Host(models.Model):
    """A libvirt host, addressed by URI (qemu:///system, qemu+ssh://user@h/system, ...)."""

    name = models.SlugField(max_length=64, unique=True)
    uri = models.CharField(max_length=255, validators=[validate_host_uri])
    description = models.CharField(max_length=255, blank=True)
    credentials_ref = models.CharField(
        max_length=128, blank=True, help_text="name of an SSH key or secret on the workers"
    )
    tags = models.JSONField(default=list, blank=True, validators=[validate_tags])
    slots = models.PositiveIntegerField(default=4, help_text="runs allowed at once on this host")
    enabled = models.BooleanField(default=True)
    # health, refreshed by "test connection" and the periodic health task
    reachable = models.BooleanField(null=True)
    libvirt_version = models.CharField(max_length=32, blank=True)
    hypervisor_version = models.CharField(max_length=32, blank=True)
    cpus = models.PositiveIntegerField(null=True)
    memory_mib = models.PositiveBigIntegerField(null=True)
    running_domains = models.PositiveIntegerField(null=True)
    last_error = models.TextField(blank=True)
    last_checked = models.DateTimeField(null=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def health(self) -> str:
        """ok / down / unknown / disabled, from the last connection test."""
        if not self.enabled:
            return "disabled"
        if self.reachable is None:
            return "unknown"
        return "ok" if self.reachable else "down"


class VdiEndpoint(models.Model):
    """An OCloudView VDI platform; its password is stored encrypted and never shown."""

    name = models.SlugField(max_length=64, unique=True)
    url = models.URLField(max_length=255)
    username = models.CharField(max_length=128)
    password_encrypted = models.TextField(blank=True, editable=False)
    verify_tls = models.BooleanField(default=True)
    tags = models.JSONField(default=list, blank=True, validators=[validate_tags])
    enabled = models.BooleanField(default=True)
    libvirt_host = models.ForeignKey(
        Host,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="for verify: the libvirt host the platform's VMs run on (empty: from host IPs)",
    )
    name_prefix = models.CharField(
        max_length=64, blank=True, help_text="sync/verify only VMs whose name starts with this"
    )
    # health, refreshed by "test login" and sync
    reachable = models.BooleanField(null=True)
    last_error = models.TextField(blank=True)
    last_checked = models.DateTimeField(null=True)
    last_synced = models.DateTimeField(null=True)
    last_verify = models.JSONField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:  # never the password
        return f"<VdiEndpoint {self.name} {self.url} user={self.username}>"

    def set_password(self, raw: str) -> None:
        self.password_encrypted = encrypt_secret(raw) if raw else ""

    def get_password(self) -> str:
        return decrypt_secret(self.password_encrypted) if self.password_encrypted else ""

    @property
    def has_password(self) -> bool:
        return bool(self.password_encrypted)

    @property
    def verify_summary(self) -> dict:
        """The last verify as a person reads it (``hosts.vdi.verify_summary``)."""
        from .vdi import verify_summary

        return verify_summary(self.last_verify)

    @property
    def health(self) -> str:
        if not self.enabled:
            return "disabled"
        if self.reachable is None:
            return "unknown"
        return "ok" if self.reachable else "down"


class VirtualMachine(models.Model):
    """A domain seen on a host (synced from libvirt) or on a VDI platform."""

    SOURCE_LIBVIRT = "libvirt"
    SOURCE_VDI = "vdi"

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="vms", null=True)
    vdi_endpoint = models.ForeignKey(
        VdiEndpoint, on_delete=models.SET_NULL, related_name="vms", null=True, blank=True
    )
    vdi_id = models.CharField(max_length=128, blank=True, help_text="domain id on the VDI side")
    desk_pool = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=16, default=SOURCE_LIBVIRT)
    name = models.CharField(max_length=255)
    uuid = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=32, blank=True)
    tags = models.JSONField(default=list, blank=True, validators=[validate_tags])
    vcpus = models.PositiveIntegerField(null=True)
    memory_mib = models.PositiveBigIntegerField(null=True)
    display = models.CharField(
        max_length=16, blank=True, help_text="its graphics as last synced: spice, vnc, or none"
    )
    disks_read_only = models.BooleanField(
        null=True, help_text="every disk read-only as last synced (null: not synced since)"
    )
    thumbnail = models.ImageField(upload_to="thumbnails/", blank=True)
    thumbnail_taken = models.DateTimeField(null=True)
    last_seen = models.DateTimeField(null=True)

    class Meta:
        ordering = ["host__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["host", "name"], name="unique_vm_per_host"),
            models.UniqueConstraint(
                fields=["vdi_endpoint", "vdi_id"],
                condition=~models.Q(vdi_id=""),
                name="unique_vm_per_vdi_endpoint",
            ),
        ]

    def __str__(self) -> str:
        where = self.host.name if self.host_id else (self.vdi_endpoint or "?")
        return f"{where}/{self.name}"


class AgentPing(models.Model):
    """One guest-agent ping of a VM, as done by the background worker."""

    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="pings")
    ok = models.BooleanField()
    latency_ms = models.FloatField(null=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
