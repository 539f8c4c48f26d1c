"""The ``.trustops`` workspace: finding it, creating it, its settings and its signing key."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trustops.errors import InputError, UsageError
from trustops.governance import Registry
from trustops.governance.workspace import (
    DIRNAME,
    Workspace,
    WorkspaceError,
    find_workspace,
    init_workspace,
    load_settings,
    load_signing_key,
)

_VARS = (
    "TRUSTOPS_WORKSPACE",
    "TRUSTOPS_DATABASE_URL",
    "TRUSTOPS_ARTIFACTS",
    "TRUSTOPS_SIGNING_KEY",
    "TRUSTOPS_ACTOR",
    "TRUSTOPS_CHECKPOINT_EVERY",
    "TRUSTOPS_CHECKPOINT_COPY",
)


@pytest.fixture(autouse=True)
def _no_trustops_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests say exactly which TRUSTOPS_* variables are set."""
    for var in _VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    project = tmp_path / "project"
    project.mkdir()
    return init_workspace(project, actor="alice")


def _write_config(ws: Workspace, text: str) -> None:
    ws.config_file.write_text(text)


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# -- finding and creating -------------------------------------------------------------


def test_find_workspace_walks_up_from_a_nested_directory(ws: Workspace) -> None:
    nested = ws.project / "a" / "b" / "c"
    nested.mkdir(parents=True)
    found = find_workspace(nested)
    assert found == ws
    assert found is not None and found.path == ws.project / DIRNAME
    assert find_workspace(ws.project) == ws
    assert find_workspace(ws.path) == ws  # from inside the folder itself


def test_find_workspace_from_the_current_directory(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = ws.project / "src"
    nested.mkdir()
    monkeypatch.chdir(nested)
    assert find_workspace() == ws


def test_find_workspace_returns_none_outside(tmp_path: Path, ws: Workspace) -> None:
    outside = tmp_path / "elsewhere" / "deep"
    outside.mkdir(parents=True)
    assert find_workspace(outside) is None
    assert find_workspace(tmp_path) is None  # the workspace is below, not above


def test_a_trustops_folder_without_config_is_not_a_workspace(tmp_path: Path) -> None:
    (tmp_path / DIRNAME).mkdir()
    (tmp_path / "sub").mkdir()
    assert find_workspace(tmp_path / "sub") is None


def test_nearest_workspace_wins(ws: Workspace) -> None:
    (ws.project / "inner" / "deeper").mkdir(parents=True)
    inner = init_workspace(ws.project / "inner", actor="bob")
    assert find_workspace(ws.project / "inner" / "deeper") == inner
    assert find_workspace(ws.project / "inner") == inner
    assert inner != ws


def _tree(root: Path) -> dict[str, tuple[int, bytes, int]]:
    return {
        str(p.relative_to(root)): (
            p.stat().st_mode,
            p.read_bytes() if p.is_file() else b"",
            p.stat().st_mtime_ns,
        )
        for p in sorted(root.rglob("*"))
    }


def test_init_creates_the_layout(ws: Workspace) -> None:
    assert ws.config_file.is_file()
    assert (ws.path / "artifacts").is_dir()
    assert (ws.path / ".gitignore").read_text().splitlines()[-1] == "*"
    assert stat.S_IMODE(ws.path.stat().st_mode) == 0o700
    assert load_settings(ws, env={}).actor == "alice"


def test_init_twice_changes_nothing(ws: Workspace) -> None:
    before = _tree(ws.path)
    again = init_workspace(ws.project, actor="bob")
    assert again == ws
    assert _tree(ws.path) == before
    assert load_settings(ws, env={}).actor == "alice"  # not rewritten with the new actor


def test_init_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="not a directory"):
        init_workspace(tmp_path / "missing")


def test_actor_with_quotes_is_written_as_valid_toml(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path, actor='o"neil \\ co')
    assert load_settings(ws, env={}).actor == 'o"neil \\ co'


# -- the signing key ------------------------------------------------------------------


def test_key_file_is_readable_only_by_its_owner(ws: Workspace) -> None:
    key_file = ws.path / "signing.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    settings = load_settings(ws, env={})
    assert settings.signing_key == str(key_file)
    key = load_signing_key(str(key_file))
    assert isinstance(key, Ed25519PrivateKey)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o660, 0o644])
def test_key_file_others_can_use_is_refused_with_a_hint(ws: Workspace, mode: int) -> None:
    key_file = ws.path / "signing.key"
    os.chmod(key_file, mode)
    with pytest.raises(InputError, match="readable by others") as caught:
        load_signing_key(str(key_file))
    assert caught.value.hint == f"chmod 600 {key_file}"


def test_missing_key_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_signing_key(str(tmp_path / "nope.key"))


def test_key_that_is_not_ed25519_pem_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not an unencrypted PEM"):
        load_signing_key("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InputError, match="not an Ed25519 key"):
        load_signing_key(other.decode())


def test_signing_key_as_pem_text_in_the_environment(ws: Workspace) -> None:
    key = Ed25519PrivateKey.generate()
    pem = _pem(key)
    settings = load_settings(ws, env={"TRUSTOPS_SIGNING_KEY": pem})
    assert settings.signing_key == pem  # not taken for a path
    assert _public(load_signing_key(settings.signing_key)) == _public(key)
    on_disk = load_signing_key(str(ws.path / "signing.key"))
    assert _public(on_disk) != _public(key)


def test_registry_signs_with_the_pem_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Ed25519PrivateKey.generate()
    monkeypatch.setenv("TRUSTOPS_SIGNING_KEY", _pem(key))
    ws = init_workspace(tmp_path, actor="alice")
    assert not (ws.path / "signing.key").exists()  # no key file when the key comes from env
    settings = load_settings(ws)
    with Registry.open(settings=settings) as registry:
        registry.create_system("credit")
        note = registry.audit.checkpoint()
        assert registry.audit.key is not None
        assert _public(registry.audit.key) == _public(key)
        assert registry.audit.verify().ok
    assert note.startswith(registry.audit.origin + "\n1\n")


# -- settings precedence --------------------------------------------------------------

_CONFIG = """\
[workspace]
actor = "from-config"

[store]
database_url = "sqlite:///config.db"
artifacts = "config-artifacts"

[audit]
signing_key = "signing.key"
checkpoint_every = 7
"""

_ENV = {
    "TRUSTOPS_DATABASE_URL": "sqlite:///env.db",
    "TRUSTOPS_ACTOR": "from-env",
    "TRUSTOPS_CHECKPOINT_EVERY": "11",
    "TRUSTOPS_ARTIFACTS": "env-artifacts",
}

_FLAGS = {
    "database_url": "sqlite:///flag.db",
    "actor": "from-flag",
    "checkpoint_every": 13,
    "artifacts": "flag-artifacts",
}


def _picked(
    ws: Workspace | None, env: Mapping[str, str], flags: Mapping[str, object]
) -> tuple[Any, ...]:
    s = load_settings(ws, env=env, overrides=flags)
    return s.database_url, s.actor, s.checkpoint_every, s.artifacts


def test_flags_beat_environment_beat_config_beat_default(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_config(ws, _CONFIG)
    assert _picked(ws, _ENV, _FLAGS) == (
        "sqlite:///flag.db",
        "from-flag",
        13,
        str(ws.path / "flag-artifacts"),
    )
    assert _picked(ws, _ENV, {}) == (
        "sqlite:///env.db",
        "from-env",
        11,
        str(ws.path / "env-artifacts"),
    )
    assert _picked(ws, {}, {}) == (
        "sqlite:///config.db",
        "from-config",
        7,
        str(ws.path / "config-artifacts"),
    )
    _write_config(ws, "")
    monkeypatch.setattr("getpass.getuser", lambda: "login-name")
    assert _picked(ws, {}, {}) == (
        "sqlite:///" + str(ws.path / "trustops.db"),
        "login-name",
        100,
        str(ws.path / "artifacts"),
    )


@pytest.mark.parametrize("setting", ["database_url", "actor", "checkpoint_every"])
def test_each_setting_falls_through_on_its_own(ws: Workspace, setting: str) -> None:
    _write_config(ws, _CONFIG)
    index = ["database_url", "actor", "checkpoint_every"].index(setting)
    var = {"database_url": "TRUSTOPS_DATABASE_URL", "actor": "TRUSTOPS_ACTOR"}.get(
        setting, "TRUSTOPS_CHECKPOINT_EVERY"
    )
    # a flag for this setting alone: the others still come from the environment
    flagged = _picked(ws, _ENV, {setting: _FLAGS[setting]})
    expected_env = ("sqlite:///env.db", "from-env", 11)
    assert flagged[:3] == tuple(
        _FLAGS[setting] if i == index else v for i, v in enumerate(expected_env)
    )
    # this variable alone: the others still come from config.toml
    env_only = _picked(ws, {var: _ENV[var]}, {})
    expected_config = ("sqlite:///config.db", "from-config", 7)
    assert env_only[:3] == tuple(
        expected_env[i] if i == index else v for i, v in enumerate(expected_config)
    )


def test_empty_or_none_values_do_not_override(ws: Workspace) -> None:
    _write_config(ws, _CONFIG)
    empty_env = {k: "" for k in _ENV}
    none_flags = {k: None for k in _FLAGS}
    assert _picked(ws, empty_env, none_flags)[:3] == ("sqlite:///config.db", "from-config", 7)


def test_os_environment_is_read_when_env_is_not_given(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTOPS_ACTOR", "from-os-env")
    assert load_settings(ws).actor == "from-os-env"
    assert load_settings(ws, env={}).actor == "alice"


def test_relative_paths_are_relative_to_the_workspace_folder(ws: Workspace) -> None:
    _write_config(ws, _CONFIG + 'checkpoint_copy = "copies"\n')
    s = load_settings(ws, env={})
    assert s.artifacts == str(ws.path / "config-artifacts")
    assert s.signing_key == str(ws.path / "signing.key")
    assert s.checkpoint_copy == str(ws.path / "copies")
    assert s.workspace == ws
    absolute = load_settings(ws, env={"TRUSTOPS_ARTIFACTS": str(ws.project / "abs")})
    assert absolute.artifacts == str(ws.project / "abs")
    remote = load_settings(ws, env={"TRUSTOPS_ARTIFACTS": "memory://bucket/x"})
    assert remote.artifacts == "memory://bucket/x"


def test_without_a_workspace_the_database_url_must_be_given(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no trustops workspace") as caught:
        load_settings(None, env={})
    assert caught.value.hint is not None and "TRUSTOPS_DATABASE_URL" in caught.value.hint
    with pytest.raises(WorkspaceError, match="no artifact store"):
        load_settings(None, env={"TRUSTOPS_DATABASE_URL": "sqlite:///x.db"})
    s = load_settings(
        None,
        env={"TRUSTOPS_DATABASE_URL": "sqlite:///x.db", "TRUSTOPS_ARTIFACTS": str(tmp_path)},
    )
    assert (s.database_url, s.artifacts, s.signing_key) == ("sqlite:///x.db", str(tmp_path), None)


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("env", "ten"),
        ("env", "0"),
        ("env", "-3"),
        ("env", "2.5"),
        ("flag", 0),
        ("flag", "x"),
        ("config", '"ten"'),
        ("config", "0"),
        ("config", "2.5"),
        ("config", "[10]"),
        ("config", "true"),
    ],
)
def test_bad_checkpoint_every_is_a_usage_error(ws: Workspace, source: str, value: object) -> None:
    env: dict[str, str] = {}
    flags: dict[str, object] = {}
    if source == "env":
        env["TRUSTOPS_CHECKPOINT_EVERY"] = str(value)
    elif source == "flag":
        flags["checkpoint_every"] = value
    else:
        _write_config(ws, f"[audit]\ncheckpoint_every = {value}\n")
    with pytest.raises(UsageError, match="checkpoint_every"):
        load_settings(ws, env=env, overrides=flags)


def test_malformed_config_is_a_workspace_error_naming_the_file(ws: Workspace) -> None:
    _write_config(ws, "[store\ndatabase_url = \n")
    with pytest.raises(WorkspaceError) as caught:
        load_settings(ws, env={})
    assert str(ws.config_file) in str(caught.value)
    # found all the same (a broken config is reported, not skipped over)
    assert find_workspace(ws.project) == ws


@pytest.mark.parametrize("text", ['store = "sqlite:///x.db"\n', "audit = 3\n", "workspace = [1]\n"])
def test_config_section_that_is_not_a_table_is_a_workspace_error(ws: Workspace, text: str) -> None:
    _write_config(ws, text)
    with pytest.raises(WorkspaceError) as caught:
        load_settings(ws, env={})
    assert str(ws.config_file) in str(caught.value)
