"""The only code that changes a balance.

Every change writes a ledger row in the same transaction, so that for every user and
asset the balance equals the sum of its ledger entries, and for every asset the total
of all balances equals deposits minus withdrawals.

Rows are locked in one order, sorted by (user, asset), in a single statement, with a
guard that neither ``free`` nor ``locked`` goes below zero: two transactions never
deadlock on balances, provided each transaction applies its changes in one call.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts import crypto
from accounts.models import ApiKey, Asset, Balance, LedgerEntry, User
from accounts.securitylog import Kind, security_event_record
from accounts.throttling import login_throttle_check, login_throttle_reset
from accounts.tokens import TokenPair, refresh_tokens_revoke_all, token_pair_issue
from accounts.twofactor import twofactor_check
from exchange import bus, errors
from exchange.errors import ExchangeError
from exchange.retry import retry_on_conflict

ZERO = Decimal(0)

# --- Assets and special accounts ---------------------------------------------------

_asset_decimals: dict[str, int] = {}
_fee_account_id: list[int] = []


def asset_decimals(code: str) -> int:
    """The precision of an asset; raises -1121-style refusal for an unknown one."""
    decimals = _asset_decimals.get(code)
    if decimals is None:
        _asset_decimals.update(Asset.objects.values_list("code", "decimals"))
        decimals = _asset_decimals.get(code)
        if decimals is None:
            raise ExchangeError(errors.INVALID_PARAMETER, f"Unknown asset '{code}'.")
    return decimals


def process_caches_clear() -> None:
    """Forget what this process remembers of the database (after a rollback the
    remembered rows may no longer exist, e.g. between tests)."""
    _asset_decimals.clear()
    _fee_account_id.clear()
    _known_rows.clear()
    apikey_records.clear()
    apikey_generation[:] = [None, float("-inf")]


def fee_account_id() -> int:
    """The id of the account that collects trading fees."""
    if not _fee_account_id:
        # The first migration creates it; get_or_create keeps a flushed database
        # (as between transactional tests) working too.
        account, created = User.objects.get_or_create(
            username=settings.FEE_ACCOUNT_USERNAME,
            defaults={"password": make_password(None), "is_active": False},
        )
        if not created:
            _fee_account_id.append(account.id)
        else:
            # Remembered only once it is committed: a rollback takes it away.
            transaction.on_commit(lambda: _fee_account_id.append(account.id))
        return account.id
    return _fee_account_id[0]


def amount_check(*, asset: str, amount: Decimal, name: str = "amount") -> Decimal:
    """A positive amount with no more places than the asset keeps."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise errors.invalid_parameter(name)
    if amount <= 0:
        raise ExchangeError(
            errors.INVALID_PARAMETER, f"Parameter '{name}' must be > 0."
        )
    if amount.adjusted() >= 17:
        raise errors.param_overflow(name)
    places = asset_decimals(asset)
    if amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN) != amount:
        raise ExchangeError(
            errors.BAD_PRECISION, f"Parameter '{name}' has too much precision."
        )
    return amount


# --- The one primitive ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """One ledgered change of one balance."""

    user_id: int
    asset: str
    delta_free: Decimal
    delta_locked: Decimal
    reason: str
    reference: str = ""


def insufficient_balance() -> ExchangeError:
    return ExchangeError(
        errors.NEW_ORDER_REJECTED,
        "Account has insufficient balance for requested action.",
        reason="insufficient_balance",
    )


# Balance rows are never deleted, so a process may remember which ones exist.
_known_rows: set[tuple[int, str]] = set()


def changes_net(
    changes: Sequence[BalanceChange],
) -> list[tuple[tuple[int, str], list[Decimal]]]:
    """Net (free, locked) deltas per (user, asset), sorted: the lock order."""
    net: dict[tuple[int, str], list[Decimal]] = {}
    for change in changes:
        pair = net.get((change.user_id, change.asset))
        if pair is None:
            net[(change.user_id, change.asset)] = [
                change.delta_free,
                change.delta_locked,
            ]
        else:
            pair[0] += change.delta_free
            pair[1] += change.delta_locked
    return sorted(
        (key, deltas) for key, deltas in net.items() if deltas[0] or deltas[1]
    )


def balance_changes_apply(*, changes: Sequence[BalanceChange]) -> None:
    """Apply ``changes`` atomically: all of them with their ledger rows, or none.

    Raises :func:`insufficient_balance` if any balance would go below zero, leaving
    every balance as it was (the enclosing transaction is rolled back by the raise).
    Call it once per transaction so that row locks are taken in one sorted order.
    """
    if not changes:
        return
    moves = changes_net(changes)
    with transaction.atomic():
        missing = balance_rows_missing(moves)
        if missing:
            Balance.objects.bulk_create(
                [
                    Balance(user_id=user_id, asset_id=asset)
                    for user_id, asset in missing
                ],
                ignore_conflicts=True,
            )
        if moves:
            if connection.vendor == "postgresql":
                _apply_postgresql(moves)
            else:
                _apply_generic(moves)
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    user_id=c.user_id,
                    asset_id=c.asset,
                    delta_free=c.delta_free,
                    delta_locked=c.delta_locked,
                    reason=c.reason,
                    reference=c.reference,
                )
                for c in changes
            ]
        )
    balance_rows_created(missing)


def balance_rows_missing(moves) -> list[tuple[int, str]]:
    """The (user, asset) rows among ``moves`` this process has not seen committed."""
    return [key for key, _ in moves if key not in _known_rows]


def balance_rows_created(rows: list[tuple[int, str]]) -> None:
    """Remember rows once their transaction commits (a rollback undoes them)."""
    if rows:
        transaction.on_commit(lambda: _known_rows.update(rows))


def _apply_postgresql(moves: list[tuple[tuple[int, str], list[Decimal]]]) -> None:
    values = ",".join(
        ["(%s::bigint, %s::varchar, %s::numeric, %s::numeric)"] * len(moves)
    )
    params: list = []
    for (user_id, asset), (delta_free, delta_locked) in moves:
        params += [user_id, asset, delta_free, delta_locked]
    # The CTE locks the rows in (user, asset) order before any is updated; the
    # guard is evaluated on the latest committed version of each row.
    sql = f"""
        WITH v(user_id, asset_id, df, dl) AS (VALUES {values}),
        l AS (
            SELECT b.id FROM accounts_balance b
            JOIN v ON b.user_id = v.user_id AND b.asset_id = v.asset_id
            ORDER BY b.user_id, b.asset_id
            FOR UPDATE OF b
        )
        UPDATE accounts_balance b
        SET free = b.free + v.df, locked = b.locked + v.dl
        FROM v, l
        WHERE b.id = l.id AND b.user_id = v.user_id AND b.asset_id = v.asset_id
          AND b.free + v.df >= 0 AND b.locked + v.dl >= 0
    """  # noqa: S608 - only placeholders are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount != len(moves):
            raise insufficient_balance()


def _apply_generic(moves: list[tuple[tuple[int, str], list[Decimal]]]) -> None:
    """SQLite: transactions are serialised by the database write lock (IMMEDIATE),
    so a read-modify-write in exact decimals is safe, and avoids SQLite's float
    arithmetic on NUMERIC columns."""
    for (user_id, asset), (delta_free, delta_locked) in moves:
        row = (
            Balance.objects.filter(user_id=user_id, asset_id=asset)
            .values_list("id", "free", "locked")
            .first()
        )
        if row is None:
            raise insufficient_balance()
        balance_id, free, locked = row
        free, locked = free + delta_free, locked + delta_locked
        if free < 0 or locked < 0:
            raise insufficient_balance()
        Balance.objects.filter(id=balance_id).update(free=free, locked=locked)


# --- Named operations -------------------------------------------------------------


@retry_on_conflict("balance_deposit")
def balance_deposit(
    *, user_id: int, asset: str, amount: Decimal, reference: str = ""
) -> None:
    """Credit ``amount`` of ``asset`` to the user's free balance."""
    amount = amount_check(asset=asset, amount=amount)
    balance_changes_apply(
        changes=[
            BalanceChange(
                user_id, asset, amount, ZERO, LedgerEntry.Reason.DEPOSIT, reference
            )
        ]
    )
    _balance_update_publish(user_id, asset, amount)


@retry_on_conflict("balance_withdraw")
def balance_withdraw(
    *, user_id: int, asset: str, amount: Decimal, reference: str = ""
) -> None:
    """Debit ``amount`` from the user's free balance; refused if it is not there."""
    amount = amount_check(asset=asset, amount=amount)
    balance_changes_apply(
        changes=[
            BalanceChange(
                user_id, asset, -amount, ZERO, LedgerEntry.Reason.WITHDRAW, reference
            )
        ]
    )
    _balance_update_publish(user_id, asset, -amount)


def _balance_update_publish(user_id: int, asset: str, delta: Decimal) -> None:
    """Tell the live side (``balanceUpdate``) once the change commits."""
    when = int(time.time() * 1000)

    def build() -> dict:
        return {
            "k": "balance",
            "users": [user_id],
            "a": asset,
            "d": f"{delta:.8f}",
            "T": when,
            "E": int(time.time() * 1000),
        }

    transaction.on_commit(lambda: bus.publish(bus.USER, build))


def _access_ended_publish(user_id: int, key_ids: list[int] | None) -> None:
    """Tell the live side that these keys (all the user's, with None) no longer
    authorise anything, once that commits: it ends their event streams."""

    def build() -> dict:
        return {"k": "revoked", "users": [user_id], "keys": key_ids}

    transaction.on_commit(lambda: bus.publish(bus.USER, build))


@retry_on_conflict("balance_hold")
def balance_hold(
    *, user_id: int, asset: str, amount: Decimal, reference: str = ""
) -> None:
    """Move ``amount`` from free to locked."""
    amount = amount_check(asset=asset, amount=amount)
    balance_changes_apply(changes=[hold_change(user_id, asset, amount, reference)])


@retry_on_conflict("balance_release")
def balance_release(
    *, user_id: int, asset: str, amount: Decimal, reference: str = ""
) -> None:
    """Move ``amount`` from locked back to free."""
    amount = amount_check(asset=asset, amount=amount)
    balance_changes_apply(changes=[release_change(user_id, asset, amount, reference)])


def hold_change(
    user_id: int, asset: str, amount: Decimal, reference: str
) -> BalanceChange:
    return BalanceChange(
        user_id, asset, -amount, amount, LedgerEntry.Reason.HOLD, reference
    )


def release_change(
    user_id: int, asset: str, amount: Decimal, reference: str
) -> BalanceChange:
    return BalanceChange(
        user_id, asset, amount, -amount, LedgerEntry.Reason.RELEASE, reference
    )


@dataclass(frozen=True, slots=True)
class Transfer:
    """``amount`` of ``asset`` moving between two users.

    ``from_locked`` takes it from the payer's locked balance (funds an order held),
    otherwise from free. The payee always receives it as free.
    """

    from_user_id: int
    to_user_id: int
    asset: str
    amount: Decimal
    from_locked: bool = True
    reason: str = LedgerEntry.Reason.TRADE


def settle_changes(
    transfers: Iterable[Transfer], reference: str
) -> list[BalanceChange]:
    """The ledgered changes that carry out ``transfers`` (not yet applied)."""
    changes: list[BalanceChange] = []
    for t in transfers:
        if t.amount <= 0:
            continue
        if t.from_locked:
            changes.append(
                BalanceChange(
                    t.from_user_id, t.asset, ZERO, -t.amount, t.reason, reference
                )
            )
        else:
            changes.append(
                BalanceChange(
                    t.from_user_id, t.asset, -t.amount, ZERO, t.reason, reference
                )
            )
        changes.append(
            BalanceChange(t.to_user_id, t.asset, t.amount, ZERO, t.reason, reference)
        )
    return changes


@retry_on_conflict("balance_settle")
def balance_settle(*, transfers: Sequence[Transfer], reference: str = "") -> None:
    """Carry out a batch of transfers between users (fees included) atomically."""
    balance_changes_apply(changes=settle_changes(transfers, reference))


# --- Users --------------------------------------------------------------------------


def user_create(
    *,
    username: str,
    password: str | None,
    email: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a user; ``password=None`` leaves it unable to log in with one."""
    user = User(
        username=username, email=email, is_staff=is_staff, is_superuser=is_superuser
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def user_login(*, username: str, password: str, otp: str, ip: str) -> TokenPair:
    """Log in: the password, then the two-factor code when it is on. Throttled
    per client IP and per account name; attempts and failures go to the user's
    security log. Every refusal of a wrong name or password reads the same."""
    login_throttle_check(ip=ip, username=username)
    user = authenticate(None, username=username, password=password)
    if user is None:
        user_id = (
            User.objects.filter(username=username, is_active=True)
            .values_list("id", flat=True)
            .first()
        )
        if user_id is not None:
            security_event_record(
                user_id=user_id, kind=Kind.LOGIN_FAILED, ip=ip, detail="password"
            )
        raise ExchangeError(errors.UNAUTHORIZED, "Invalid username or password.", 401)
    try:
        twofactor_check(user=user, otp=otp)
    except ExchangeError as exc:
        if exc.reason != "otp_required":
            security_event_record(
                user_id=user.id, kind=Kind.LOGIN_FAILED, ip=ip, detail="two-factor"
            )
        raise
    login_throttle_reset(username=username)
    security_event_record(user_id=user.id, kind=Kind.LOGIN, ip=ip)
    return token_pair_issue(user=user)


def user_password_set(
    *,
    user: User,
    password: str,
    keep_api_keys: bool = False,
    reset: bool = False,
    ip: str | None = None,
) -> None:
    """Set a new password (already validated by the caller). Every refresh token
    of the user ends, and every API key is revoked unless ``keep_api_keys``
    (``User.save`` calls :func:`user_credentials_revoke`)."""
    with transaction.atomic():
        user.set_password(password)
        user.keep_api_keys_on_password_set = keep_api_keys
        user.password_set_event = (
            Kind.PASSWORD_RESET if reset else Kind.PASSWORD_CHANGED,
            ip,
        )
        user.save(update_fields=["password"])


def user_credentials_revoke(
    *,
    user_id: int,
    keep_api_keys: bool = False,
    event: str = Kind.PASSWORD_CHANGED,
    ip: str | None = None,
) -> None:
    """End what was issued under the user's old password: refresh tokens (access
    tokens carry a digest of the password hash and die by themselves) and,
    unless ``keep_api_keys``, API keys; log ``event``. Called by ``User.save``
    once a new password hash is stored, whichever path set it."""
    sessions = refresh_tokens_revoke_all(user_id=user_id)
    keys = 0 if keep_api_keys else apikeys_revoke_all(user_id=user_id, log=False)
    security_event_record(
        user_id=user_id,
        kind=event,
        ip=ip,
        detail=f"{sessions} refresh token(s) ended, {keys} API key(s) revoked",
    )


# --- API keys ----------------------------------------------------------------------

_KEY_ALPHABET = string.ascii_letters + string.digits
API_KEY_LENGTH = 64


def _random_token(length: int = API_KEY_LENGTH) -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(length))


def apikey_create(
    *,
    user_id: int,
    label: str = "",
    permissions: Sequence[str] = ("read",),
    ip_allowlist: Sequence[str] = (),
    ip: str | None = None,
) -> tuple[ApiKey, str]:
    """Create an API key; returns it with its secret, which is never shown again."""
    unknown = set(permissions) - {"read", "trade"}
    if unknown or not permissions:
        raise ExchangeError(
            errors.INVALID_PARAMETER,
            "Data sent for parameter 'permissions' is not valid: "
            "use read and/or trade.",
        )
    allowlist = [crypto.ip_network_check(item) for item in ip_allowlist]
    secret = _random_token()
    key = ApiKey.objects.create(
        user_id=user_id,
        label=label[:64],
        key=_random_token(),
        secret_encrypted=crypto.encrypt(secret),
        can_read="read" in permissions or "trade" in permissions,
        can_trade="trade" in permissions,
        ip_allowlist=allowlist,
    )
    security_event_record(
        user_id=user_id,
        kind=Kind.API_KEY_CREATED,
        ip=ip,
        detail=f"{key.label or 'key'} {key.key[:8]}... ({','.join(key.permissions)})",
    )
    return key, secret


def apikey_revoke(*, user_id: int, key_id: int, ip: str | None = None) -> ApiKey:
    """Revoke one of the user's keys; another user's key is 'not found'."""
    key = ApiKey.objects.filter(id=key_id, user_id=user_id, revoked_at=None).first()
    if key is None:
        raise ExchangeError(errors.INVALID_PARAMETER, "API key not found.", 404)
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    apikey_cache_invalidate(key.key)
    security_event_record(
        user_id=user_id,
        kind=Kind.API_KEY_REVOKED,
        ip=ip,
        detail=f"{key.label or 'key'} {key.key[:8]}...",
    )
    _access_ended_publish(user_id, [key.id])
    return key


# Key records as this process last read them: key -> (expires, record or None).
# A process keeps them while the key generation in the cache stays the same, which
# it reads at most every SIGNED_REQUEST["key_local_seconds"] (one read for all
# keys), and at most for "key_cache_seconds". A revoke anywhere changes the
# generation: this process drops the entry at once, others within that second.
apikey_records: dict[str, tuple[float, object]] = {}
APIKEY_GENERATION = "apikey:generation"
# [the generation last read, when (monotonic)]
apikey_generation: list = [None, float("-inf")]


def apikey_cache_invalidate(key: str) -> None:
    apikey_records.pop(key, None)
    _apikey_shared_forget(key)
    # Again once the change is committed, in case another process read the row
    # in between and cached what it was.
    transaction.on_commit(lambda: _apikey_shared_forget(key))


def _apikey_shared_forget(key: str) -> None:
    cache.delete(apikey_cache_key(key))
    cache.set(APIKEY_GENERATION, secrets.token_hex(8), None)


def apikey_cache_key(key: str) -> str:
    return f"apikey:{key}"


def user_disable(*, user_id: int) -> None:
    """Stop a user from logging in or using keys. Open orders are the caller's job."""
    User.objects.filter(id=user_id).update(is_active=False)
    apikeys_revoke_all(user_id=user_id)


def apikeys_revoke_all(*, user_id: int, log: bool = True) -> int:
    """Revoke every live key of the user; returns how many there were."""
    now = timezone.now()
    keys = list(
        ApiKey.objects.filter(user_id=user_id, revoked_at=None).values_list(
            "key", flat=True
        )
    )
    ApiKey.objects.filter(user_id=user_id, revoked_at=None).update(revoked_at=now)
    for key in keys:
        apikey_cache_invalidate(key)
    if keys and log:
        security_event_record(
            user_id=user_id, kind=Kind.API_KEY_REVOKED, detail=f"all {len(keys)}"
        )
    _access_ended_publish(user_id, None)
    return len(keys)
