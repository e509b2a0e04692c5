"""The "Operators" group: what the back office's day-to-day staff may do.

View every back-office page, and the named actions: halt/resume symbols, cancel
orders, disable users, credit and debit balances. Superusers need no group."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Operators"
NAMED = [
    ("trading", "change_symbol_status"),
    ("trading", "cancel_order"),
    ("accounts", "disable_user"),
    ("accounts", "adjust_balance"),
]
VIEW = [
    ("trading", "symbol"),
    ("trading", "order"),
    ("trading", "trade"),
    ("accounts", "user"),
    ("accounts", "asset"),
    ("accounts", "balance"),
    ("accounts", "ledgerentry"),
    ("accounts", "apikey"),
    ("accounts", "reconciliationrun"),
    ("accounts", "securityevent"),
]


def create_group(apps, schema_editor):
    # Permissions are made after all migrations (post_migrate); on a fresh
    # database they do not exist yet, so make the ones needed here.
    for label in ("accounts", "trading"):
        config = apps.get_app_config(label)
        models_module = getattr(config, "models_module", None)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    wanted = NAMED + [(app, f"view_{model}") for app, model in VIEW]
    for app_label, codename in wanted:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0003_permissions"),
        ("accounts", "0007_email_verified"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
