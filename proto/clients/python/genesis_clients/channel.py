"""Channels to Genesis services and the metadata of a call."""

from __future__ import annotations

import uuid
from typing import Optional, Sequence, Tuple

import grpc


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def secure_channel(
    address: str,
    *,
    ca_file: str,
    cert_file: Optional[str] = None,
    key_file: Optional[str] = None,
    options: Sequence[Tuple[str, object]] = (),
) -> grpc.Channel:
    """A TLS channel to ``address`` (``host:port``).

    ``ca_file`` is the CA that signed the server's certificate. Genesis services run with
    mutual TLS (scripts/run.sh's default): give the client certificate and key the mesh's
    CA signed for you (``cert_file``, ``key_file``, PEM). The server's certificate must name
    the host of ``address`` (the dev certificates name localhost and 127.0.0.1).
    """
    if (cert_file is None) != (key_file is None):
        raise ValueError("cert_file and key_file go together")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(ca_file),
        private_key=_read(key_file) if key_file else None,
        certificate_chain=_read(cert_file) if cert_file else None,
    )
    return grpc.secure_channel(address, credentials, options=list(options))


def insecure_channel(address: str, *, options: Sequence[Tuple[str, object]] = ()) -> grpc.Channel:
    """A plaintext channel, for services started without TLS (GENESIS_MTLS=0)."""
    return grpc.insecure_channel(address, options=list(options))


def call_metadata(request_id: Optional[str] = None) -> Tuple[Tuple[str, str], ...]:
    """Metadata for one call: ``x-request-id`` (a new UUID when not given).

    The server logs every line of the call's work with this id and sends it back in the
    initial metadata, so a caller can quote it when reporting a problem. Ids the server
    cannot log safely (more than 128 characters, or outside ``[A-Za-z0-9-_.:]``) are
    replaced by a new one.
    """
    return (("x-request-id", request_id or str(uuid.uuid4())),)
