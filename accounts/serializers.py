"""Input and output shapes of the /api/v1 account endpoints."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import ApiKey, User


class RegisterInput(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{3,150}$", max_length=150)
    password = serializers.CharField(max_length=128, write_only=True)
    email = serializers.EmailField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        candidate = User(username=attrs["username"], email=attrs.get("email", ""))
        try:
            validate_password(attrs["password"], candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                {"password": list(exc.messages)}
            ) from None
        return attrs


def otp_field() -> serializers.CharField:
    """A TOTP code or a recovery code, asked when the user has two-factor on."""
    return serializers.CharField(
        max_length=32, required=False, allow_blank=True, default=""
    )


class LoginInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128)
    otp = otp_field()


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class PasswordChangeInput(serializers.Serializer):
    old_password = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128)
    otp = otp_field()
    keepApiKeys = serializers.BooleanField(required=False, default=False)  # noqa: N815


class OtpInput(serializers.Serializer):
    otp = serializers.CharField(max_length=32)


class EnrolmentOutput(serializers.Serializer):
    secret = serializers.CharField()
    otpauthUri = serializers.CharField(source="uri")  # noqa: N815
    qrSvg = serializers.CharField(source="qr_svg")  # noqa: N815


class RecoveryCodesOutput(serializers.Serializer):
    recoveryCodes = serializers.ListField(child=serializers.CharField())  # noqa: N815


class UserOutput(serializers.ModelSerializer):
    emailVerified = serializers.SerializerMethodField()  # noqa: N815

    class Meta:
        model = User
        fields = ["id", "username", "email", "emailVerified", "date_joined"]

    def get_emailVerified(self, user: User) -> bool:  # noqa: N802
        return user.email_verified_at is not None


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class ApiKeyInput(serializers.Serializer):
    label = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=["read", "trade"]),
        required=False,
        default=["read"],
        min_length=1,
        max_length=2,
    )
    ipAllowlist = serializers.ListField(  # noqa: N815 - API field name
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        max_length=50,
    )
    otp = otp_field()


class ApiKeyOutput(serializers.ModelSerializer):
    apiKey = serializers.CharField(source="key")  # noqa: N815
    permissions = serializers.ListField(child=serializers.CharField())
    ipAllowlist = serializers.ListField(  # noqa: N815
        source="ip_allowlist", child=serializers.CharField()
    )
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815

    class Meta:
        model = ApiKey
        fields = ["id", "label", "apiKey", "permissions", "ipAllowlist", "createdAt"]


class ApiKeyCreatedOutput(ApiKeyOutput):
    secretKey = serializers.CharField()  # noqa: N815

    class Meta(ApiKeyOutput.Meta):
        fields = ApiKeyOutput.Meta.fields + ["secretKey"]


class BalanceOutput(serializers.Serializer):
    asset = serializers.CharField(source="asset_id")
    free = serializers.DecimalField(max_digits=36, decimal_places=8)
    locked = serializers.DecimalField(max_digits=36, decimal_places=8)


class MeOutput(UserOutput):
    twoFactorEnabled = serializers.BooleanField()  # noqa: N815
    balances = BalanceOutput(many=True)

    class Meta(UserOutput.Meta):
        fields = UserOutput.Meta.fields + ["twoFactorEnabled", "balances"]


class SecurityLogQuery(serializers.Serializer):
    # ASCII digits only: int() would take other scripts' digits.
    limit = serializers.RegexField(
        r"^[0-9]{1,3}$", required=False, default="100", max_length=3
    )

    def validate_limit(self, value: str) -> str:
        if not 1 <= int(value) <= 500:
            raise serializers.ValidationError("must be between 1 and 500.")
        return value


class SecurityEventOutput(serializers.Serializer):
    time = serializers.DateTimeField(source="created_at")
    event = serializers.CharField(source="kind")
    ip = serializers.CharField(allow_null=True)
    detail = serializers.CharField()


class PasswordResetInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInput(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128)


class TokenInput(serializers.Serializer):
    token = serializers.CharField(max_length=512)
