"""Panel users: creation, password hashing (argon2) and verification.

Roles: ``superadmin`` (the platform; ``users.is_superadmin``, no tenant) and, per tenant through a
membership, ``owner``, ``admin`` and ``agent``. Passwords are stored as argon2id hashes; a legacy
unsalted SHA-256 hex hash (imported from the old system) is accepted once and upgraded to argon2
on the first successful login.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from chasqui.db.models import ROLES as TENANT_ROLES
from chasqui.db.models import AuditLog, Membership, PanelSession, Tenant, User

SUPERADMIN = "superadmin"
ROLES = (SUPERADMIN, *TENANT_ROLES)
MIN_PASSWORD_LENGTH = 8
MIN_NEW_PASSWORD_LENGTH = 10  # a password chosen in the panel (/account/password)
ONE_TIME_PASSWORD_ACTION = "auth.one_time_password"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
_LEGACY_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MIN_PASSWORD_SCORE = 3  # zxcvbn 0-4: 3 is "safely unguessable" (about 10^8 guesses and more)
# Words an attacker tries first against this product, besides the user's own e-mail and name.
PRODUCT_WORDS = ("chasqui", "whatsapp", "contraseña", "contrasena", "clave", "password", "admin", "panel")
WEAK_PASSWORD = "La contraseña es demasiado fácil de adivinar"

_hasher = PasswordHasher()
# A real hash to verify against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def weak_password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """A Spanish reason why ``password`` is too easy to guess (a common or breached password,
    the user's e-mail or name, a keyboard pattern...), or None when it is strong enough."""
    local_part = email.split("@", 1)[0]
    own_words = [w for w in (email, local_part, *re.split(r"[\W_]+", email), name, *name.split()) if w]
    if any(len(w) >= 4 and w.lower() in password.lower() for w in own_words):
        return f"{WEAK_PASSWORD}: no uses tu correo ni tu nombre."
    result = zxcvbn(password[:100], user_inputs=[*own_words, *PRODUCT_WORDS])
    if result["score"] < MIN_PASSWORD_SCORE:
        return f"{WEAK_PASSWORD}: es una contraseña común o sigue un patrón conocido."
    return None


def revoke_sessions(session: Session, user_id: int, *, keep_session_id: int | None = None) -> int:
    """End every panel session of a user (but ``keep_session_id``); how many were ended."""
    query = update(PanelSession).where(PanelSession.user_id == user_id, PanelSession.revoked_at.is_(None))
    if keep_session_id is not None:
        query = query.where(PanelSession.id != keep_session_id)
    return session.execute(query.values(revoked_at=datetime.now(UTC))).rowcount or 0


def deactivate_user(session: Session, user: User) -> None:
    """Disable a panel user: no login and every open session of theirs ends now."""
    user.active = False
    user.updated_at = datetime.now(UTC)
    revoke_sessions(session, user.id)
    session.add(AuditLog(tenant_id=None, user_id=user.id, action="account.disable", detail={}))
    session.flush()


def generate_password() -> str:
    """A random one-time password (about 96 bits)."""
    return secrets.token_urlsafe(12)


def create_user(
    session: Session, email: str, password: str, role: str, tenant_slug: str | None = None, *, name: str = ""
) -> User:
    """Create a panel user; ``ValueError`` with a one-line message for any mistake."""
    email = normalize_email(email)
    if not EMAIL_RE.fullmatch(email) or len(email) > 255:
        raise ValueError(f"not a valid e-mail address: {email!r}")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    weak = weak_password_problem(password, email, name)
    if weak:
        raise ValueError(f"password: {weak}")
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise ValueError(f"a user {email} already exists")
    tenant = None
    if role == SUPERADMIN:
        if tenant_slug:
            raise ValueError("a superadmin belongs to no tenant: leave out --tenant")
    else:
        if not tenant_slug:
            raise ValueError(f"role {role} needs a tenant: add --tenant SLUG")
        tenant = session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
        if tenant is None:
            raise ValueError(f"unknown tenant {tenant_slug!r}")
    now = datetime.now(UTC)
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        is_superadmin=role == SUPERADMIN,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    if tenant is not None:
        session.add(Membership(user_id=user.id, tenant_id=tenant.id, role=role, created_at=now))
        session.flush()
    return user


def verify_password(user: User, password: str) -> bool:
    """Check ``password``; upgrades a legacy SHA-256 or outdated argon2 hash in place on success."""
    stored = user.password_hash or ""
    if _LEGACY_SHA256.fullmatch(stored):
        digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
        if not hmac.compare_digest(digest, stored):
            return False
        user.password_hash = hash_password(password)
        return True
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    return True


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same work whether or not the e-mail exists)."""
    user = session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))
    if user is None or not user.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    return user if verify_password(user, password) else None


def user_tenants(session: Session, user: User) -> list[tuple[Tenant, str]]:
    """The tenants a user may see, with the role (superadmin: every tenant)."""
    if user.is_superadmin:
        return [(t, SUPERADMIN) for t in session.scalars(select(Tenant).order_by(Tenant.name))]
    rows = session.execute(
        select(Tenant, Membership.role)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == user.id)
        .order_by(Tenant.name)
    )
    return [(tenant, role) for tenant, role in rows]


def password_fingerprint(user: User) -> str:
    """Changes whenever the password changes: stored in the session to end old sessions."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]



def mark_one_time_password(session: Session, user: User) -> None:
    """Remember (in the audit log) that ``user``'s current password is a printed one-time password."""
    detail = {"fingerprint": password_fingerprint(user)}
    session.add(AuditLog(tenant_id=None, user_id=user.id, action=ONE_TIME_PASSWORD_ACTION, detail=detail))
    session.flush()


def uses_one_time_password(session: Session, user: User) -> bool:
    """True while the user still logs in with the one-time password printed at the first start."""
    detail = session.scalar(
        select(AuditLog.detail)
        .where(AuditLog.user_id == user.id, AuditLog.action == ONE_TIME_PASSWORD_ACTION)
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    return isinstance(detail, dict) and detail.get("fingerprint") == password_fingerprint(user)


def change_password(
    session: Session, user: User, current: str, new: str, confirm: str, *, keep_session_id: int | None = None
) -> list[str]:
    """Set a new password chosen by the user; the Spanish problems (nothing changed) or [].

    Every other panel session of the user ends (``keep_session_id``: the one making the change)."""
    problems: list[str] = []
    if not verify_password(user, current):
        problems.append("La contraseña actual no es correcta.")
    if len(new) < MIN_NEW_PASSWORD_LENGTH:
        problems.append(f"La nueva contraseña debe tener al menos {MIN_NEW_PASSWORD_LENGTH} caracteres.")
    elif len(new) > 200:
        problems.append("La nueva contraseña es demasiado larga (máximo 200 caracteres).")
    if new != confirm:
        problems.append("La confirmación no coincide con la nueva contraseña.")
    if not problems and new == current:
        problems.append("La nueva contraseña debe ser distinta de la actual.")
    if not problems:
        weak = weak_password_problem(new, user.email, user.name)
        problems += [weak] if weak else []
    if problems:
        return problems
    revoke_sessions(session, user.id, keep_session_id=keep_session_id)
    user.password_hash = hash_password(new)
    user.updated_at = datetime.now(UTC)
    session.add(AuditLog(tenant_id=None, user_id=user.id, action="account.password.change", detail={}))
    session.flush()
    return []
