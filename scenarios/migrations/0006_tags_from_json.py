"""The JSON tag lists of scenarios and reference images become rows of the Tag table.

Each list is cleaned the way every tag is (atp_site.tags.normalise_tags: trimmed, non-empty,
at most 64 characters and 50 tags, duplicates dropped); backwards, the rows become lists again.
A migration of its own, between the schema changes, so PostgreSQL never alters a table with
row changes pending in the same transaction.
"""

from django.db import migrations

from atp_site.tags import normalise_tags

MODELS = ("Scenario", "ReferenceImage")


def json_to_rows(apps, schema_editor):
    Tag = apps.get_model("scenarios", "Tag")
    known = {}
    for model_name in MODELS:
        model = apps.get_model("scenarios", model_name)
        for row in model.objects.only("pk", "tags").iterator():
            names = normalise_tags(row.tags)
            if not names:
                continue
            for name in names:
                if name not in known:
                    known[name] = Tag.objects.get_or_create(name=name)[0]
            row.tagged_with.set([known[name] for name in names])


def rows_to_json(apps, schema_editor):
    for model_name in MODELS:
        model = apps.get_model("scenarios", model_name)
        for row in model.objects.prefetch_related("tagged_with").iterator(chunk_size=500):
            names = sorted(tag.name for tag in row.tagged_with.all())
            model.objects.filter(pk=row.pk).update(tags=names)


class Migration(migrations.Migration):
    dependencies = [
        ("scenarios", "0005_tag_table"),
    ]

    operations = [
        migrations.RunPython(json_to_rows, rows_to_json),
    ]
