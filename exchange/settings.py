"""Settings, read once from the environment (12-factor).

With nothing set, the exchange runs on an embedded default: SQLite (WAL, immediate
transactions) and the local-memory cache. ``DATABASE_URL`` and ``REDIS_URL`` switch
to PostgreSQL and Redis. With ``DEBUG`` off, a missing secret fails at boot.
"""

import base64
import hashlib
import importlib.util
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("EXCHANGE_TESTING", False)

# The embedded default (no DATABASE_URL) is a machine of one's own: there,
# `manage.py <command>` works without secrets, on a key generated once and kept
# under var/. Anywhere with a real database, missing secrets refuse the boot.
EMBEDDED = not env_str("DATABASE_URL")


def development_secret_key() -> str:
    """The embedded default's own key: made on first use, kept (mode 0600) in
    ``DEV_SECRET_KEY_FILE`` (var/dev-secret-key), the same for every command."""
    path = Path(
        env_str("DEV_SECRET_KEY_FILE", str(BASE_DIR / "var" / "dev-secret-key"))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-" + "x" * 40
    elif EMBEDDED:
        SECRET_KEY = development_secret_key()
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (DATABASE_URL is set)."
        )

# API-key secrets are stored encrypted with this Fernet key, so that a database dump
# alone does not reveal them.
API_KEY_ENCRYPTION_KEY = env_str("API_KEY_ENCRYPTION_KEY")
if not API_KEY_ENCRYPTION_KEY:
    if not DEBUG and not TESTING and not EMBEDDED:
        raise ImproperlyConfigured(
            "API_KEY_ENCRYPTION_KEY must be set when DEBUG is off."
        )
    API_KEY_ENCRYPTION_KEY = base64.urlsafe_b64encode(
        hashlib.sha256(("api-keys:" + SECRET_KEY).encode()).digest()
    ).decode()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")
if TESTING:
    ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "exchange.apps.BackOfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "accounts",
    "matching",
    "trading",
]
# Benchmark and profiling commands (tools/): in a checkout, not in the image.
if importlib.util.find_spec("tools") is not None:
    INSTALLED_APPS.append("tools")

MIDDLEWARE = [
    "exchange.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "exchange.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "exchange.middleware.AuthenticationMiddleware",
    "exchange.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "exchange.urls"
WSGI_APPLICATION = "exchange.wsgi.application"
ASGI_APPLICATION = "exchange.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "exchange" / "templates", BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -----------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
REPLICA_DATABASE_URL = env_str("REPLICA_DATABASE_URL")
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 300)
# A health check is a `SELECT 1` round trip at the start of every request. Without
# it, a connection that died (a database restart) fails one request with a 503
# -1001, and Django drops it at the end of that request; the next one reconnects.
CONN_HEALTH_CHECKS = env_bool("CONN_HEALTH_CHECKS", False)


def _database(url: str) -> dict:
    config = dj_database_url.parse(
        url, conn_max_age=CONN_MAX_AGE, conn_health_checks=CONN_HEALTH_CHECKS
    )
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        # Fail fast when the database is unreachable instead of hanging a worker.
        config["OPTIONS"].setdefault(
            "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3)
        )
        # The hot paths' statements are prepared by exchange/db.py on libpq's
        # connection, and stay prepared across rollbacks. psycopg prepares none
        # of its own: once it had, its every ROLLBACK sent DEALLOCATE ALL, which
        # would drop ours too. Needs a direct connection, or a pooler in session
        # mode.
        config["OPTIONS"].setdefault("prepare_threshold", None)
        # Those statements are planned once per connection. PostgreSQL's default
        # planned the book sync (seq > $2) afresh at every execution, its
        # generic plan (the order_symbol_seq index) estimated for a third of
        # the table; that was 8% of the database's CPU under load
        # (docs/performance.md). Django's own queries carry their values
        # inline and are planned each time either way.
        options = config["OPTIONS"].get("options", "")
        if "plan_cache_mode" not in options:
            generic = "-c plan_cache_mode=force_generic_plan"
            config["OPTIONS"]["options"] = f"{options} {generic}".strip()
    return config


if DATABASE_URL:
    DATABASES = {"default": _database(DATABASE_URL)}
else:
    sqlite_path = Path(
        env_str("SQLITE_PATH", str(BASE_DIR / "var" / "exchange.sqlite3"))
    )
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }

if REPLICA_DATABASE_URL:
    DATABASES["replica"] = _database(REPLICA_DATABASE_URL)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["exchange.db_router.ReplicaRouter"]

# --- Cache and sessions ----------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "exchange"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
                # Redis being down is degraded service, never an error.
                "IGNORE_EXCEPTIONS": True,
                "CONNECTION_POOL_KWARGS": {"max_connections": 64},
            },
        }
    }
    # The market-data breaker logs an outage once; a trace per call would flood.
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "exchange",
        }
    }
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth ------------------------------------------------------------------------

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "exchange.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "exchange.exception_handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    # Access tokens carry a hash of the password: a password change kills them.
    "CHECK_REVOKE_TOKEN": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Login throttling: attempts per window, per client IP and per account.
LOGIN_THROTTLE = {
    "ip_limit": env_int("LOGIN_IP_LIMIT", 20),
    "account_limit": env_int("LOGIN_ACCOUNT_LIMIT", 5),
    "window_seconds": env_int("LOGIN_WINDOW_SECONDS", 300),
}

# Other attempts worth guessing at: (attempts, window seconds) per key.
ATTEMPT_THROTTLES = {
    # two-factor codes, per user
    "otp": (env_int("OTP_ATTEMPT_LIMIT", 10), 300),
    # password reset requests, per client IP and per address
    "reset": (env_int("RESET_REQUEST_LIMIT", 5), 3600),
    # sign-ups per client IP (each costs an Argon2 hash, 0.2-0.4 s of CPU)
    "register": (env_int("REGISTER_IP_LIMIT", 10), 3600),
    # password changes per user (each checks the old password with Argon2)
    "password": (env_int("PASSWORD_CHANGE_LIMIT", 5), 300),
}

# --- E-mail (password reset, address verification) ---------------------------------

# The embedded default writes mail to the console; production sends by SMTP
# unless EMAIL_BACKEND names another backend (a provider's, the file backend).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if DATABASE_URL
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Exchange <no-reply@localhost>")
# Where the links in those e-mails point (the web app's origin).
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# A reset link works once, for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 1800)
EMAIL_VERIFICATION_TIMEOUT = env_int("EMAIL_VERIFICATION_TIMEOUT", 3 * 86400)
# Mail is sent off the request thread, so that answers take the same time
# whether or not an e-mail went out (tests send inline).
EMAIL_SEND_ASYNC = env_bool("EMAIL_SEND_ASYNC", not TESTING)

# Binance-style signed requests.
SIGNED_REQUEST = {
    "default_recv_window": 5000,
    "max_recv_window": 60000,
    # Binance refuses a timestamp more than 1 s ahead of the server clock.
    "max_clock_ahead_ms": 1000,
    "key_cache_seconds": env_int("API_KEY_CACHE_SECONDS", 30),
    # A revoked key (or a disabled user's) is refused at once by the process that
    # revoked it and within this many seconds by every other (0: at once).
    "key_local_seconds": env_int("API_KEY_LOCAL_SECONDS", 1),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Exchange API",
    "DESCRIPTION": (
        "Spot exchange. /api/v3 follows Binance's Spot REST API: signed endpoints take "
        "X-MBX-APIKEY and a hex HMAC-SHA256 `signature` of the query string followed "
        "by the form body, with `timestamp` and `recvWindow`. A JWT bearer token from "
        "/api/v1/auth/login is accepted on the same endpoints."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from drf-spectacular-sidecar, served as our own static
    # files: /api/docs/ loads with no CDN and under a CSP without inline scripts.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- HTTP, security --------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "x-mbx-apikey",
    "x-request-id",
]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The web app's sources are its static files (plain ES modules, no build step).
STATICFILES_DIRS = [("web", BASE_DIR / "web" / "src")]
# The admin's and the web app's static files are served by the app itself
# (whitenoise), compressed, hashed and with far-future cache headers, so the one
# container needs no web server.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "exchange.staticfiles.HashedStaticFilesStorage"
        if not DEBUG and not TESTING
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Logging, errors, metrics -------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "exchange.logging.RequestContextFilter"}},
    "formatters": {
        # The same fields as python-json-logger's JsonFormatter, written by orjson:
        # a request's log line in a fifth of the time (docs/performance.md).
        "json": {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
            },
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Refusals (4xx) are answered in Binance's shape; they are not server errors.
        "django.request": {"level": "ERROR"},
        # A refused order inside a pipeline is a normal refusal, not a warning.
        "psycopg": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0") or 0),
        send_default_pii=False,
    )

PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Exchange ----------------------------------------------------------------------

# The account that collects trading fees. Created by the first accounts migration.
FEE_ACCOUNT_USERNAME = "fees"

# Binance-style rate limits (per IP for request weight, per account for orders).
RATE_LIMITS = {
    "enabled": env_bool("RATE_LIMITS_ENABLED", True),
    "weight_per_minute": env_int("RATE_LIMIT_WEIGHT_PER_MINUTE", 6000),
    "orders_per_10s": env_int("RATE_LIMIT_ORDERS_PER_10S", 100),
    "orders_per_day": env_int("RATE_LIMIT_ORDERS_PER_DAY", 200000),
}
# Request weight is added to Redis at most this often per process, and at once
# near an IP's limit and on orders (trading/api/ratelimit.py); 0: every request.
RATE_LIMIT_SYNC_SECONDS = env_int("RATE_LIMIT_SYNC_MS", 250) / 1000
NUM_PROXIES = env_int("NUM_PROXIES", 0)
# A newClientOrderId is refused (-2010 Duplicate order sent.) while an order of
# the account with it is open (Binance), and for this long after one was placed
# with it, open or not, so that a retried order is placed once (0: Binance's
# rule only).
CLIENT_ORDER_ID_REUSE_SECONDS = env_int("CLIENT_ORDER_ID_REUSE_SECONDS", 3600)
# GET /internal/books: a worker's in-process books, on loopback only, for checks.
EXPOSE_INTERNAL_BOOKS = env_bool("EXPOSE_INTERNAL_BOOKS", False)
