"""deploy/k8s against Kubernetes' own schemas (kubernetes-validate, offline, strict: unknown
fields fail) and the wiring between the manifests (no cluster here)."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from streams_app.jobs.process import JOBS
from streams_app.settings import Settings
from tests.deploy.conftest import K8S

KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


def manifests() -> dict[str, dict[str, Any]]:
    """kind -> resource, from every manifest file but the kustomization."""
    out = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            assert doc["kind"] not in out, f"two {doc['kind']}s"
            out[doc["kind"]] = doc
    return out


@pytest.fixture(scope="module")
def k8s() -> dict[str, dict[str, Any]]:
    return manifests()


@pytest.fixture(scope="module")
def pod(k8s: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return k8s["StatefulSet"]["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def container(pod: dict[str, Any]) -> dict[str, Any]:
    (c,) = pod["containers"]
    return c


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("kind", sorted(manifests()))
def test_manifest_matches_the_kubernetes_schema(k8s: dict[str, dict[str, Any]], kind: str,
                                                version: str) -> None:
    kubernetes_validate.validate(k8s[kind], version, strict=True)


def test_validator_rejects_a_wrong_field(k8s: dict[str, dict[str, Any]]) -> None:
    broken = yaml.safe_load(yaml.safe_dump(k8s["StatefulSet"]))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)
    broken = yaml.safe_load(yaml.safe_dump(k8s["StatefulSet"]))
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def settings_of(k8s: dict[str, dict[str, Any]]) -> Settings:
    data = dict(k8s["ConfigMap"]["data"])
    # Secrets arrive as env in the pod; placeholders stand in for them here.
    data.update(STREAMS_SASL_USERNAME="user", STREAMS_SASL_PASSWORD="secret")
    data.pop("STREAMS_SSL_CAFILE")  # mounted from the Secret at run time
    return Settings.from_env(data)


def test_configmap_holds_valid_settings_for_a_known_job(k8s: dict[str, dict[str, Any]],
                                                        container: dict[str, Any]) -> None:
    settings = settings_of(k8s)
    assert k8s["ConfigMap"]["data"]["JOB"] in JOBS
    assert settings.web_enabled
    assert "STREAMS_SASL_PASSWORD" not in k8s["ConfigMap"]["data"]  # secrets stay in the Secret
    (ref,) = container["envFrom"]
    assert ref["configMapRef"]["name"] == k8s["ConfigMap"]["metadata"]["name"]


def test_probes_and_scraping_use_the_web_port(k8s: dict[str, dict[str, Any]],
                                              container: dict[str, Any]) -> None:
    port = settings_of(k8s).web_port
    (http,) = container["ports"]
    assert http["containerPort"] == port
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": http["name"]}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": http["name"]}
    notes = k8s["StatefulSet"]["spec"]["template"]["metadata"]["annotations"]
    assert notes == {"prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                     "prometheus.io/path": "/metrics"}


def test_each_pod_gets_a_volume_mounted_at_the_data_dir(k8s: dict[str, dict[str, Any]],
                                                        container: dict[str, Any]) -> None:
    (claim,) = k8s["StatefulSet"]["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == str(settings_of(k8s).data_dir)
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_workers_advertise_their_pod_ip_for_interactive_queries(
        k8s: dict[str, dict[str, Any]], container: dict[str, Any]) -> None:
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    server = env["STREAMS_APPLICATION_SERVER"]["value"]
    port = settings_of(k8s).web_port
    assert server == f"$(POD_IP):{port}"  # expanded by Kubernetes from the entry above
    pod_server = server.replace("$(POD_IP)", "10.0.0.7")
    assert Settings(application_server=pod_server).advertised_server == f"10.0.0.7:{port}"


def test_sasl_credentials_come_from_the_secret(k8s: dict[str, dict[str, Any]],
                                               container: dict[str, Any],
                                               pod: dict[str, Any]) -> None:
    secret = k8s["Secret"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]
           if "secretKeyRef" in e.get("valueFrom", {})}
    assert set(env) == {"STREAMS_SASL_USERNAME", "STREAMS_SASL_PASSWORD"}
    for ref in env.values():
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
    # The CA file named by STREAMS_SSL_CAFILE is mounted from the Secret.
    cafile = k8s["ConfigMap"]["data"]["STREAMS_SSL_CAFILE"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    (volume,) = [v for v in pod["volumes"] if "secret" in v]
    (item,) = volume["secret"]["items"]
    assert f"{mounts[volume['name']]}/{item['path']}" == cafile
    assert item["key"] in secret["stringData"]


def test_runs_as_non_root(pod: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0


def test_headless_service_and_selectors_agree(k8s: dict[str, dict[str, Any]]) -> None:
    sts, svc = k8s["StatefulSet"], k8s["Service"]
    assert svc["spec"]["clusterIP"] == "None"
    assert sts["spec"]["serviceName"] == svc["metadata"]["name"]
    labels = sts["spec"]["template"]["metadata"]["labels"]
    for selector in (sts["spec"]["selector"]["matchLabels"], svc["spec"]["selector"],
                     k8s["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= labels.items()
