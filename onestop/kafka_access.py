"""What each service's Kafka principal may do, derived from the services' own wiring (ADR 0014).

A service writes only the topics it owns (what `rt.producing` declared) and its dead-letter topic, reads the
topics it consumes, and uses the consumer groups named after it (`onestop-<service>`, and the suffixed groups of
test stacks). The operator's principal (the `onestop dlq` tools) reads the dead letters and re-drives them.
The same grants feed the Strimzi `KafkaUser`s (deploy/k8s/generate.py) and the local broker's
SASL listener (deploy/local/kafka/kafka.sh runs `python -m onestop.kafka_access`, which creates the ACLs
through the Admin API: CreateAcls is idempotent, so it runs at every start).

    python -m onestop.kafka_access --bootstrap localhost:9092 [--print]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import CreateAclsRequest
from faststream.security import BaseSecurity

from libs.contracts import topics
from libs.messaging.security import client_options, kafka_security
from libs.observability.lag import consumer_groups
from libs.settings import CommonSettings
from onestop.registry import NAMES
from onestop.registry import service as registered

Operation = Literal["Read", "Write", "Create", "Describe"]
# Kafka protocol codes (org.apache.kafka.common.acl / resource): CreateAcls takes numbers.
_RESOURCE = {"topic": 2, "group": 3}
_PATTERN = {"literal": 3, "prefixed": 4}
_OPERATION = {"Read": 3, "Write": 4, "Create": 5, "Describe": 8}
_ALLOW = 3


@dataclass(frozen=True)
class Grant:
    """Operations allowed on one resource (a topic or a consumer group, by exact name or by prefix)."""

    resource: Literal["topic", "group"]
    name: str
    pattern: Literal["literal", "prefixed"]
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Access:
    service: str
    writes: tuple[str, ...]  # its own topic(s) and its dead letters
    reads: tuple[str, ...]  # what it consumes
    group_prefix: str | None  # None: reads without a consumer group (assigned partitions)
    creates: bool = True  # a service creates the topics it owns when missing (libs.messaging.ensure_topics)

    @property
    def principal(self) -> str:
        return f"User:{self.service}"

    def grants(self) -> list[Grant]:
        write: tuple[Operation, ...] = ("Write", "Describe", "Create") if self.creates else ("Write", "Describe")
        return [
            *(Grant("topic", t, "literal", write) for t in self.writes),
            *(Grant("topic", t, "literal", ("Read", "Describe")) for t in self.reads),
            *([Grant("group", self.group_prefix, "prefixed", ("Read", "Describe"))] if self.group_prefix else []),
        ]


@cache
def access(service: str) -> Access:
    """From the wiring the process runs (no I/O): the broker's publishers and subscribers."""
    rt = registered(service).app.build()
    owned = [getattr(p, "topic", "") for p in rt.broker.publishers]
    groups = consumer_groups(rt.broker)
    writes = [*owned, *([rt.dlq_topic] if groups else [])]
    reads = [t for g in groups for t in g.topics]
    return Access(service, tuple(dict.fromkeys(t for t in writes if t)), tuple(dict.fromkeys(reads)),
                  group_prefix=f"onestop-{service}")


def all_access() -> list[Access]:
    return [access(name) for name in NAMES]


def operator_access() -> Access:
    """`onestop dlq list|redrive`: reads every dead-letter topic (no group) and re-drives a letter to its source,
    so it may write every service's own topic. Its credentials stay with the operators, not in any pod."""
    services = all_access()
    owned = [t for a in services for t in a.writes if not t.startswith(topics.dlq(""))]
    dead = [t for a in services for t in a.writes if t.startswith(topics.dlq(""))]
    return Access("operator", tuple(owned), tuple(dead), group_prefix=None, creates=False)


async def apply_acls(bootstrap: str, accesses: Iterable[Access], security: BaseSecurity | None = None) -> int:
    """Create every grant's ACLs (allow, any host) with a super user's connection; returns how many."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="onestop-acls", **client_options(security))
    await admin.start()
    count = 0
    try:
        for acc in accesses:
            for grant in acc.grants():
                for op in grant.operations:
                    request = CreateAclsRequest(_RESOURCE[grant.resource], grant.name, _PATTERN[grant.pattern],
                                                acc.principal, "*", _OPERATION[op], _ALLOW)
                    response = await admin._send_request(request)  # aiokafka has no public ACL call
                    errors = [(code, msg) for code, msg in response.creation_responses if code]
                    if errors:
                        raise RuntimeError(f"CreateAcls {acc.principal} {op} {grant.resource} {grant.name}: {errors}")
                    count += 1
    finally:
        await admin.close()
    return count


def describe(accesses: Iterable[Access]) -> str:
    return "\n".join(
        f"{acc.principal:22} {g.resource} {g.name}{'*' if g.pattern == 'prefixed' else ''}: {', '.join(g.operations)}"
        for acc in accesses for g in acc.grants()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onestop.kafka_access", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default=os.environ.get("ONESTOP_KAFKA_BOOTSTRAP", "localhost:9092"),
                        help="Kafka bootstrap servers; the connection (ONESTOP_KAFKA_SECURITY_PROTOCOL, …) "
                             "must be a super user's, e.g. the admin principal")
    parser.add_argument("--print", action="store_true", help="only print the grants")
    args = parser.parse_args(argv)
    accesses = [*all_access(), operator_access()]
    if args.print:
        print(describe(accesses))
        return 0
    n = asyncio.run(apply_acls(args.bootstrap, accesses, kafka_security(CommonSettings())))
    print(f"kafka_access: {n} ACLs in place for {', '.join(a.principal for a in accesses)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
