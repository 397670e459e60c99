from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scenarios", "0006_tags_from_json"),
    ]

    operations = [
        migrations.RemoveField(model_name="scenario", name="tags"),
        migrations.RemoveField(model_name="referenceimage", name="tags"),
    ]
