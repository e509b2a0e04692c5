from django.contrib.admin.apps import AdminConfig


class BackOfficeAdminConfig(AdminConfig):
    """The admin, with the site that asks staff for two-factor."""

    default_site = "accounts.admin_site.ExchangeAdminSite"
