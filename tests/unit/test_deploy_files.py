"""The files under deploy/ keep the bot's contracts and the production rules.

Static checks only: nothing is built or started (no container engine or cluster here). The
Slack manifest must route everything to ``/slack/events`` and have every scope explained,
compose must run two replicas on one database and pass the Compose Specification schema, the
Dockerfile must pass hadolint, the Kubernetes example must gate traffic on ``/healthz``, and
no production file may turn on the test clock.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
EVENTS_PATH = "/slack/events"
TEST_CLOCK_FLAG = "SAMVERKAN_ALLOW_TEST_CLOCK"
REQUIRED_BOT_EVENTS = frozenset(
    {
        "app_home_opened",
        "member_left_channel",
        "member_joined_channel",
        "channel_archive",
        "channel_unarchive",
        "group_archive",
        "group_unarchive",
        "app_uninstalled",
        "tokens_revoked",
    }
)
# Scopes the bot must not ask for: it posts only where invited and never in group DMs. (It
# reads history only to find its own post after a crash: channels/groups/im:history.)
FORBIDDEN_SCOPES = frozenset({"chat:write.public", "mpim:history"})
HISTORY_SCOPES = frozenset({"channels:history", "groups:history", "im:history"})
SYSTEMD_UNITS = ("systemd/samverkan.service", "systemd/samverkan-migrate.service")


def _load_yaml(name: str) -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"deploy/{name} is not a YAML mapping"
    return data


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's ``environment`` as a dict, whether written as a map or a list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {key: value for key, _, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _code_lines(text: str) -> list[str]:
    """Lines that are not blank and not ``#`` comments (Dockerfile, YAML, systemd, .env)."""
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith(("#", ";"))]


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return _load_yaml("slack-manifest.yaml")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load_yaml("compose.yaml")


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Dockerfile instructions, one per item, with ``\\`` continuation lines joined."""
    instructions: list[str] = []
    pending = ""
    for line in _code_lines((DEPLOY / "Dockerfile").read_text(encoding="utf-8")):
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        instructions.append(pending + line)
        pending = ""
    return instructions


# --- Slack manifest -----------------------------------------------------------------------


def test_manifest_has_exactly_one_slash_command_samverkan(manifest: dict[str, Any]) -> None:
    commands = manifest["features"]["slash_commands"]
    assert len(commands) == 1
    (command,) = commands
    assert command["command"] == "/samverkan"
    assert command["url"].endswith(EVENTS_PATH)
    assert command["usage_hint"]
    # Mentions arrive as <@U…|name>, which the commands read (handlers/slack_text.py).
    assert command["should_escape"] is True


def test_manifest_interactivity_goes_to_events_endpoint(manifest: dict[str, Any]) -> None:
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith(EVENTS_PATH)


def test_manifest_subscribes_to_required_events(manifest: dict[str, Any]) -> None:
    subscriptions = manifest["settings"]["event_subscriptions"]
    assert subscriptions["request_url"].endswith(EVENTS_PATH)
    missing = REQUIRED_BOT_EVENTS - set(subscriptions["bot_events"])
    assert not missing, f"events not subscribed: {sorted(missing)}"


def test_manifest_gives_the_dms_a_read_only_messages_tab(manifest: dict[str, Any]) -> None:
    # Reminders, previews and invitations to rate arrive as DMs: they need the Messages tab,
    # and read-only, since the bot reads no messages a member might type there.
    home = manifest["features"]["app_home"]
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True
    assert home["home_tab_enabled"] is True


def test_manifest_settings_and_scopes(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    redirect_urls = manifest["oauth_config"]["redirect_urls"]
    assert all(url.endswith("/slack/oauth_redirect") for url in redirect_urls)
    scopes = manifest["oauth_config"]["scopes"]
    assert "user" not in scopes, "the bot needs no user scopes"
    assert {"commands", "chat:write"} <= set(scopes["bot"])
    assert not FORBIDDEN_SCOPES & set(scopes["bot"])
    assert set(scopes["bot"]) >= HISTORY_SCOPES  # the outbox's look-up after a crash


# --- compose ------------------------------------------------------------------------------


def test_compose_runs_two_bot_replicas_on_one_database(compose: dict[str, Any]) -> None:
    services: dict[str, dict[str, Any]] = compose["services"]
    bots = {name: service for name, service in services.items() if name.startswith("bot")}
    assert set(bots) == {"bot-1", "bot-2"}

    urls = {_environment(service).get("SAMVERKAN_DATABASE_URL") for service in bots.values()}
    assert len(urls) == 1, f"replicas use different databases: {urls}"
    (url,) = urls
    assert url is not None
    assert url.startswith("postgresql+psycopg://")
    assert _environment(services["migrate"])["SAMVERKAN_DATABASE_URL"] == url

    for name, service in bots.items():
        depends_on = service["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name


def test_compose_migrate_is_one_shot(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate.get("restart", "no") == "no"


def test_compose_never_sets_test_clock(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert TEST_CLOCK_FLAG not in _environment(service), name


def test_compose_database_has_volume_and_healthcheck(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert str(db["image"]).startswith("postgres:16")
    assert "healthcheck" in db
    assert any(str(volume).endswith(":/var/lib/postgresql/data") for volume in db["volumes"])


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_does_not_run_as_root(dockerfile: list[str]) -> None:
    users = [line.split(None, 1)[1] for line in dockerfile if line.upper().startswith("USER ")]
    assert users, "Dockerfile has no USER line"
    user = users[-1].split(":", 1)[0].strip()
    assert user not in {"root", "0"}


def test_dockerfile_entrypoint_and_no_migration_at_build(dockerfile: list[str]) -> None:
    entrypoints = [line for line in dockerfile if line.upper().startswith("ENTRYPOINT ")]
    cmds = [line for line in dockerfile if line.upper().startswith("CMD ")]
    assert json.loads(entrypoints[-1].split(None, 1)[1]) == ["samverkan"]
    assert json.loads(cmds[-1].split(None, 1)[1]) == ["serve"]
    assert "EXPOSE 3000" in dockerfile
    assert any(line.upper().startswith("HEALTHCHECK ") for line in dockerfile)
    migrate_run = re.compile(r"^RUN\b.*\bsamverkan\s+migrate\b", re.IGNORECASE)
    assert not any(migrate_run.search(line) for line in dockerfile)


# --- all production files -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Dockerfile", "compose.yaml", "compose.socket-mode.yaml", ".env.example", *SYSTEMD_UNITS],
)
def test_production_files_never_set_test_clock(name: str) -> None:
    lines = _code_lines((DEPLOY / name).read_text(encoding="utf-8"))
    offending = [line for line in lines if TEST_CLOCK_FLAG in line]
    assert not offending, f"deploy/{name} sets the test clock: {offending}"


@pytest.mark.parametrize("name", SYSTEMD_UNITS)
def test_systemd_units_use_env_file_and_venv(name: str) -> None:
    lines = _code_lines((DEPLOY / name).read_text(encoding="utf-8"))
    assert "EnvironmentFile=/etc/samverkan/samverkan.env" in lines
    assert "User=samverkan" in lines
    assert "NoNewPrivileges=yes" in lines
    assert "ProtectSystem=strict" in lines
    assert any(line.startswith("ExecStart=/opt/samverkan/.venv/bin/samverkan ") for line in lines)


# --- linters: hadolint and the Compose Specification schema --------------------------------

COMPOSE_FILES = ("compose.yaml", "compose.socket-mode.yaml")
KUBERNETES = DEPLOY / "kubernetes"
SLACK_PATHS = {EVENTS_PATH, "/slack/install", "/slack/oauth_redirect"}


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is missing: pip install -e '.[dev]'"
    return found


@pytest.mark.slow  # a real process
def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [_tool("hadolint"), "--no-color", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow  # a real process
def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /src && pip install .\nUSER root\n")
    result = subprocess.run(
        [_tool("hadolint"), "--no-color", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # "latest"


def _compose_schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow  # a real process
@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_files_follow_the_compose_specification(name: str) -> None:
    result = _compose_schema_check(DEPLOY / name)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow  # a real process
def test_the_compose_schema_check_catches_mistakes(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    bad.write_text(
        "services:\n  bot:\n    image: samverkan\n    depends_on:\n"
        "      db:\n        condition: whenever\n    restart: sometimes\n"
    )
    result = _compose_schema_check(bad)
    assert result.returncode != 0
    assert "whenever" in result.stdout + result.stderr


def test_socket_mode_compose_runs_one_bot_with_no_published_port() -> None:
    compose = _load_yaml("compose.socket-mode.yaml")
    services: dict[str, dict[str, Any]] = compose["services"]
    assert set(services) == {"db", "migrate", "bot"}
    assert not any("ports" in service for service in services.values())
    bot = services["bot"]
    assert bot["command"] == ["serve"]
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert _environment(bot)["SLACK_APP_TOKEN"].startswith("${SLACK_APP_TOKEN:?")
    assert services["migrate"]["command"] == ["migrate"]
    assert TEST_CLOCK_FLAG not in (DEPLOY / "compose.socket-mode.yaml").read_text()


# --- Kubernetes -----------------------------------------------------------------------------


def _k8s_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert isinstance(doc, dict) and doc.get("kind"), path.name
            docs.append(doc)
    return docs


def _one(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _k8s_documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def test_kustomization_lists_existing_files_and_pins_a_release() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (KUBERNETES / resource).is_file(), resource
    assert "migrate-job.yaml" not in kustomization["resources"]
    (image,) = kustomization["images"]
    job = _one("Job", "samverkan-migrate")
    (container,) = _pod_spec(job)["containers"]
    assert container["image"] == f"{image['newName']}:{image['newTag']}"
    assert image["newTag"] != "latest"


def test_deployment_is_ready_only_when_healthz_answers() -> None:
    deployment = _one("Deployment", "samverkan")
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = _pod_spec(deployment)
    (bot,) = pod["containers"]
    assert bot["args"] == ["serve"]
    assert bot["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert bot["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert "httpGet" not in bot["livenessProbe"], "a database outage must not restart pods"
    assert {"configMapRef": {"name": "samverkan"}} in bot["envFrom"]
    assert {"secretRef": {"name": "samverkan"}} in bot["envFrom"]


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Deployment", "samverkan"), ("Job", "samverkan-migrate"), ("CronJob", "samverkan-backup")],
)
def test_workloads_run_as_non_root_with_a_read_only_root(kind: str, name: str) -> None:
    pod = _pod_spec(_one(kind, name))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]


def test_migration_job_runs_samverkan_migrate_once() -> None:
    job = _one("Job", "samverkan-migrate")
    pod = _pod_spec(job)
    assert pod["restartPolicy"] == "Never"
    assert pod["containers"][0]["args"] == ["migrate"]


def test_ingress_publishes_only_slacks_paths() -> None:
    ingress = _one("Ingress", "samverkan")
    paths = {path["path"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}
    assert paths == SLACK_PATHS
    assert ingress["spec"]["tls"]


def test_kubernetes_files_never_set_the_test_clock() -> None:
    for path in KUBERNETES.iterdir():
        assert TEST_CLOCK_FLAG not in path.read_text(encoding="utf-8"), path.name


# --- the READMEs --------------------------------------------------------------------------


def test_every_scope_and_event_is_explained_in_the_deploy_readme(
    manifest: dict[str, Any],
) -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        assert f"| scope `{scope}` |" in readme, scope
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        assert f"`{event}`" in readme, event


def test_the_readme_points_at_every_deployment_file() -> None:
    readme = (DEPLOY.parent / "README.md").read_text(encoding="utf-8")
    for name in (
        "deploy/slack-manifest.yaml",
        "deploy/Dockerfile",
        "deploy/compose.yaml",
        "deploy/compose.socket-mode.yaml",
        "deploy/kubernetes/",
        "deploy/README.md",
    ):
        assert name in readme, name
