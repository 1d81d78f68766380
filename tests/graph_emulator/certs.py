"""Throwaway TLS material for the emulator, made with ``cryptography`` at every start.

* a CA (``CA:TRUE``) whose certificate is written to ``ca.pem`` - clients pin it with ``verify=``;
* a leaf certificate for the server with SAN ``IP:127.0.0.1`` and ``DNS:localhost`` (msal and
  requests match the host name against the SAN only, never the CN: urllib3 sets
  ``hostname_checks_common_name = False``, urllib3/urllib3 src/urllib3/util/ssl_.py);
* client certificates for applications registered with a certificate credential (RSA: Entra's assertion is
  PS256, MicrosoftDocs/entra-docs docs/identity-platform/certificate-credentials.md), written as one PEM holding
  the private key and the certificate.
"""

import base64
import datetime
import hashlib
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder):
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=30))


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def make_server_tls(directory):
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` into ``directory``; return their paths."""
    ca_key = _key()
    ca_builder = (x509.CertificateBuilder().subject_name(_name("Graph emulator test CA")).issuer_name(_name("Graph emulator test CA"))
                  .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                  .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                  .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                               data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                               crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                  .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False))
    ca_cert = _validity(ca_builder).sign(ca_key, hashes.SHA256())

    leaf_key = _key()
    leaf_builder = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca_cert.subject)
                    .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
                    .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                                x509.DNSName("localhost")]), critical=False)
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                    .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                    .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False))
    leaf_cert = _validity(leaf_builder).sign(ca_key, hashes.SHA256())
    return (_write(os.path.join(directory, "ca.pem"), _cert_pem(ca_cert)),
            _write(os.path.join(directory, "server.pem"), _cert_pem(leaf_cert)),
            _write(os.path.join(directory, "server.key"), _key_pem(leaf_key)))


def thumbprints(cert_der):
    """``(x5t, x5t#S256)``: base64url SHA-1 and SHA-256 of the DER certificate, unpadded, as in a JWT header."""
    def b64(digest):
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return b64(hashlib.sha1(cert_der).digest()), b64(hashlib.sha256(cert_der).digest())


def make_client_cert(path, common_name):
    """Write a self-signed RSA client certificate and its key as one PEM to ``path``.

    Returns a dict: ``path``, ``cert_pem`` (str), ``key_pem`` (str), ``cert_der`` (bytes),
    ``sha1_hex`` (the thumbprint as the Entra portal and msal's ``thumbprint`` take it).
    """
    key = _key()
    builder = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
               .public_key(key.public_key()).serial_number(x509.random_serial_number()))
    cert = _validity(builder).sign(key, hashes.SHA256())
    key_pem, cert_pem = _key_pem(key), _cert_pem(cert)
    _write(path, key_pem + cert_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    return {"path": path, "cert_pem": cert_pem.decode(), "key_pem": key_pem.decode(), "cert_der": der,
            "sha1_hex": hashlib.sha1(der).hexdigest().upper()}
