"""The one column type for amounts of money."""

from django.db import models

AMOUNT_DIGITS = 36
AMOUNT_PLACES = 18


class AmountField(models.DecimalField):
    """An exact amount: NUMERIC(36, 18). Never a float."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", AMOUNT_DIGITS)
        kwargs.setdefault("decimal_places", AMOUNT_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        # Migrations need no explicit digits: they are this field's defaults.
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        return name, path, args, kwargs
