"""With LNOB_LANDING_KEY the landing zone stores each new file encrypted (authenticated), still write-once
and named by the hash of the submitted bytes; files landed before the key stay as they are and are listed;
a person's read of a raw file is recorded in the audit table."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import replace

import pytest

from store.registry import Registry
from store.settings import Settings, landing_key, load_settings
from store.zones import (
    LandingKeyError,
    land,
    landing_protection,
    read_landed,
    read_landed_for_person,
    unencrypted_landed,
)

DATA = "Mã hộ,Họ và tên chủ hộ,Số CCCD\nHH00001,Nguyễn Văn Ánh,002140117001\n".encode()


@pytest.fixture
def plain(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'home' / 'registry.db'}",
                    max_upload_bytes=1 << 20)


@pytest.fixture
def keyed(plain) -> Settings:
    return replace(plain, landing_key=secrets.token_bytes(32))


def test_with_a_key_the_landed_file_cannot_be_read_without_it(keyed):
    landed = land(keyed, DATA)
    stored = landed.path.read_bytes()
    assert landed.content_hash == hashlib.sha256(DATA).hexdigest()
    assert b"Nguy" not in stored and b"002140117001" not in stored and DATA not in stored
    assert read_landed(keyed, landed.content_hash) == DATA
    with pytest.raises(LandingKeyError):
        read_landed(replace(keyed, landing_key=None), landed.content_hash)
    with pytest.raises(LandingKeyError):
        read_landed(replace(keyed, landing_key=secrets.token_bytes(32)), landed.content_hash)


def test_encrypted_landing_stays_write_once_and_idempotent(keyed):
    first = land(keyed, DATA)
    stored = first.path.read_bytes()
    again = land(keyed, DATA)
    assert again.already_present and again.path == first.path and first.path.read_bytes() == stored
    assert [p for p in keyed.landing.rglob("*") if p.is_file()] == [first.path]


def test_files_landed_before_the_key_stay_as_they_are_and_are_listed(plain, keyed):
    old = land(plain, DATA)
    new = land(keyed, DATA + "HH00002,Trần Thị Bích,002152290002\n".encode())
    assert old.path.read_bytes() == DATA
    assert land(keyed, DATA).already_present and old.path.read_bytes() == DATA, "never rewritten"
    assert unencrypted_landed(keyed) == [old.path]
    assert read_landed(keyed, old.content_hash) == DATA and new.path not in unencrypted_landed(keyed)


def test_a_persons_read_is_audited(keyed):
    landed = land(keyed, DATA)
    registry = Registry(keyed.database_url)
    data = read_landed_for_person(keyed, registry, landed.content_hash, reader="operator:lan",
                                  purpose="appeal 2024-17", unit_code="00688")
    assert data == DATA
    [entry] = [e for e in registry.audit_entries() if e.action == "landing.read"]
    assert (entry.target, entry.result, entry.unit_code) == (landed.content_hash, "read", "00688")
    assert "operator:lan" in entry.detail and "appeal 2024-17" in entry.detail
    read_landed(keyed, landed.content_hash)         # lnob's own reading: not one audit line per read
    assert len([e for e in registry.audit_entries() if e.action == "landing.read"]) == 1


def test_the_key_comes_from_the_environment_and_the_startup_line_says_whether_it_is_set(monkeypatch, tmp_path):
    key = secrets.token_bytes(32)
    monkeypatch.setenv("LNOB_LANDING_KEY", base64.b64encode(key).decode())
    assert load_settings(tmp_path).landing_key == key
    assert landing_key(key.hex()) == key
    with pytest.raises(ValueError, match="LNOB_LANDING_KEY"):
        landing_key("too short")
    monkeypatch.delenv("LNOB_LANDING_KEY")
    unkeyed = load_settings(tmp_path)
    assert unkeyed.landing_key is None
    assert "NOT encrypted" in landing_protection(unkeyed) and "CHƯA mã hoá" in landing_protection(unkeyed)
    assert "encrypted" in landing_protection(replace(unkeyed, landing_key=key))
