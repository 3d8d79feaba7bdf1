//! deploy/: the configs the Kubernetes manifests, the image and the compose
//! file run with are the ones the real config loader accepts. The manifests'
//! structure and schemas are checked by `deploy/check.py` (PyYAML), which
//! `.ci/run` runs.

use crate::support::{binary, repo_root, text, wirewatch};

/// The ConfigMap is generated from `deploy/k8s/wirewatch.toml` and
/// `feeds.toml` (kustomization.yaml), so checking the files checks it.
#[test]
fn kubernetes_config_map_is_accepted_by_the_config_loader() {
    let k8s = repo_root().join("deploy/k8s");
    let kustomization = std::fs::read_to_string(k8s.join("kustomization.yaml")).unwrap();
    assert!(
        kustomization.contains("- wirewatch.toml") && kustomization.contains("- feeds.toml"),
        "the ConfigMap is no longer generated from the two files: {kustomization}"
    );
    let config = k8s.join("wirewatch.toml");
    // The pods set WIREWATCH_INSTANCE_ID to their name, as a Deployment names them.
    let output = binary()
        .args(["check", "--config", config.to_str().unwrap()])
        .env(
            "WIREWATCH_INSTANCE_ID",
            "wirewatch-classify-5f7c9d8b6-x2k4q",
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} does not validate: {}",
        config.display(),
        text(&output.stderr)
    );
    assert!(
        text(&output.stdout).contains("bus Kafka"),
        "--stages needs the Kafka bus: {}",
        text(&output.stdout)
    );
}

#[test]
fn kubernetes_feed_list_is_the_shipped_one() {
    // kustomize reads files only below its directory, hence the copy.
    let shipped = std::fs::read_to_string(repo_root().join("config/feeds.toml")).unwrap();
    let copy = std::fs::read_to_string(repo_root().join("deploy/k8s/feeds.toml")).unwrap();
    assert!(
        shipped == copy,
        "deploy/k8s/feeds.toml differs from config/feeds.toml: cp config/feeds.toml deploy/k8s/"
    );
}

/// The image holds the repository's config/ and demo/ under /opt/wirewatch,
/// its working directory: every `--config` the Dockerfile and the compose
/// file pass names a shipped config that validates.
#[test]
fn image_and_compose_run_shipped_configs() {
    let root = repo_root();
    for (file, least) in [("deploy/Dockerfile", 1), ("deploy/docker-compose.yml", 2)] {
        let contents = std::fs::read_to_string(root.join(file)).unwrap();
        let configs: Vec<&str> = contents
            .split("\"--config\", \"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap())
            .collect();
        assert!(
            configs.len() >= least,
            "{file}: expected {least} --config, found {configs:?}"
        );
        for config in configs {
            let path = root.join(config);
            assert!(
                path.is_file(),
                "{file} runs --config {config}, which is not in the repository"
            );
            let output = wirewatch(&["check", "--config", path.to_str().unwrap()]);
            assert!(
                output.status.success(),
                "{file}: {config} does not validate: {}",
                text(&output.stderr)
            );
        }
    }
}
