"""docker-compose.yml and deploy/ describe the stack the code expects: services, ports, settings, topics, buckets."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from libs.common import telemetry
from libs.common.events import TOPICS
from libs.common.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES_IN_COMPOSE: dict[str, dict] = COMPOSE["services"]
INFRASTRUCTURE = ("postgres", "kafka", "s3")
ONE_SHOTS = {"kafka-init": "kafka", "s3-init": "s3"}


def service_folders() -> list[str]:
    """Our services, as the code has them: services/<name>/ with its descriptor (main.py) and command line."""
    return sorted(p.parent.name for p in (ROOT / "services").glob("*/__main__.py") if (p.parent / "main.py").exists())


SERVICES = service_folders()


def default_port(service: str) -> int:
    """The port `python -m services.<name> api` binds to when nothing overrides it: its settings' api_port."""
    return settings_class(service).model_fields["api_port"].default


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v.__module__ == module.__name__
    ]
    assert len(found) == 1, f"services/{service}/settings.py should define one ServiceSettings subclass"
    return found[0]


def environment_names(settings_cls: type[ServiceSettings]) -> set[str]:
    names = set()
    for field in settings_cls.model_fields.values():
        for alias in (field.alias, field.validation_alias):
            if isinstance(alias, str):
                names.add(alias)
    return names


def variables_read_by(service: str) -> set[str]:
    # HOST and <NAME>_PORT are read by libs/common/entry.py, OTEL_* by libs/common/telemetry.py (and the SDK).
    return (
        environment_names(settings_class(service))
        | {"HOST", f"{service.upper()}_PORT"}
        | set(telemetry.ENDPOINT_VARIABLES)
    )


def app(service: str, process: str) -> dict:
    return SERVICES_IN_COMPOSE[f"{service}-{process}"]


def app_entries() -> list[tuple[str, dict]]:
    return [(name, entry) for name, entry in SERVICES_IN_COMPOSE.items() if "build" in entry]


def shell_words(entry: dict, variable: str) -> set[str]:
    return set(str(entry["environment"][variable]).split())


def test_the_code_has_the_four_services():
    assert SERVICES == sorted(["kyc", "incidents", "traceability", "scoring"])


def test_infrastructure_services_have_healthchecks():
    for name in INFRASTRUCTURE:
        assert SERVICES_IN_COMPOSE[name]["healthcheck"]["test"], name


def test_one_shot_setup_waits_for_healthy_infrastructure():
    for name, needs in ONE_SHOTS.items():
        assert SERVICES_IN_COMPOSE[name]["depends_on"][needs]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_an_api_and_a_worker_built_from_the_one_dockerfile(service):
    for process in ("api", "worker"):
        build = app(service, process)["build"]
        assert build["context"] == "."
        assert build["dockerfile"] == "deploy/Dockerfile"
        assert build["args"]["SERVICE"] == service
        assert app(service, process)["command"] == [process]


def test_every_built_entry_is_an_api_or_worker_of_an_existing_service():
    for name, entry in app_entries():
        service = entry["build"]["args"]["SERVICE"]
        assert service in SERVICES, f"{name}: no services/{service}/ with main.py and __main__.py"
        assert name in (f"{service}-api", f"{service}-worker")


@pytest.mark.parametrize("service", SERVICES)
def test_the_api_publishes_and_checks_the_services_default_port(service):
    port = default_port(service)
    api = app(service, "api")

    assert api["ports"] == [f"{port}:{port}"]
    assert int(api["environment"][f"{service.upper()}_PORT"]) == port
    assert f"127.0.0.1:{port}/health" in " ".join(api["healthcheck"]["test"])
    assert "ports" not in app(service, "worker")


@pytest.mark.parametrize("service", SERVICES)
def test_the_worker_is_given_and_checks_its_health_port(service):
    port = settings_class(service).model_fields["worker_port"].default
    worker = app(service, "worker")

    assert int(worker["environment"][f"{service.upper()}_WORKER_PORT"]) == port
    assert f"127.0.0.1:{port}/health" in " ".join(worker["healthcheck"]["test"])


@pytest.mark.parametrize("service", SERVICES)
def test_our_services_are_given_only_variables_the_code_reads(service):
    for process in ("api", "worker"):
        given = set(app(service, process)["environment"])
        assert given - variables_read_by(service) == set(), f"{service}-{process}"


def test_the_variables_our_services_need_are_given():
    for service in SERVICES:
        env = app(service, "api")["environment"]
        for name in (
            "KAFKA_BOOTSTRAP_SERVERS",
            "S3_ENDPOINT",
            "S3_ACCESS_KEY",
            "S3_SECRET_KEY",
            "JWT_SECRET",
            "HOST",
            f"{service.upper()}_DATABASE_URL",
            f"{service.upper()}_PORT",
        ):
            assert env.get(name) not in (None, ""), f"{service}: {name}"
        assert env["HOST"] == "0.0.0.0"
        assert str(env["KAFKA_ENABLE_IDEMPOTENCE"]).lower() == "true"


def test_compose_ships_no_default_jwt_secret():
    for name, entry in app_entries():
        assert re.fullmatch(r"\$\{JWT_SECRET:\?[^}]*\}", entry["environment"]["JWT_SECRET"]), name


def test_each_service_uses_its_own_database_created_by_init_sql():
    created = set(re.findall(r"CREATE DATABASE (\w+);", (ROOT / "deploy/postgres/init.sql").read_text()))
    assert created == set(SERVICES)
    for service in SERVICES:
        url = urlsplit(app(service, "api")["environment"][f"{service.upper()}_DATABASE_URL"])
        assert (url.scheme, url.hostname, url.port, url.path) == ("postgresql", "postgres", 5432, f"/{service}")


def test_our_services_reach_kafka_and_s3_by_their_compose_names():
    kafka = SERVICES_IN_COMPOSE["kafka"]["environment"]
    advertised = {address.partition("://")[2] for address in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")}
    assert str(kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]).lower() == "false"
    for service in SERVICES:
        env = app(service, "api")["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] in advertised
        assert env["S3_ENDPOINT"] == "http://s3:8333"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_settings_name_is_its_folder(service):
    # migrations, topics, buckets and the consumer group are all named after service_name
    assert settings_class(service).model_fields["service_name"].default == service


def test_kafka_init_creates_the_event_topics_and_the_dead_letter_topics():
    kafka_init = SERVICES_IN_COMPOSE["kafka-init"]
    partitions = ServiceSettings.model_fields["kafka_topic_partitions"].default

    assert shell_words(kafka_init, "TOPICS") == set(TOPICS) | {f"{s}.deadletter" for s in SERVICES}
    assert int(kafka_init["environment"]["PARTITIONS"]) == partitions


def test_s3_init_creates_one_bucket_per_service():
    prefix = ServiceSettings.model_fields["s3_bucket_prefix"].default

    assert shell_words(SERVICES_IN_COMPOSE["s3-init"], "BUCKETS") == {prefix + s for s in SERVICES}


def image_of(name: str) -> tuple[str, str]:
    repository, _, tag = SERVICES_IN_COMPOSE[name]["image"].rpartition(":")
    return repository, tag


def test_every_infrastructure_image_is_pinned_to_a_release():
    for name in (*INFRASTRUCTURE, *ONE_SHOTS):
        repository, tag = image_of(name)
        assert repository and tag and tag != "latest", name
        assert re.fullmatch(r"\d+(\.\d+)*", tag), f"{name}: {tag} is not a release number"


def test_the_stack_runs_postgresql_16_kafka_4_in_kraft_mode_and_a_maintained_s3_server():
    assert image_of("postgres") == ("postgres", "16")
    kafka_repository, kafka_tag = image_of("kafka")
    assert kafka_repository == "apache/kafka" and int(kafka_tag.split(".")[0]) >= 4
    assert "controller" in SERVICES_IN_COMPOSE["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    s3_repository, _ = image_of("s3")
    assert "minio" not in s3_repository  # MinIO's community server went source-only and was archived
    assert s3_repository == "chrislusf/seaweedfs"
    s3 = SERVICES_IN_COMPOSE["s3"]
    assert "-s3.port=8333" in s3["command"][0] and "/healthz" in " ".join(s3["healthcheck"]["test"])
    for variable in ("S3_ACCESS_KEY", "S3_SECRET_KEY"):  # the server accepts the credentials the services send
        assert s3["environment"][variable] == SERVICES_IN_COMPOSE["kyc-api"]["environment"][variable]


# The lowest version of each request Apache Kafka 4.0 still accepts (KIP-896; validVersions in its message
# definitions), for the requests our producer, consumer group and admin client send.
KAFKA_4_MINIMUM_VERSIONS = {
    "ProduceRequest": 3,
    "FetchRequest": 4,
    "OffsetRequest": 1,  # ListOffsets
    "MetadataRequest": 0,
    "OffsetCommitRequest": 2,
    "OffsetFetchRequest": 1,
    "FindCoordinatorRequest": 0,
    "JoinGroupRequest": 2,
    "HeartbeatRequest": 0,
    "LeaveGroupRequest": 0,
    "SyncGroupRequest": 0,
    "ApiVersionRequest": 0,
    "CreateTopicsRequest": 2,
    "InitProducerIdRequest": 0,  # the idempotent producer compose turns on
}


def test_the_pinned_aiokafka_speaks_a_version_kafka_4_accepts_for_every_request_we_send():
    """aiokafka >= 0.13 picks, per request, the newest version it implements within the broker's range: so it
    works with Kafka 4 when that version is at least Kafka 4's minimum."""
    import aiokafka
    from aiokafka.protocol import admin, commit, coordination, fetch, group, metadata, offset, produce, transaction

    assert tuple(int(p) for p in aiokafka.__version__.split(".")[:2]) >= (0, 13)
    modules = (admin, commit, coordination, fetch, group, metadata, offset, produce, transaction)
    requests = {
        name: cls for module in modules for name, cls in vars(module).items() if name in KAFKA_4_MINIMUM_VERSIONS
    }
    assert set(requests) == set(KAFKA_4_MINIMUM_VERSIONS)
    for name, minimum in KAFKA_4_MINIMUM_VERSIONS.items():
        newest = max(version_class.API_VERSION for version_class in requests[name]._CLASSES)
        assert newest >= minimum, f"aiokafka sends {name} v{newest} at most; Kafka 4 needs v{minimum}+"


def test_entrypoint_migrates_then_runs_the_service_named_by_the_dockerfiles_arg():
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    entrypoint = (ROOT / "deploy/entrypoint.sh").read_text()

    assert re.search(r"^ARG SERVICE=kyc$", dockerfile, re.M)
    assert re.search(r"^ENV SERVICE=\$\{SERVICE\}$", dockerfile, re.M)
    assert "COPY --chmod=0755 deploy/entrypoint.sh" in dockerfile
    migrate = entrypoint.index('python -m "services.$SERVICE" migrate')
    run = entrypoint.index('exec python -m "services.$SERVICE" "$@"')
    assert migrate < run
    assert os.access(ROOT / "deploy/entrypoint.sh", os.X_OK)


def test_the_image_installs_the_project_as_a_user_other_than_root():
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()

    assert dockerfile.startswith("# syntax=docker/dockerfile:1\n")  # COPY <<heredoc needs the 1.4+ frontend
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert "pip install --no-deps /src" in dockerfile
    assert re.search(r"^USER (?!root)\w+$", dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK .*assay-healthcheck", dockerfile, re.M)


def test_the_build_context_keeps_what_the_image_needs():
    kept = {line for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    assert {"!pyproject.toml", "!libs/", "!services/", "!deploy/entrypoint.sh"} <= kept


def compose_command() -> list[str] | None:
    """`docker compose` (v2 plugin) or a standalone docker-compose v2; None when neither is installed."""
    candidates = [["docker", "compose"]] if shutil.which("docker") else []
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        version = subprocess.run([*command, "version", "--short"], capture_output=True, text=True)
        if version.returncode == 0 and version.stdout.strip().lstrip("v").startswith("2"):
            return command
    return None


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = compose_command()
    if command is None:
        pytest.skip("docker compose v2 is not installed")
    done = subprocess.run([*command, "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    if "Cannot connect to the Docker daemon" in done.stderr:
        pytest.skip("docker compose config needs a Docker engine here")
    return done


def test_docker_compose_accepts_the_file():
    done = compose_config({**os.environ, "JWT_SECRET": "test-only-secret"})
    assert done.returncode == 0, done.stderr


def test_docker_compose_refuses_to_start_without_a_jwt_secret():
    done = compose_config({k: v for k, v in os.environ.items() if k != "JWT_SECRET"})
    assert done.returncode != 0
    assert "set JWT_SECRET" in done.stderr
