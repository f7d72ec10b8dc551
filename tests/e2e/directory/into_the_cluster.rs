//! A credential spec read from the real DC goes into the real test cluster: through
//! `add-credspec` and as the `-o resource` document applied as is, every field kept.

use super::*;

/// End to end: a credential spec read from the DC goes into the test cluster, once
/// through `add-credspec` and once as the `-o resource` document applied as is.
#[tokio::test]
async fn new_credspec_from_the_dc_goes_into_the_cluster() {
    use kube::api::{Patch, PatchParams};

    let d = dc();
    let name = unique_account("kc");
    samba_gmsa(&name);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.json"));
    on_dc(
        &[
            "new-credspec",
            "--account",
            &name,
            "--file",
            file.to_str().unwrap(),
        ],
        Some(d.admin()),
    )
    .ok();
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();

    gmsa_tests::install_crd().await;
    let ns = gmsa_tests::namespace(&["app"]).await;
    let res_name = gmsa_tests::unique("dc-spec");
    let role = gmsa_tests::unique("dc-role");
    gmsa_tests::gmsa(&[
        "add-credspec",
        "--credspec-file",
        file.to_str().unwrap(),
        "--credspec-name",
        &res_name,
        "--cluster-role-name",
        &role,
        "-n",
        &ns,
        "--service-account",
        "app",
    ])
    .ok();
    let api = gmsa_tests::credspec_api(&gmsa_tests::admin().await);
    let stored = serde_json::to_value(api.get(&res_name).await.unwrap()).unwrap();
    assert_eq!(stored["credspec"], spec, "the cluster keeps every field");
    let r = gmsa_tests::gmsa(&[
        "check-access",
        &res_name,
        "-n",
        &ns,
        "--service-account",
        "app",
    ]);
    r.ok();

    // -o resource, applied as kubectl apply would (server-side apply of the document).
    let res_name2 = gmsa_tests::unique("dc-res");
    let r = on_dc(
        &[
            "new-credspec",
            "--account",
            &name,
            "-o",
            "resource",
            "--credspec-name",
            &res_name2,
        ],
        Some(d.admin()),
    );
    r.ok();
    let doc: Value = serde_yaml::from_str(&r.stdout).unwrap();
    api.patch(
        &res_name2,
        &PatchParams::apply("gmsa-tests"),
        &Patch::Apply(&doc),
    )
    .await
    .expect("the resource applies");
    let stored = serde_json::to_value(api.get(&res_name2).await.unwrap()).unwrap();
    assert_eq!(stored["credspec"], spec);
}
