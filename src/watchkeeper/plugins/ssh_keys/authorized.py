"""`SSH keys USER`, from `<<<ssh_authorized_keys:sep(9)>>>`: the public keys that may log in as
each user, from the files sshd's `AuthorizedKeysFile` names (the agent asks `sshd -T`).

    root	/root/.ssh/authorized_keys	ssh-ed25519	SHA256:AbC…	admin@laptop	-
    backup	/home/backup/.ssh/authorized_keys	ssh-rsa	SHA256:XyZ…	bacula	options
    deploy	/home/deploy/.ssh/authorized_keys	unreadable	-	-	-
    alice	/home/alice/.ssh/authorized_keys	noaccess	-	-	-

The agent sends the type, SHA256 fingerprint and comment of each key (and whether the line has
options such as `command=` or `from=`), never a key itself. The fingerprints seen at discovery
are the accepted ones: a key added or removed since is WARN and named, until discovery is run
again to accept the change. A line that is no key is WARN, since sshd may read it differently;
a file the agent may not read (it does not run as root) is WARN too: its keys are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
)


@dataclass(frozen=True, slots=True)
class AuthorizedKey:
    path: str
    type: str
    fingerprint: str
    comment: str
    options: bool


@dataclass(slots=True)
class UserKeys:
    keys: list[AuthorizedKey] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    """Files with a line that is no key."""
    no_access: list[str] = field(default_factory=list)
    """Files the agent could not read."""


AuthorizedKeys = dict[str, UserKeys]


@dataclass(frozen=True, slots=True)
class SshKeyParams:
    fingerprints: str = ""
    """The fingerprints accepted at discovery, space-separated (a fact, set by discovery)."""
    change_state: int = int(State.WARN)
    """State while keys differ from those accepted (0-3)."""


def parse_ssh_authorized_keys(table: StringTable) -> AuthorizedKeys:
    found: AuthorizedKeys = {}
    for row in table:
        if len(row) < 4 or not row[0]:
            continue
        user = found.setdefault(row[0], UserKeys())
        if row[2] == "unreadable":
            user.unreadable.append(row[1])
        elif row[2] == "noaccess":
            user.no_access.append(row[1])
        elif row[3].startswith("SHA256:"):
            user.keys.append(AuthorizedKey(row[1], row[2], row[3], row[4] if len(row) > 4 else "",
                                           len(row) > 5 and row[5] == "options"))
    return found


def discover_ssh_keys(section: AuthorizedKeys) -> DiscoveryResult:
    for user, keys in sorted(section.items()):
        yield Service(user, {"fingerprints": " ".join(sorted({key.fingerprint for key in keys.keys}))})


def check_ssh_keys(item: str, params: SshKeyParams, section: AuthorizedKeys, store: ValueStore,
                   now: float) -> CheckResult:
    user = section.get(item, UserKeys())
    accepted = set(params.fingerprints.split())
    present = {key.fingerprint: key for key in user.keys}
    added = [present[fingerprint] for fingerprint in sorted(set(present) - accepted)]
    removed = sorted(accepted - set(present))
    if added:
        yield Result(State(params.change_state), f"{len(added)} keys added since discovery: "
                     + ", ".join(_describe(key) for key in added),
                     details="Run service discovery for this host to accept them.")
    if removed:
        yield Result(State(params.change_state), f"{len(removed)} keys removed since discovery: " + ", ".join(removed),
                     details="Run service discovery for this host to accept the removal.")
    for path in sorted(set(user.no_access)):
        yield Result(State.WARN, f"cannot read {path}: its keys are not checked (is the agent running as root?)")
    for path in sorted(set(user.unreadable)):
        yield Result(State.WARN, f"{path} has a line that is no public key; sshd may read it differently")
    if not added and not removed:
        described = ", ".join(_describe(key) for key in user.keys)
        yield Result(State.OK, f"{len(user.keys)} keys as accepted" + (f": {described}" if described else ""))


def _describe(key: AuthorizedKey) -> str:
    comment = f" {key.comment!r}" if key.comment else ""
    restricted = ", with options" if key.options else ""
    return f"{key.type}{comment} ({key.fingerprint}{restricted})"


ssh_authorized_keys_section = AgentSection("ssh_authorized_keys", parse_ssh_authorized_keys)

ssh_keys = CheckPlugin(
    name="ssh_keys",
    section="ssh_authorized_keys",
    title="SSH keys %s",
    discover=discover_ssh_keys,
    check=check_ssh_keys,
    default_params=SshKeyParams(),
)
