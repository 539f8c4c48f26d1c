"""The workspace: a ``.trustops/`` folder found like git's, its settings, its signing key.

``trustops init`` creates, in the current directory::

    .trustops/
    ├── config.toml      settings (database URL, artifact store, actor, audit options)
    ├── trustops.db      the SQLite store (unless a database URL says otherwise)
    ├── artifacts/       the content-addressed artifact store
    └── signing.key      the Ed25519 key that signs audit checkpoints (mode 0600)

Any command run below that directory finds it by walking up from the
current directory (``TRUSTOPS_WORKSPACE`` names one explicitly). A setting
comes from the first of: a command-line flag, a ``TRUSTOPS_*`` environment
variable, ``.trustops/config.toml``, the default:

============================  ==========================  ===============================
setting                       environment variable        config.toml key
============================  ==========================  ===============================
database URL                  ``TRUSTOPS_DATABASE_URL``   ``store.database_url``
artifact store (dir or URL)   ``TRUSTOPS_ARTIFACTS``      ``store.artifacts``
signing key (file or PEM)     ``TRUSTOPS_SIGNING_KEY``    ``audit.signing_key``
actor (who acts)              ``TRUSTOPS_ACTOR``          ``workspace.actor``
checkpoint every N entries    ``TRUSTOPS_CHECKPOINT_EVERY`` ``audit.checkpoint_every``
copy checkpoints to (folder)  ``TRUSTOPS_CHECKPOINT_COPY`` ``audit.checkpoint_copy``
artifact encryption key       ``TRUSTOPS_ENCRYPTION_KEY`` ``store.encryption_key``
default purpose of data use   ``TRUSTOPS_PURPOSE``        ``privacy.purpose``
off-purpose use: refuse/warn  ``TRUSTOPS_PURPOSE_MISMATCH`` ``privacy.purpose_mismatch``
subject-id key (file or text) ``TRUSTOPS_SUBJECT_KEY``    ``privacy.subject_key``
============================  ==========================  ===============================

The signing key never enters the database: it is a PEM file readable only
by its owner (a key file that others can read is refused, as ssh does), or
the PEM text itself in ``TRUSTOPS_SIGNING_KEY``.

Example:
    >>> import tempfile, os
    >>> root = tempfile.mkdtemp()
    >>> ws = init_workspace(root, actor="alice")
    >>> oct(os.stat(ws.path / "signing.key").st_mode & 0o777)
    '0o600'
    >>> find_workspace(os.path.join(root)).path == ws.path
    True
    >>> load_settings(ws, env={}).actor
    'alice'
"""

from __future__ import annotations

import getpass
import os
import stat
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trustops.errors import InputError, UsageError

__all__ = [
    "DIRNAME",
    "Settings",
    "Workspace",
    "WorkspaceError",
    "find_workspace",
    "init_workspace",
    "load_settings",
    "load_signing_key",
]

DIRNAME = ".trustops"


class WorkspaceError(UsageError):
    """No workspace here, or one that cannot be used."""


@dataclass(frozen=True)
class Workspace:
    """A ``.trustops`` folder and the project directory that holds it."""

    path: Path

    @property
    def project(self) -> Path:
        return self.path.parent

    @property
    def config_file(self) -> Path:
        return self.path / "config.toml"

    def config(self) -> dict[str, Any]:
        try:
            with open(self.config_file, "rb") as f:
                return tomllib.load(f)
        except FileNotFoundError:
            return {}
        except tomllib.TOMLDecodeError as exc:
            raise WorkspaceError(f"{self.config_file}: {exc}") from None


@dataclass(frozen=True)
class Settings:
    """Everything needed to open the store, resolved by precedence (see the module docs)."""

    database_url: str
    artifacts: str
    signing_key: str | None  # a file path, or PEM text
    actor: str
    checkpoint_every: int = 100
    checkpoint_copy: str | None = None
    workspace: Workspace | None = None
    encryption_key: str | None = None  # artifacts at rest: a key file, or the key text
    purpose: str | None = None  # the declared purpose of a data use when none is given
    purpose_mismatch: str = "refuse"  # or "warn": a use outside the permitted purposes
    subject_key: str | None = None  # the HMAC key of subject ids: a file path, or the secret


def find_workspace(start: str | os.PathLike[str] | None = None) -> Workspace | None:
    """The nearest ``.trustops`` folder at or above ``start`` (default: the current directory)."""
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DIRNAME
        if (candidate / "config.toml").is_file():
            return Workspace(candidate)
    return None


_CONFIG = """\
# trustops workspace settings. Command-line flags and TRUSTOPS_* environment
# variables override these (flags first). Relative paths are relative to this folder.

[workspace]
actor = {actor}

[store]
# database_url = "postgresql://user@host:5432/trustops"   # default: SQLite in trustops.db
artifacts = "artifacts"
# encryption_key = "artifacts.key"   # AES-256-GCM at rest; start with `trustops privacy rotate-key`

[audit]
signing_key = "signing.key"
checkpoint_every = 100
# checkpoint_copy = "/a/folder/or/git/repository/outside/this/machine's/database"
"""


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_key_file(path: Path) -> Ed25519PrivateKey:
    """Create a new Ed25519 key at ``path`` (PEM, PKCS#8), readable only by its owner."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    return key


def init_workspace(
    directory: str | os.PathLike[str] | None = None, *, actor: str | None = None
) -> Workspace:
    """Create ``.trustops/`` in ``directory`` (default: here) with a config and a signing key.

    Running it again on an existing workspace changes nothing and returns it.
    """
    root = Path(directory if directory is not None else os.getcwd()).resolve()
    if not root.is_dir():
        raise WorkspaceError(f"{root} is not a directory")
    ws = Workspace(root / DIRNAME)
    ws.path.mkdir(exist_ok=True)
    os.chmod(ws.path, 0o700)
    if not ws.config_file.exists():
        who = actor or _default_actor()
        tmp = ws.path / f".config.{uuid.uuid4().hex}.tmp"
        tmp.write_text(_CONFIG.format(actor=_toml_string(who)))
        os.replace(tmp, ws.config_file)
    key_path = ws.path / "signing.key"
    if not key_path.exists() and not os.environ.get("TRUSTOPS_SIGNING_KEY"):
        write_key_file(key_path)
    (ws.path / "artifacts").mkdir(exist_ok=True)
    gitignore = ws.path / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# the store, artifacts and signing key stay out of git\n*\n")
    return ws


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _resolve(ws: Workspace | None, value: str) -> str:
    """A relative path in the config is relative to the workspace folder."""
    if ws is None or "://" in value or os.path.isabs(value):
        return value
    return str(ws.path / value)


def load_settings(
    workspace: Workspace | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from ``overrides`` (flags), then ``env`` (``TRUSTOPS_*``), then config.toml.

    Without a workspace, the database URL must come from a flag or
    ``TRUSTOPS_DATABASE_URL``.
    """
    env = os.environ if env is None else env
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    config = workspace.config() if workspace else {}

    def pick(name: str, var: str, section: str, key: str) -> Any:
        if name in flags:
            return flags[name]
        if env.get(var):
            return env[var]
        table = config.get(section, {})
        if not isinstance(table, dict):
            assert workspace is not None  # a config only comes from a workspace
            raise WorkspaceError(f"{workspace.config_file}: [{section}] must be a table")
        return table.get(key)

    url = pick("database_url", "TRUSTOPS_DATABASE_URL", "store", "database_url")
    if url is None:
        if workspace is None:
            raise WorkspaceError(
                "no trustops workspace here or in any parent directory",
                hint="run `trustops init`, or set TRUSTOPS_DATABASE_URL",
            )
        url = "sqlite:///" + str(workspace.path / "trustops.db")
    artifacts = pick("artifacts", "TRUSTOPS_ARTIFACTS", "store", "artifacts")
    if artifacts is None:
        if workspace is None:
            raise WorkspaceError(
                "no artifact store configured", hint="set TRUSTOPS_ARTIFACTS to a folder"
            )
        artifacts = "artifacts"
    key = pick("signing_key", "TRUSTOPS_SIGNING_KEY", "audit", "signing_key")
    copy = pick("checkpoint_copy", "TRUSTOPS_CHECKPOINT_COPY", "audit", "checkpoint_copy")
    every = pick("checkpoint_every", "TRUSTOPS_CHECKPOINT_EVERY", "audit", "checkpoint_every")
    if every is None:
        every = 100
    else:
        try:
            # a TOML float or boolean is not a whole number (int() would truncate it)
            if isinstance(every, bool) or not isinstance(every, int | str):
                raise ValueError
            every = int(every)
        except ValueError:
            raise UsageError(f"checkpoint_every must be a whole number, not {every!r}") from None
    if every < 1:
        raise UsageError(f"checkpoint_every must be at least 1, not {every}")
    actor = pick("actor", "TRUSTOPS_ACTOR", "workspace", "actor") or _default_actor()
    encryption = pick("encryption_key", "TRUSTOPS_ENCRYPTION_KEY", "store", "encryption_key")
    purpose = pick("purpose", "TRUSTOPS_PURPOSE", "privacy", "purpose")
    mismatch = pick("purpose_mismatch", "TRUSTOPS_PURPOSE_MISMATCH", "privacy", "purpose_mismatch")
    if mismatch is None:
        mismatch = "refuse"
    if mismatch not in ("refuse", "warn"):
        raise UsageError(f"purpose_mismatch must be 'refuse' or 'warn', not {mismatch!r}")
    subject_key = pick("subject_key", "TRUSTOPS_SUBJECT_KEY", "privacy", "subject_key")
    if subject_key is None and workspace is not None and (workspace.path / "subject.key").exists():
        subject_key = "subject.key"
    return Settings(
        database_url=url,
        artifacts=_resolve(workspace, str(artifacts)),
        signing_key=None if key is None else _key_source(workspace, str(key)),
        actor=str(actor),
        checkpoint_every=every,
        checkpoint_copy=None if not copy else _resolve(workspace, str(copy)),
        workspace=workspace,
        encryption_key=None if not encryption else _encryption_key_source(workspace, encryption),
        purpose=None if not purpose else str(purpose),
        purpose_mismatch=str(mismatch),
        subject_key=None if not subject_key else _subject_key_source(workspace, subject_key),
    )


def _subject_key_source(ws: Workspace | None, value: Any) -> str:
    """A file (relative to the workspace) if one is named, else the secret text itself."""
    text = str(value)
    path = _resolve(ws, text)
    return path if os.path.exists(path) or os.sep in text or text.endswith(".key") else text


def _encryption_key_source(ws: Workspace | None, value: Any) -> str:
    """The key text itself (``trustops-key-v1:...``), else a file relative to the workspace."""
    text = str(value)
    return text if text.lstrip().startswith("trustops-key-v1:") else _resolve(ws, text)


def _key_source(ws: Workspace | None, value: str) -> str:
    return value if value.lstrip().startswith("-----BEGIN") else _resolve(ws, value)


def load_signing_key(source: str) -> Ed25519PrivateKey:
    """The Ed25519 key in PEM text or in the file ``source`` (refused if others can read it)."""
    if source.lstrip().startswith("-----BEGIN"):
        data = source.encode()
    else:
        path = Path(source)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise InputError(f"signing key file {path} does not exist") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InputError(
                f"signing key file {path} is readable by others",
                hint=f"chmod 600 {path}",
            )
        data = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InputError("the signing key is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("the signing key is not an Ed25519 key")
    return key
