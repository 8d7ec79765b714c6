"""Credentials from the real dmux-ca (tools/ca), in a temporary directory."""
import os
import shutil
import subprocess
import tempfile

from . import crypto


class TestCa:
    def __init__(self, build_dir, prefix="dmux-ca-test-"):
        self.tool = os.path.join(build_dir, "tools", "ca", "dmux-ca")
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.ca = os.path.join(self.dir, "ca")
        self.run("init", "--dir", self.ca)

    def run(self, *args):
        return subprocess.run([self.tool, *args], check=True, capture_output=True, text=True).stdout

    @property
    def ca_cert(self):
        return os.path.join(self.ca, "ca.crt")

    def gateway(self, name, gateway_id):
        """(cert path, key path) of a gateway certificate for `gateway_id` (dotted quad)."""
        out = os.path.join(self.dir, name)
        self.run("issue-gateway", "--dir", self.ca, "--gateway-id", gateway_id, "--out", out)
        return out + ".crt", out + ".key"

    def provider(self, name, provider_id=7, protocols="ipv6"):
        """A provider's credentials: .crt/.key paths, the certificate's DER and its Ed25519 key."""
        out = os.path.join(self.dir, name)
        self.run("issue-provider", "--dir", self.ca, "--provider-id", str(provider_id),
                 "--protocols", protocols, "--out", out)
        return Provider(out + ".crt", out + ".key")

    def revoke(self, cert_path):
        self.run("revoke", "--dir", self.ca, cert_path)
        out = os.path.join(self.dir, "crl.pem")
        self.run("crl", "--dir", self.ca, "--out", out)
        return out

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Provider:
    def __init__(self, cert, key):
        self.cert = cert
        self.key_path = key
        self.der = crypto.pem_certificate_der(cert)
        self.key = crypto.load_ed25519_private(key)
