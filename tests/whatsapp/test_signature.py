"""X-Hub-Signature-256 checks on raw bytes, against a real captured body and its real signature."""

from __future__ import annotations

from fakes.whatsapp_corpus import CONFORMANCE

from chasqui.whatsapp.signature import sign, verify

# From pywa's test_server.py (the secret "is already reset"); the file is the exact signed body.
SIGNED_BODY = CONFORMANCE / "message__text_signed_raw.json"
SECRET = "1222e786b144d0e85b9f365372d93676"
HEADER = "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"


def _raw() -> bytes:
    return SIGNED_BODY.read_bytes()


def test_real_captured_signature_verifies() -> None:
    assert verify(_raw(), HEADER, SECRET)
    assert sign(_raw(), SECRET) == HEADER


def test_a_changed_byte_or_reserialised_body_fails() -> None:
    raw = _raw()
    assert not verify(raw + b"\n", HEADER, SECRET)
    assert not verify(raw.replace(b"PyWa Tests", b"PyWa Testz", 1), HEADER, SECRET)
    assert not verify(raw.replace(b",", b", "), HEADER, SECRET)  # same JSON, other bytes


def test_wrong_secret_missing_or_malformed_header_fail() -> None:
    raw = _raw()
    assert not verify(raw, HEADER, "another-secret")
    assert not verify(raw, None, SECRET)
    assert not verify(raw, "", SECRET)
    assert not verify(raw, HEADER.removeprefix("sha256="), SECRET)  # no prefix
    assert not verify(raw, "sha1=" + HEADER.removeprefix("sha256="), SECRET)
    assert not verify(raw, "sha256=zz", SECRET)
    assert not verify(raw, HEADER, "")  # a tenant without an app secret accepts nothing


def test_known_vector() -> None:
    # HMAC-SHA256(key="demo-app-secret", msg="{}"), computed independently with `openssl dgst -hmac`.
    expected = "sha256=93bdd66445147c89ef53692187f5d8ab7fab69779f6b7fdf4ddac490a0997ccf"
    assert sign(b"{}", "demo-app-secret") == expected
    assert verify(b"{}", expected, "demo-app-secret")
    assert verify(b"{}", "SHA256=" + expected[7:].upper(), "demo-app-secret")  # case-insensitive hex
