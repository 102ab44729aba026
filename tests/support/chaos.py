"""Chaos under load, shared by tests/chaos/ and bench/chaos.py: the infrastructure's kill switches, a stack on
its own databases with a real SMTP server and SMS gateway, a steady load of dossiers moving through their
lifecycle, and the end-state checks (nothing lost, nothing doubled, no consumer stuck, dead letters only for
the poison the scenario injected).

The broker and PostgreSQL killed are the ones the tests use: ONESTOP_KAFKA_BOOTSTRAP and ONESTOP_TEST_PG, with
the state directories the scripts keep them in (ONESTOP_TEST_KAFKA_RUN_DIR, default .run/test, as `make test`
starts it; ONESTOP_TEST_PG_RUN_DIR, default .run)."""

from __future__ import annotations

import asyncio
import os
import random
import re
import secrets
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as daytime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from libs.auth import issue_token
from libs.calendar import load_calendar
from libs.clock import ControlledClock
from libs.contracts import topics
from libs.settings import CommonSettings
from services.notifications.domain import message_id
from tests.support.kafka import publish_raw
from tests.support.sms_gateway import SmsGatewayServer
from tests.support.smtp_server import SmtpTestServer
from tests.support.stack import CONSUMES, ROOT, SERVICES, Stack, instance_key

KAFKA_SH = ROOT / "deploy" / "local" / "kafka" / "kafka.sh"
PG_SH = ROOT / "deploy" / "local" / "postgres" / "pg.sh"
WARD = "000.00.12.H55"
PROCEDURE = "1.001193"  # birth registration: received and resolved by the ward, same day
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STOPPED, RESULT_AVAILABLE, CLOSED = 8, 9, 10
POISON_HEADER = "chaos_poison"
DELIVERY = {  # notices go out at once and a notice a kill left in `sending` is retried within seconds
    "ONESTOP_NOTIFICATIONS_EMAIL_PROVIDER": "smtp",
    "ONESTOP_NOTIFICATIONS_SMS_PROVIDER": "http",
    "ONESTOP_NOTIFICATIONS_POLL_SECONDS": "0.2",
    "ONESTOP_NOTIFICATIONS_SENDING_TIMEOUT_SECONDS": "3",
    "ONESTOP_NOTIFICATIONS_RETRY_INITIAL_SECONDS": "0.5",
    "ONESTOP_NOTIFICATIONS_RETRY_MAX_SECONDS": "2",
}


def officer(sub: str = "chaos-desk") -> dict[str, str]:
    """A ward officer with every role the ward's same-day steps need (the one who signs must be another than
    the one who verified: `sub` tells them apart)."""
    roles = ["desk_officer", "specialist", "department_head", "report_viewer"]
    return {"Authorization": f"Bearer {issue_token(sub, roles, WARD, CommonSettings().jwt_secret)}"}


# --- the infrastructure -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Infra:
    """The broker and the PostgreSQL cluster the tests use, killed and started through their scripts."""

    kafka: str
    kafka_run_dir: Path
    kafka_controller_port: int
    kafka_sasl_port: str  # "" when the broker has no SASL listener
    pg_admin: str
    pg_run_dir: Path

    @classmethod
    def from_env(cls) -> Infra:
        kafka = os.environ.get("ONESTOP_KAFKA_BOOTSTRAP", "localhost:9092")
        port = int(kafka.rsplit(":", 1)[1])
        run_dir = Path(os.environ.get("ONESTOP_TEST_KAFKA_RUN_DIR", str(ROOT / ".run" / "test")))
        return cls(
            kafka=kafka,
            kafka_run_dir=run_dir,
            kafka_controller_port=int(os.environ.get("ONESTOP_TEST_KAFKA_CONTROLLER_PORT", str(port + 1))),
            kafka_sasl_port=os.environ.get("ONESTOP_TEST_KAFKA_SASL_PORT", sasl_port_of(run_dir)),
            pg_admin=os.environ.get("ONESTOP_TEST_PG", "postgresql://onestop:onestop@127.0.0.1:5432/postgres"),
            pg_run_dir=Path(os.environ.get("ONESTOP_TEST_PG_RUN_DIR", str(ROOT / ".run"))),
        )

    def _run(self, script: Path, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), command], env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=180, check=False)

    def kafka_sh(self, command: str) -> subprocess.CompletedProcess[str]:
        """kafka.sh with the ports the broker was started with (`make test`: a SASL listener too, which a
        restart without KAFKA_SASL_PORT would leave out for the rest of the run)."""
        port = self.kafka.rsplit(":", 1)[1]
        return self._run(KAFKA_SH, command, {"KAFKA_PORT": port, "ONESTOP_RUN_DIR": str(self.kafka_run_dir),
                                             "KAFKA_CONTROLLER_PORT": str(self.kafka_controller_port),
                                             "KAFKA_SASL_PORT": self.kafka_sasl_port})

    def pg_sh(self, command: str) -> subprocess.CompletedProcess[str]:
        port = str(urlsplit(self.pg_admin).port or 5432)
        return self._run(PG_SH, command, {"PGPORT": port, "ONESTOP_RUN_DIR": str(self.pg_run_dir)})

    def check_controllable(self) -> None:
        """Both must be the scripts' own processes: a kill that finds nothing would make a test of nothing."""
        for name, result in (("kafka", self.kafka_sh("status")), ("postgres", self.pg_sh("status"))):
            if result.returncode != 0:
                raise RuntimeError(f"{name} is not running under its script's state dir (set ONESTOP_TEST_"
                                   f"KAFKA_RUN_DIR / ONESTOP_TEST_PG_RUN_DIR): {result.stdout}{result.stderr}")

    def must(self, result: subprocess.CompletedProcess[str]) -> None:
        if result.returncode != 0:
            raise RuntimeError(f"{result.args} failed: {result.stdout}{result.stderr}")

    def restore(self) -> None:
        """Both up again (idempotent): whatever happened, the rest of the test run needs them."""
        self.must(self.kafka_sh("start"))
        self.must(self.pg_sh("start"))


def sasl_port_of(run_dir: Path) -> str:
    """The SASL listener's port in the broker's rendered configuration under `run_dir`, "" without one."""
    conf = run_dir / "kafka" / "server.properties"
    text = conf.read_text(encoding="utf-8") if conf.exists() else ""
    found = re.search(r"^listeners=.*SASL://[^:,]+:(\d+)", text, re.M)
    return found.group(1) if found else ""


class Databases:
    """Throw-away databases on its own admin connections: the suite's `new_database` keeps one connection for the
    whole session, which a PostgreSQL kill would break for every later test.

    Each commits durably (synchronous_commit on, as in production): the local cluster trades durability for
    speed (deploy/local/postgres/pg.sh: synchronous_commit off), and a SIGKILLed postmaster then loses the WAL
    of the last few hundred milliseconds of commits — after the consumers had committed those events' offsets
    to Kafka, so the events would be lost for good. Offsets after the database commit (ADR 0004) holds only
    for a commit that survives a crash."""

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.run = uuid.uuid4().hex[:8]
        self.created: list[str] = []

    async def create(self, label: str) -> str:
        name = f"onestop_x{self.run}_{label}"
        conn = await asyncpg.connect(self.admin)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
        finally:
            await conn.close()
        self.created.append(name)
        return self.admin.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"

    async def drop_all(self) -> None:
        conn = await asyncpg.connect(self.admin)
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


class CountingGateway(SmsGatewayServer):
    """The SMS gateway, counting every request per idempotency key (a repeat is stored once but counted here)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_key: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def handle_sms(self, payload: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        with self._count_lock:
            self.by_key[headers.get("idempotency-key", "")] += 1
        return super().handle_sms(payload, headers)


@dataclass
class ChaosStack(Stack):
    """A stack on ports of its own (base + 1 … + 4, second instances 10 above) and the channels it delivers to."""

    base_port: int = 18400
    smtp: SmtpTestServer | None = None
    gateway: CountingGateway | None = None
    keep_databases: bool = False  # set when the checks found something: the databases are the evidence

    def port(self, service: str) -> int:  # type: ignore[override]
        return self.base_port + 1 + SERVICES.index(service)

    def channel_env(self) -> dict[str, str]:
        assert self.smtp is not None and self.gateway is not None
        return {**DELIVERY, "ONESTOP_NOTIFICATIONS_SMTP_HOST": self.smtp.host,
                "ONESTOP_NOTIFICATIONS_SMTP_PORT": str(self.smtp.port),
                "ONESTOP_NOTIFICATIONS_SMS_URL": self.gateway.url}


def working_morning() -> datetime:
    """08:00 (Vietnam) of the next working day: every dossier of the run is received that day."""
    cal = load_calendar()
    day = datetime.now(TZ).date() + timedelta(days=1)
    while not cal.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, daytime(8, 0), TZ)


@asynccontextmanager
async def chaos_stack(infra: Infra, base_port: int, instances: int = 1, extra: dict[str, str] | None = None,
                      kills_infra: bool = True) -> AsyncIterator[ChaosStack]:
    """`instances` processes of each service on fresh databases, the clock at a working morning, consumer groups
    starting at the end of the shared topics, notifications sending to a real SMTP server and SMS gateway.
    With `kills_infra`, the broker and PostgreSQL are started again at the end, whatever happened."""
    dbs = Databases(infra.pg_admin)
    urls = {s: await dbs.create(f"chaos_{s}") for s in SERVICES}
    run_dir = Path(tempfile.mkdtemp(prefix="onestop-chaos-"))
    ControlledClock(CommonSettings(run_dir=run_dir).clock_file).set(working_morning())
    gateway = CountingGateway()
    with SmtpTestServer() as smtp, gateway:
        stack = ChaosStack(run_dir=run_dir, kafka=infra.kafka, db_urls=urls, base_port=base_port, smtp=smtp,
                           gateway=gateway, extra_env={**stack_env(), **(extra or {})})
        stack.extra_env.update(stack.channel_env())
        try:
            await stack.start_all()
            for n in range(2, instances + 1):
                for service in SERVICES:
                    stack.start(service, instance=n)
                for service in SERVICES:
                    await stack.wait_ready(service, instance=n)
            yield stack
        finally:
            stack.stop_all()
            if kills_infra:
                infra.restore()
            if stack.keep_databases:
                print(f"chaos: databases kept for inspection: {dbs.created}, logs in {run_dir / 'logs'}")
            else:
                await dbs.drop_all()


def stack_env() -> dict[str, str]:
    """Quieter logs (an INFO line per applied event is most of the CPU a small machine has to spare); a consumer
    that a broker kill left outside its group is restarted after 30 s of waiting records, not the 90 s default
    (libs/messaging/watchdog.py)."""
    return {"ONESTOP_LOG_LEVEL": "WARNING", "ONESTOP_CONSUMER_STALL_SECONDS": "30"}


# --- the load -------------------------------------------------------------------------------------------------
@dataclass
class Dossier:
    id: str
    code: str
    path: str  # "receive" (left open), "stop" or "approve"


@dataclass
class Load:
    """Dossiers posted at `rate` per second, alternating between the intakes (as if behind one address), each
    retried with its Idempotency-Key until intake answers (a kill, the broker or the database away); every
    `move_every`-th accepted dossier is then stopped, or worked and approved, through processing's actions."""

    intakes: list[str]
    processings: list[str]
    rate: float = 4.0
    move_every: int = 3
    accepted: dict[str, Dossier] = field(default_factory=dict)
    given_up: int = 0
    retried: int = 0
    moves_done: Counter[str] = field(default_factory=Counter)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            i = 0
            next_at = time.monotonic()
            while not self._stop.is_set():
                task = asyncio.create_task(self._receive(client, i))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                i += 1
                next_at += 1 / self.rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            while self._tasks:  # every dossier posted gets its answer (or gives up) before the checks
                await asyncio.gather(*list(self._tasks))

    def stop(self) -> None:
        self._stop.set()

    async def _receive(self, client: httpx.AsyncClient, i: int) -> None:
        key, body = str(uuid.uuid4()), dossier_body(i)
        deadline = time.monotonic() + 180
        attempt = 0
        while time.monotonic() < deadline:
            url = self.intakes[(i + attempt) % len(self.intakes)]  # a failed intake: the other one next
            attempt += 1
            try:
                r = await client.post(f"{url}/api/v1/dossiers", json=body,
                                      headers={**officer(), "Idempotency-Key": key})
                if r.status_code in (200, 201):
                    data = r.json()
                    path = self._path(len(self.accepted))
                    self.accepted[data["id"]] = Dossier(data["id"], data["code"], path)
                    if path != "receive":
                        await self._move(client, data["code"], path, i)
                    return
            except httpx.HTTPError:
                pass
            self.retried += 1
            await asyncio.sleep(0.5)
        self.given_up += 1

    def _path(self, n: int) -> str:
        if n % self.move_every:
            return "receive"
        return "stop" if (n // self.move_every) % 2 else "approve"

    async def _move(self, client: httpx.AsyncClient, code: str, path: str, i: int) -> None:
        """Drive the case to `path`'s end, one action per round, each decided on the case as just read and sent
        with its `seen_version`: a repeat after a lost answer is refused instead of done twice."""
        deadline = time.monotonic() + 180
        n = 0
        while time.monotonic() < deadline:
            base = f"{self.processings[(i + n) % len(self.processings)]}/api/v1/cases/{code}"
            n += 1
            try:
                r = await client.get(base, headers=officer())
                if r.status_code != 200:
                    await asyncio.sleep(0.5)
                    continue
                case = r.json()
                action = next_action(case, path)
                if action is None:
                    self.moves_done[path] += 1
                    return
                signer = "chaos-head" if action["action"] == "approve" else "chaos-desk"
                r = await client.post(f"{base}/actions", json={**action, "seen_version": case["version"]},
                                      headers=officer(signer))
                if r.status_code != 200:  # refused or away: read the case again in a moment
                    await asyncio.sleep(0.5)
            except httpx.HTTPError:
                await asyncio.sleep(0.5)


def next_action(case: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The action that moves `case` on towards `path`'s end; None once there."""
    if path == "stop":
        return None if case["state"] == STOPPED else {"action": "stop", "reason": "Người nộp không bổ sung"}
    if case["state"] in (RESULT_AVAILABLE, CLOSED):
        return None
    if case["current_step"] == "sign":
        return {"action": "approve", "note": "Đủ điều kiện"}
    return {"action": "complete-step"}


def dossier_body(i: int) -> dict[str, Any]:
    return {
        "procedure_code": PROCEDURE, "channel": "in_person", "receiving_agency": WARD,
        "applicant": {"full_name": "Nguyễn Thị Lan", "personal_id": "019190001234",
                      "phone": f"09{random.randrange(10**8):08d}",
                      "email": f"chaos-{i}-{secrets.token_hex(3)}@example.vn"},
        "documents": [{"name": "Tờ khai đăng ký khai sinh", "digitised": True}],
    }


# --- kills and recovery -------------------------------------------------------------------------------------------
Offsets = dict[TopicPartition, int]


async def group_lags(stack: Stack, marks: Offsets | None = None) -> dict[str, int]:
    """Records each service's consumer group has not committed yet, up to `marks` (default: the topics' ends
    now), over all partitions of its topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka)
    probe = AIOKafkaConsumer(bootstrap_servers=stack.kafka, enable_auto_commit=False)
    await admin.start()
    try:
        await probe.start()
        try:
            described = await admin.describe_topics([topics.INTAKE, topics.PROCESSING])
            tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
            ends = marks if marks is not None else await probe.end_offsets(tps)
            lags: dict[str, int] = {}
            for service in SERVICES:
                committed = await admin.list_consumer_group_offsets(stack.group(service))
                lags[service] = sum(max(0, ends[tp] - max(0, committed[tp].offset if tp in committed else 0))
                                    for tp in tps if tp.topic in CONSUMES[service])
            return lags
        finally:
            await probe.stop()
    finally:
        await admin.close()


async def topic_ends(stack: Stack) -> Offsets:
    probe = AIOKafkaConsumer(bootstrap_servers=stack.kafka, enable_auto_commit=False)
    await probe.start()
    try:
        await probe._client.force_metadata_update()  # a consumer without topics knows none of them yet
        tps = [TopicPartition(t, p) for t in (topics.INTAKE, topics.PROCESSING)
               for p in sorted(probe.partitions_for_topic(t) or ())]
        if not tps:
            raise RuntimeError("no partitions known yet")
        return dict(await probe.end_offsets(tps))
    finally:
        await probe.stop()


async def wait_for_broker(stack: Stack, timeout: float = 60) -> Offsets:
    """The topics' end offsets, as soon as the broker answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await asyncio.wait_for(topic_ends(stack), 30)
        except (Exception, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def wait_caught_up(stack: Stack, timeout: float = 120, marks: Offsets | None = None) -> float:
    """Seconds until every group has committed up to `marks` (what the topics held when asked) or, without
    marks, until every group's lag is 0 at once (the load stopped)."""
    started = time.monotonic()
    last: object = None
    while time.monotonic() - started < timeout:
        try:
            lags = await asyncio.wait_for(group_lags(stack, marks), 30)
            if not any(lags.values()):
                return time.monotonic() - started
            last = lags
        except (Exception, TimeoutError) as exc:  # the broker still starting: ask again
            last = exc
        await asyncio.sleep(0.3)
    raise AssertionError(f"consumers did not catch up within {timeout}s: {last!r}")


def dump_stacks(stack: Stack) -> Path:
    """Where each service process is (py-spy), for a consumer that does not move: written beside the logs."""
    out = stack.run_dir / "logs" / "stacks.txt"
    with out.open("a", encoding="utf-8") as f:
        for key, proc in stack.procs.items():
            dump = subprocess.run([str(ROOT / ".venv" / "bin" / "py-spy"), "dump", "--locals", "--pid", str(proc.pid)],
                                  capture_output=True, text=True, check=False, timeout=60)
            f.write(f"===== {key} (pid {proc.pid})\n{dump.stdout}{dump.stderr}\n")
    return out


@dataclass
class Kill:
    target: str
    down_s: float  # SIGKILL → back up (process ready, or the broker / PostgreSQL started)
    recovered_s: float  # SIGKILL → every consumer group caught up again


async def kill_and_recover(stack: Stack, infra: Infra, target: str, instance: int = 1,
                           restart: bool = True) -> Kill:
    """SIGKILL `target` (a service, "kafka" or "postgres"), start it again, wait until the pipeline caught up."""
    t0 = time.monotonic()
    if target == "kafka":
        infra.must(infra.kafka_sh("kill9"))
        await asyncio.sleep(1)  # the services notice the broker is gone before it comes back
        infra.must(infra.kafka_sh("start"))
    elif target == "postgres":
        infra.must(infra.pg_sh("kill9"))
        await asyncio.sleep(1)
        infra.must(infra.pg_sh("start"))
    else:
        stack.kill9(target, instance)
        if restart:
            stack.start(target, instance=instance)
            await stack.wait_ready(target, timeout=90, instance=instance)
    down = time.monotonic() - t0
    # Caught up: every group has consumed what the topics held once the target was back (under a steady load
    # the lags of all four groups are seldom 0 at the same instant).
    marks = await wait_for_broker(stack)
    try:
        await wait_caught_up(stack, timeout=150, marks=marks)
    except AssertionError as exc:
        raise AssertionError(f"after SIGKILL {target}: {exc}; stacks: {dump_stacks(stack)}") from None
    kill = Kill(target if instance == 1 else instance_key(target, instance), round(down, 1),
                round(time.monotonic() - t0, 1))
    print(f"chaos: SIGKILL {kill.target}: back up in {kill.down_s}s, caught up in {kill.recovered_s}s", flush=True)
    return kill


async def inject_poison(stack: Stack, run: str) -> list[tuple[str, str]]:
    """Records that are no events of ours (no CloudEvents headers, no JSON): every consumer of their topic must
    park them in its dead-letter topic. Returns (topic, poison id)."""
    injected = [(topics.INTAKE, f"{run}-p1"), (topics.INTAKE, f"{run}-p2"), (topics.PROCESSING, f"{run}-p3")]
    for topic, pid in injected:
        await publish_raw(stack.kafka, topic, pid.encode(), b"\x00not an event", {POISON_HEADER: pid})
    return injected


async def dead_letters_since(kafka: str, since_ms: int) -> dict[str, list[str]]:
    """{service: the poison ids (or '?' for anything else) on its dead-letter topic since `since_ms`}."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    found: dict[str, list[str]] = {s: [] for s in SERVICES}
    try:
        by_topic = {topics.dlq(s): s for s in SERVICES}
        tps = [TopicPartition(t, p) for t in by_topic for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not tps:
            await consumer._client.force_metadata_update()
            tps = [TopicPartition(t, p) for t in by_topic for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not tps:
            return found
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)
        starts = await consumer.offsets_for_times({tp: since_ms for tp in tps})
        for tp in tps:
            at = starts.get(tp)
            consumer.seek(tp, at.offset if at is not None else end[tp])
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for r in records:
                    headers = {k: v.decode(errors="replace") for k, v in r.headers}
                    found[by_topic[tp.topic]].append(headers.get(POISON_HEADER, "?"))
    finally:
        await consumer.stop()
    return found


# --- the end state ------------------------------------------------------------------------------------------------
async def rows(url: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


def expected_kinds(state: int) -> set[str]:
    """The citizen's notices a case in `state` has had (deploy/config/notifications.yaml's defaults)."""
    return {"received"} | ({"stopped"} if state == STOPPED else set()) | (
        {"result_ready"} if state in (RESULT_AVAILABLE, CLOSED) else set())


async def form06_received(stack: Stack) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(f"{stack.url('reporting')}/api/v1/reports/form-06", headers=officer(),
                             params={"agency": WARD, "from": "2000-01-01", "to": "2100-01-01"})
        r.raise_for_status()
        return int(r.json()["received"]["received_new"])


async def all_delivered(stack: Stack, accepted: dict[str, Dossier], timeout: float = 120) -> None:
    """Wait until every accepted dossier's expected notices exist and are delivered (or time out: the checks say
    what is missing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cases = {str(r["dossier_id"]): r["state"] for r in await rows(
            stack.db_urls["processing"], "SELECT dossier_id, state FROM cases")}
        notices = await rows(stack.db_urls["notifications"], "SELECT dossier_id, status FROM notices")
        delivered = Counter(str(r["dossier_id"]) for r in notices if r["status"] == "delivered")
        if all(d in cases and delivered[d] == 2 * len(expected_kinds(cases[d])) for d in accepted) and all(
                r["status"] == "delivered" for r in notices):
            return
        await asyncio.sleep(1)


@dataclass
class Report:
    dossiers: int
    given_up: int
    moved: dict[str, int]
    kills: list[Kill]
    notices: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    sms_repeated_requests: int = 0  # a resend after a kill, answered from the gateway's idempotency store
    mail_repeated: int = 0  # an e-mail sent again after a kill, with the same Message-ID (one in the mailbox)
    dead_letters: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def figures(self) -> str:
        kills = ", ".join(f"{k.target} {k.down_s}s/{k.recovered_s}s" for k in self.kills)
        more = "".join(f"\n  {k}: {v}" for k, v in self.extra.items())
        return (f"chaos: {self.dossiers} dossiers accepted ({self.given_up} given up), moved {dict(self.moved)}; "
                f"{len(self.kills)} kills (target back up / caught up): {kills}\n"
                f"  notices {self.notices}; lost = {len(self.lost)}, doubled = {len(self.doubled)}; "
                f"SMS requests repeated after a kill (stored once) {self.sms_repeated_requests}; "
                f"e-mails repeated with the same Message-ID {self.mail_repeated}; dead letters {self.dead_letters}"
                f"{more}\n  problems: {self.problems or 'none'}")


async def verify(stack: ChaosStack, load: Load, kills: list[Kill], poison: list[tuple[str, str]],
                 since_ms: int) -> Report:
    """Every accepted dossier has its case, its notices delivered once per channel, and is counted once in Form
    06; no consumer lags; the dead letters are exactly the injected poison, one per consuming service."""
    assert stack.gateway is not None and stack.smtp is not None
    await wait_caught_up(stack)
    await all_delivered(stack, load.accepted)
    await asyncio.sleep(1)  # a late resend would show now
    report = Report(len(load.accepted), load.given_up, dict(load.moves_done), kills)
    cases = {str(r["dossier_id"]): r["state"] for r in await rows(
        stack.db_urls["processing"], "SELECT dossier_id, state FROM cases")}
    notices = await rows(stack.db_urls["notifications"], "SELECT key, dossier_id, kind, channel, status FROM notices")
    report.notices = len(notices)
    _check_cases(report, load.accepted, cases)
    _check_notices(report, load.accepted, cases, notices)
    _check_channels(report, stack, notices)
    await _check_intake(report, stack, load)
    counted = await form06_received(stack)
    if counted < len(load.accepted):
        report.lost.append(f"Form 06 counts {counted} of {len(load.accepted)}")
    elif counted > len(load.accepted):
        report.doubled.append(f"Form 06 counts {counted} for {len(load.accepted)}")
    lags = await group_lags(stack)
    if any(lags.values()):
        report.problems.append(f"consumer lag left: {lags}")
    letters = await dead_letters_since(stack.kafka, since_ms)
    report.dead_letters = {s: len(v) for s, v in letters.items() if v}
    for service in SERVICES:
        wanted = sorted(pid for topic, pid in poison if topic in CONSUMES[service])
        if sorted(set(letters[service])) != wanted:
            report.problems.append(f"{service} dead letters {sorted(letters[service])}, injected {wanted}")
    stack.keep_databases = bool(report.lost or report.doubled or report.problems)
    return report


def _check_cases(report: Report, accepted: dict[str, Dossier], cases: dict[str, int]) -> None:
    report.lost += [f"no case for {d.code}" for d in accepted.values() if d.id not in cases]
    for d in accepted.values():
        state = cases.get(d.id)
        if d.path == "stop" and state not in (None, STOPPED):
            report.problems.append(f"{d.code} not stopped: state {state}")
        if d.path == "approve" and state not in (None, RESULT_AVAILABLE, CLOSED):
            report.problems.append(f"{d.code} not approved: state {state}")


def _check_notices(report: Report, accepted: dict[str, Dossier], cases: dict[str, int],
                   notices: list[asyncpg.Record]) -> None:
    per = Counter((str(n["dossier_id"]), n["kind"], n["channel"]) for n in notices)
    for d in accepted.values():
        for kind in expected_kinds(cases.get(d.id, 0)):
            for channel in ("sms", "email"):
                if per[(d.id, kind, channel)] == 0:
                    report.lost.append(f"no {kind} {channel} for {d.code}")
    for (dossier, kind, channel), n in per.items():
        if dossier not in accepted or kind not in expected_kinds(cases.get(dossier, 0)) or n > 1:
            report.doubled.append(f"{n} {kind} {channel} notice(s) for {dossier}")
    report.problems += [f"notice {n['key']} {n['status']}" for n in notices if n["status"] != "delivered"]


def _check_channels(report: Report, stack: ChaosStack, notices: list[asyncpg.Record]) -> None:
    """At the gateway one stored SMS per notice key; at the SMTP server one Message-ID per e-mail notice."""
    assert stack.gateway is not None and stack.smtp is not None
    sms_keys = {n["key"] for n in notices if n["channel"] == "sms"}
    stored = Counter(m.idempotency_key for m in list(stack.gateway.messages))
    report.lost += [f"SMS {k} not at the gateway" for k in sms_keys - set(stored)]
    report.doubled += [f"SMS {k} stored {n}×" for k, n in stored.items() if n > 1 or k not in sms_keys]
    report.sms_repeated_requests = sum(stack.gateway.by_key[k] - 1 for k in stored)
    mail_ids = {message_id(n["key"]): n["key"] for n in notices if n["channel"] == "email"}
    sent = Counter(str(m["Message-ID"]) for m in list(stack.smtp.messages))
    report.lost += [f"e-mail {k} not at the SMTP server" for mid, k in mail_ids.items() if mid not in sent]
    report.doubled += [f"e-mail {mid} matches no notice" for mid in sent if mid not in mail_ids]
    report.mail_repeated = sum(sent.values()) - len(sent)


async def _check_intake(report: Report, stack: Stack, load: Load) -> None:
    """Intake holds exactly the accepted dossiers (a retried receipt replays, never adds one), and each day's
    numbers of each agency run 1, 2, 3 … without a gap."""
    stored = await rows(stack.db_urls["intake"], "SELECT id, code FROM dossiers")
    extra = {str(r["id"]) for r in stored} - set(load.accepted)
    if extra and not load.given_up:
        report.doubled += [f"intake holds {d} nobody was told about" for d in sorted(extra)]
    by_day: defaultdict[str, list[int]] = defaultdict(list)
    for r in stored:
        prefix, number = str(r["code"]).rsplit("-", 1)
        by_day[prefix].append(int(number))
    for prefix, numbers in by_day.items():
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
            report.problems.append(f"{prefix}: numbers not gap-free, missing {missing[:10]}, {len(numbers)} codes")
    report.extra["daily numbers"] = {p: f"1…{max(n)}" for p, n in by_day.items()}


async def warnings(stack: Stack) -> Counter[tuple[str, str]]:
    """(dossier, warning type) → how many times processing raised it."""
    found = await rows(stack.db_urls["processing"],
                       "SELECT dossier_id, type FROM case_events WHERE type IN ('case.due_soon', 'case.overdue')")
    return Counter((str(r["dossier_id"]), r["type"]) for r in found)


# --- two of every service -----------------------------------------------------------------------------------------
async def partition_counts(kafka: str) -> dict[str, int]:
    """Partitions of the event topics: the most consumers of one group that can all have work."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics.ALL))
        return {t["topic"]: len(t["partitions"]) for t in described if not t.get("error_code")}
    finally:
        await admin.close()


async def applied_by(stack: Stack, service: str, instance: int) -> float:
    """Events this process applied since it started (`onestop_events_applied_total`)."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{stack.url(service, instance)}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("onestop_events_applied_total{"))


async def open_cases(stack: Stack) -> dict[str, datetime]:
    """Cases still received and unworked (the load's "receive" path): dossier → appointment."""
    found = await rows(stack.db_urls["processing"], "SELECT dossier_id, appointment_at FROM cases WHERE state = 2")
    return {str(r["dossier_id"]): r["appointment_at"] for r in found}


async def wait_warned(stack: Stack, kind: str, dossiers: set[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        warned = {d for d, t in await warnings(stack) if t == kind}
        if dossiers <= warned:
            return
        await asyncio.sleep(1)
