"""A real OpenLDAP server (Debian's slapd binary) for the LDAP sign-on tests: a temporary configuration and MDB
database, listening on a free loopback port, never the system's service. Its entries are written and changed with
python-ldap as the directory's administrator, as a directory's own tools would.
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import ldap
import ldap.modlist

SUFFIX = "dc=rightsguard,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "directory-admin-password"  # a throwaway directory's, for the tests only
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")


def slapd_binary() -> str | None:
    found = shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else None)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Slapd:
    def __init__(self, root: Path, binary: str) -> None:
        self.root = root
        self.binary = binary
        self.port = _free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Slapd":
        data = self.root / "data"
        data.mkdir(parents=True)
        config = self.root / "slapd.conf"
        config.write_text(
            "\n".join(
                [
                    *(f"include {SCHEMAS / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")),
                    f"modulepath {MODULES}",
                    "moduleload back_mdb",
                    f"pidfile {self.root / 'slapd.pid'}",
                    f"argsfile {self.root / 'slapd.args'}",
                    "database mdb",
                    "maxsize 16777216",
                    f'suffix "{SUFFIX}"',
                    f'rootdn "{ROOT_DN}"',
                    f"rootpw {ROOT_PASSWORD}",
                    f"directory {data}",
                    # Passwords: checked by a bind, read by nobody; the rest readable by a bound reader.
                    "access to attrs=userPassword by anonymous auth by * none",
                    "access to * by users read by anonymous auth",
                    "",
                ]
            )
        )
        # -d 0: stays in the foreground (the test owns the process), logging nothing.
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [self.binary, "-f", str(config), "-h", f"{self.uri}/", "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.admin().unbind_s()
                break
            except ldap.SERVER_DOWN:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    error = self.process.stderr.read().decode() if self.process.stderr else ""
                    self.stop()
                    raise RuntimeError(f"slapd did not start: {error}") from None
                time.sleep(0.1)
        self._seed()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def admin(self) -> "ldap.ldapobject.LDAPObject":
        connection = ldap.initialize(self.uri)
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, 5)
        connection.simple_bind_s(ROOT_DN, ROOT_PASSWORD)
        return connection

    def _seed(self) -> None:
        self.add(SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": ["rightsguard"], "o": ["RightsGuard"]})
        self.add(PEOPLE, {"objectClass": ["organizationalUnit"], "ou": ["people"]})
        self.add(GROUPS, {"objectClass": ["organizationalUnit"], "ou": ["groups"]})
        self.add(
            f"cn=reader,{SUFFIX}",
            {
                "objectClass": ["organizationalRole", "simpleSecurityObject"],
                "cn": ["reader"],
                "userPassword": ["reader-password"],
            },
        )

    # --- what the tests change ------------------------------------------------------------------------------

    def add(self, dn: str, attrs: dict[str, list[str]]) -> None:
        connection = self.admin()
        try:
            connection.add_s(dn, ldap.modlist.addModlist({k: [v.encode() for v in vs] for k, vs in attrs.items()}))
        finally:
            connection.unbind_s()

    def delete(self, dn: str) -> None:
        connection = self.admin()
        try:
            connection.delete_s(dn)
        finally:
            connection.unbind_s()

    def replace(self, dn: str, attribute: str, values: list[str]) -> None:
        connection = self.admin()
        try:
            connection.modify_s(dn, [(ldap.MOD_REPLACE, attribute, [v.encode() for v in values])])
        finally:
            connection.unbind_s()

    def add_person(self, uid: str, *, police_number: str, password: str, name: str = "", mail: str = "") -> str:
        dn = f"uid={uid},{PEOPLE}"
        attrs = {
            "objectClass": ["inetOrgPerson"],
            "uid": [uid],
            "cn": [name or uid],
            "sn": [uid],
            "employeeNumber": [police_number],
            "userPassword": [password],
        }
        if mail:
            attrs["mail"] = [mail]
        self.add(dn, attrs)
        return dn

    def add_group(self, cn: str, members: list[str]) -> str:
        dn = f"cn={cn},{GROUPS}"
        self.add(dn, {"objectClass": ["groupOfNames"], "cn": [cn], "member": members or [f"cn=reader,{SUFFIX}"]})
        return dn
