"""Inventory: libvirt hosts, their virtual machines, and guest-agent checks."""

from __future__ import annotations

from django.db import models


class Host(models.Model):
    """A libvirt host, addressed by URI (qemu:///system, qemu+ssh://user@h/system, ...)."""

    name = models.SlugField(max_length=64, unique=True)
    uri = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True)
    credentials_ref = models.CharField(
        max_length=128, blank=True, help_text="name of an SSH key or secret on the workers"
    )
    tags = models.JSONField(default=list, blank=True)
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


class VirtualMachine(models.Model):
    """A domain seen on a host (synced from libvirt) or on a VDI platform."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="vms")
    name = models.CharField(max_length=255)
    uuid = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=32, blank=True)
    tags = models.JSONField(default=list, blank=True)
    vcpus = models.PositiveIntegerField(null=True)
    memory_mib = models.PositiveBigIntegerField(null=True)
    thumbnail = models.ImageField(upload_to="thumbnails/", blank=True)
    last_seen = models.DateTimeField(null=True)

    class Meta:
        ordering = ["host__name", "name"]
        constraints = [models.UniqueConstraint(fields=["host", "name"], name="unique_vm_per_host")]

    def __str__(self) -> str:
        return f"{self.host.name}/{self.name}"


class AgentPing(models.Model):
    """One guest-agent ping of a VM, as done by the background worker."""

    vm = models.ForeignKey(VirtualMachine, on_delete=models.CASCADE, related_name="pings")
    ok = models.BooleanField()
    latency_ms = models.FloatField(null=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
