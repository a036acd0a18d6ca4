"""``amqps://`` brokers: the server's certificate must be for the host the URL names.

A TLS server on loopback presents a certificate that the client's CA store
(``SSL_CERT_FILE``) trusts but that names another host; connecting to it must
fail on the certificate, before any AMQP is spoken.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from retrograde.errors import ExecutorError
from retrograde.executors.celery import CeleryExecutor


def _certificate(directory: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` (a name or an IP address) and its key, as PEM
    files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([_alt_name(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


@contextlib.contextmanager
def _tls_server(cert: Path, key: Path) -> Iterator[int]:
    """A TLS server on a free loopback port that takes connections, handshakes, and closes."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), client:
                client.settimeout(5)
                context.wrap_socket(client, server_side=True).close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def _connect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str) -> str:
    """The error of an executor whose amqps:// broker (127.0.0.1) shows a certificate for
    ``host`` that the client trusts (``SSL_CERT_FILE``), then closes."""
    cert, key = _certificate(tmp_path, host)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with _tls_server(cert, key) as port, pytest.raises(ExecutorError) as raised:
        CeleryExecutor(
            1, broker=f"amqps://guest:guest@127.0.0.1:{port}//", backend="redis://127.0.0.1:1/0"
        )
    return str(raised.value)


def test_an_amqps_broker_with_a_certificate_for_another_host_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = _connect(tmp_path, monkeypatch, "mq.elsewhere.example")

    assert "broker" in error and "certificate" in error and "127.0.0.1" in error


def test_an_amqps_broker_with_a_certificate_for_its_host_gets_past_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same server with a certificate for its address: the handshake succeeds, and what
    fails is the AMQP it never speaks."""
    error = _connect(tmp_path, monkeypatch, "127.0.0.1")

    assert "broker" in error and "certificate" not in error
