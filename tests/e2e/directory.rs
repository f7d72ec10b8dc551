//! The directory commands against a real Samba AD DC: `new-credspec` field by field
//! against what Samba's own tools read from the DC's database, `create-account` then
//! `check-account`, and every connection and input error.

use gmsa_tests::dc::{dc, dc_args, gmsa_dc, strs, unique_account, Login};
use serde_json::Value;

mod dns;
mod into_the_cluster;

/// Run `kubectl gmsa CMD` with the DC flags, bound as `login`.
fn on_dc(cmd: &[&str], login: Option<Login<'_>>) -> gmsa_tests::Run {
    gmsa_dc(&strs(&dc_args(cmd, &[])), login)
}

/// `new-credspec` of `account` from `server`, trusting only `ca_file` (no other DC flags).
fn new_credspec_at(account: &str, server: &str, ca_file: &str) -> Vec<String> {
    [
        "new-credspec",
        "--account",
        account,
        "--server",
        server,
        "--ca-file",
        ca_file,
    ]
    .map(String::from)
    .to_vec()
}

/// Make a gMSA straight in the DC's database (independent of our create-account; works
/// on Samba 4.17 and 4.22): enabled, with a host/ SPN and a dNSHostName.
fn samba_gmsa(name: &str) -> String {
    let d = dc();
    let dn = d.add_gmsa(name);
    d.ldbmodify(&format!(
        "dn: {dn}\nchangetype: modify\nreplace: msDS-GroupMSAMembership\nmsDS-GroupMSAMembership:: {}\n",
        membership_of("WebHosts")
    ));
    assert_eq!(d.dn_of(&format!("{name}$")).as_deref(), Some(dn.as_str()));
    dn
}

/// `msDS-GroupMSAMembership` as Samba renders it (SDDL), read with ldbsearch.
fn membership_sddl(dn: &str) -> String {
    dc().attr(dn, "msDS-GroupMSAMembership").unwrap_or_default()
}

/// The SDDL Windows writes for one allowed principal: owner BA, rights 0xF01FF.
fn windows_membership(sid: &str) -> String {
    format!("O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;{sid})")
}

fn sid_of(sam: &str) -> String {
    let d = dc();
    d.ldbsearch(
        d.base_dn(),
        "sub",
        &format!("(sAMAccountName={sam})"),
        &["objectSid"],
    )
    .remove(0)["objectSid"][0]
        .clone()
}

fn domain_facts_from_samba() -> (String, String, String, String) {
    let d = dc();
    let head = d
        .ldbsearch(
            d.base_dn(),
            "base",
            "(objectClass=*)",
            &["objectSid", "objectGUID"],
        )
        .remove(0);
    let refs = d.ldbsearch(
        &format!("CN=Partitions,CN=Configuration,{}", d.base_dn()),
        "one",
        &format!("(nCName={})", d.base_dn()),
        &["dnsRoot", "nETBIOSName"],
    );
    let r = &refs[0];
    (
        head["objectSid"][0].clone(),
        head["objectGUID"][0].clone(),
        r["dnsRoot"][0].clone(),
        r["nETBIOSName"][0].clone(),
    )
}

#[test]
fn new_credspec_equals_what_the_dc_holds_field_by_field() {
    let d = dc();
    let name = unique_account("nc");
    let extra = unique_account("nx");
    samba_gmsa(&name);
    samba_gmsa(&extra);
    let r = on_dc(
        &[
            "new-credspec",
            "--account",
            &format!("{name}$"),
            "--additional-account",
            &extra,
        ],
        Some(d.admin()),
    );
    r.ok();
    let spec: Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    let (sid, guid, dns, netbios) = domain_facts_from_samba();
    // Forest root: the crossRef of rootDomainNamingContext (one domain here: the same).
    let djc = &spec["DomainJoinConfig"];
    assert_eq!(djc["Sid"], sid.as_str());
    assert_eq!(djc["Guid"], guid.as_str());
    assert_eq!(djc["DnsName"], dns.as_str());
    assert_eq!(djc["DnsTreeName"], dns.as_str());
    assert_eq!(djc["NetBiosName"], netbios.as_str());
    assert_eq!(djc["MachineAccountName"], name.as_str());
    assert_eq!(spec["CmsPlugins"], serde_json::json!(["ActiveDirectory"]));
    assert_eq!(
        spec["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"],
        serde_json::json!([
            {"Name": name, "Scope": dns}, {"Name": name, "Scope": netbios},
            {"Name": extra, "Scope": dns}, {"Name": extra, "Scope": netbios},
        ])
    );
    assert!(spec["ActiveDirectoryConfig"]
        .get("HostAccountConfig")
        .is_none());
    // Windows' key order.
    let keys: Vec<&String> = djc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "Sid",
            "MachineAccountName",
            "Guid",
            "DnsTreeName",
            "DnsName",
            "NetBiosName"
        ]
    );
    let top: Vec<&String> = spec.as_object().unwrap().keys().collect();
    assert_eq!(
        top,
        ["CmsPlugins", "DomainJoinConfig", "ActiveDirectoryConfig"]
    );
    // The spec passes our own lint with no findings.
    assert!(r.stderr.trim().is_empty(), "{}", r.stderr);
}

#[test]
fn new_credspec_over_starttls_with_plugin_file_and_resource() {
    let d = dc();
    let name = unique_account("st");
    samba_gmsa(&name);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spec.json");
    let a = vec![
        "new-credspec",
        "--account",
        &name,
        "--server",
        d.ldap(),
        "--ca-file",
        d.ca(),
        "--file",
        file.to_str().unwrap(),
        "--ccg-plugin",
        "azure-key-vault",
        "--plugin-input",
        "ObjectId=1;SecretUri=https://v/s",
        "--stats",
    ];
    let r = gmsa_dc(&a, Some(d.alice()));
    r.ok();
    assert!(
        r.stdout.is_empty(),
        "--file alone prints nothing: {}",
        r.stdout
    );
    // The figures the benchmark asks for: one connection, at most 5 searches.
    r.stderr_has("1 connection(s)");
    let searches: u32 = r
        .stderr
        .split(" searches")
        .next()
        .unwrap()
        .rsplit('(')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(searches <= 5, "{}", r.stderr);
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let hac = &spec["ActiveDirectoryConfig"]["HostAccountConfig"];
    assert_eq!(hac["PortableCcgVersion"], "1");
    assert_eq!(hac["PluginGUID"], "{CCC2A336-D7F3-4818-A213-272B7924213E}");
    assert_eq!(hac["PluginInput"], "ObjectId=1;SecretUri=https://v/s");

    let r = on_dc(
        &[
            "new-credspec",
            "--account",
            &name,
            "-o",
            "resource",
            "--credspec-name",
            "my-spec",
        ],
        Some(d.bob()),
    );
    r.ok();
    let res: Value = serde_yaml::from_str(&r.stdout).unwrap();
    assert_eq!(res["apiVersion"], "windows.k8s.io/v1");
    assert_eq!(res["kind"], "GMSACredentialSpec");
    assert_eq!(res["metadata"]["name"], "my-spec");
    assert_eq!(
        res["credspec"]["DomainJoinConfig"],
        spec["DomainJoinConfig"]
    );
}

fn check_json(name: &str, login: Login<'_>) -> (i32, Value) {
    let r = on_dc(&["check-account", name, "-o", "json"], Some(login));
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|_| panic!("JSON from check-account\n{}\n{}", r.stdout, r.stderr));
    (r.code, v)
}

fn status(v: &Value, check: &str) -> String {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .unwrap_or_else(|| panic!("no {check} in {v}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn create_account_then_check_account_round_trip() {
    let d = dc();
    let name = unique_account("rt");
    let create = ["create-account", &name, "--allowed-principal", "WebHosts"];
    on_dc(&create, Some(d.admin())).ok();

    // Independently: what Samba holds.
    let dn = d.dn_of(&format!("{name}$")).expect("the gMSA exists");
    assert_eq!(
        dn,
        format!("CN={name},CN=Managed Service Accounts,{}", d.base_dn())
    );
    assert_eq!(d.attr(&dn, "userAccountControl").as_deref(), Some("4096"));
    assert_eq!(
        d.attr(&dn, "dNSHostName"),
        Some(format!("{}.gmsa.test", name.to_lowercase()))
    );
    let spns = d
        .ldbsearch(&dn, "base", "(objectClass=*)", &["servicePrincipalName"])
        .remove(0)["servicePrincipalName"]
        .clone();
    assert!(spns.contains(&format!("host/{name}")), "{spns:?}");
    assert_eq!(
        membership_sddl(&dn),
        windows_membership(&sid_of("WebHosts"))
    );

    // check-account as a member of WebHosts: everything passes, the password is readable.
    let (code, v) = check_json(&name, d.alice());
    if d.serves_managed_passwords() {
        assert_eq!(code, 0, "{v:#}");
        assert_eq!(v["passed"], true);
    }
    for c in [
        "exists",
        "unique-name",
        "enabled",
        "spn",
        "dns-host-name",
        "delegation",
        "allowed-principals",
    ] {
        assert_eq!(status(&v, c), "pass", "{c}: {v:#}");
    }
    assert_eq!(v["allowed_principals"][0][1], "WebHosts");
    if d.serves_managed_passwords() {
        assert_eq!(status(&v, "password-readable"), "pass", "{v:#}");
        assert_eq!(status(&v, "kds-root-key"), "pass", "{v:#}");
        // As a non-member: the password is not readable, and check-account says so.
        let (code, v) = check_json(&name, d.bob());
        assert_eq!(code, 0, "a warning is not a failure: {v:#}");
        assert_eq!(status(&v, "password-readable"), "warn", "{v:#}");
        // As an admin the KDS root keys are listed.
        let (_, v) = check_json(&name, d.admin());
        assert_eq!(status(&v, "kds-root-key"), "pass", "{v:#}");
    } else {
        eprintln!(
            "Samba {} does not serve msDS-ManagedPassword: password tests skipped",
            d.var("GMSA_TEST_DC_SAMBA_VERSION")
        );
    }
    // Never the value itself.
    assert!(!v.to_string().contains("msDS-ManagedPassword:"), "{v}");

    // A second create with the same name is refused and writes nothing.
    let r = on_dc(&create, Some(d.admin()));
    r.fails();
    assert_eq!(r.code, 4, "{}", r.stderr);
    r.stderr_has("taken");
}

#[test]
fn create_account_with_a_new_group_of_hosts() {
    let d = dc();
    let name = unique_account("gr");
    let group = format!("{name}H");
    on_dc(
        &[
            "create-account",
            &name,
            "--create-group",
            &group,
            "--member",
            "alice",
        ],
        Some(d.admin()),
    )
    .ok();
    let gdn = d.dn_of(&group).expect("the group exists");
    let members = d
        .ldbsearch(&gdn, "base", "(objectClass=*)", &["member"])
        .remove(0)["member"]
        .clone();
    assert_eq!(members, vec![format!("CN=alice,CN=Users,{}", d.base_dn())]);
    let dn = d.dn_of(&format!("{name}$")).unwrap();
    assert_eq!(membership_sddl(&dn), windows_membership(&sid_of(&group)));
    if d.serves_managed_passwords() {
        let (_, v) = check_json(&name, d.alice());
        assert_eq!(status(&v, "password-readable"), "pass", "{v:#}");
    }
}

/// A gMSA allowed only to a group with no members: nobody can retrieve its password, so
/// allowed-principals warns and says how to add the hosts. The bound identity is shown as
/// `DOMAIN\\user`, not as the raw LDAP authzId (`u:DOMAIN\\user`).
#[test]
fn check_account_warns_about_an_allowed_group_without_members() {
    let d = dc();
    let name = unique_account("eg");
    let group = format!("{name}E");
    on_dc(
        &["create-account", &name, "--create-group", &group],
        Some(d.admin()),
    )
    .ok();
    let gdn = d.dn_of(&group).expect("the group exists");
    let members = d
        .ldbsearch(&gdn, "base", "(objectClass=*)", &["member"])
        .remove(0)
        .get("member")
        .cloned()
        .unwrap_or_default();
    assert!(members.is_empty(), "the group has members: {members:?}");

    let (_, v) = check_json(&name, d.admin());
    assert_eq!(status(&v, "allowed-principals"), "warn", "{v:#}");
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "allowed-principals")
        .unwrap();
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains("nobody") && message.contains(&group),
        "{message}"
    );
    let fix = check["fix"].as_str().unwrap();
    assert!(fix.contains(&format!("Add-ADGroupMember {group}")), "{fix}");
    let bound = v["bound_as"].as_str().unwrap();
    assert!(!bound.starts_with("u:") && bound.contains('\\'), "{bound}");

    // The text report: `as DOMAIN\\Administrator` and the warning with its fix.
    let r = on_dc(&["check-account", &name], Some(d.admin()));
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains(&format!(" as {bound}")) && !first.contains(" as u:"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("WARN  allowed-principals")),
        "{}",
        r.stdout
    );
    r.stdout_has("Add-ADGroupMember");

    // Once the group has a member, the check passes.
    d.ldbmodify(&format!(
        "dn: {gdn}\nchangetype: modify\nadd: member\nmember: CN=alice,CN=Users,{}\n",
        d.base_dn()
    ));
    let (_, v) = check_json(&name, d.admin());
    assert_eq!(status(&v, "allowed-principals"), "pass", "{v:#}");
}

#[test]
fn create_account_dry_run_writes_nothing() {
    let d = dc();
    let name = unique_account("dr");
    let r = on_dc(
        &[
            "create-account",
            &name,
            "--allowed-principal",
            "WebHosts",
            "--dry-run",
        ],
        Some(d.admin()),
    );
    r.ok();
    r.stdout_has(&format!(
        "dn: CN={name},CN=Managed Service Accounts,{}",
        d.base_dn()
    ));
    r.stdout_has("msDS-GroupMSAMembership:: ");
    assert!(r.stdout.contains("(A;;0xf01ff;;;S-1-5-21-"), "{}", r.stdout);
    assert_eq!(d.dn_of(&format!("{name}$")), None);
}

#[test]
fn check_account_reports_missing_spn_duplicate_name_and_disabled() {
    let d = dc();
    let name = unique_account("bk");
    let dn = samba_gmsa(&name);
    let (code, v) = check_json(&name, d.admin());
    assert_eq!(status(&v, "spn"), "pass", "{v:#}");
    if d.serves_managed_passwords() {
        assert_eq!(code, 0, "{v:#}");
    }

    // Remove the SPN, disable it, and add a user called NAME (without $).
    d.ldbmodify(&format!(
        "dn: {dn}\nchangetype: modify\ndelete: servicePrincipalName\n-\nreplace: userAccountControl\nuserAccountControl: 4098\n"
    ));
    d.ldbadd(&format!(
        "dn: CN={name}-user,CN=Users,{}\nobjectClass: user\nsAMAccountName: {name}\n",
        d.base_dn()
    ));
    let (code, v) = check_json(&name, d.admin());
    assert_eq!(code, 10, "{v:#}");
    assert_eq!(v["passed"], false);
    assert_eq!(status(&v, "spn"), "fail", "{v:#}");
    assert_eq!(status(&v, "enabled"), "fail", "{v:#}");
    assert_eq!(status(&v, "unique-name"), "fail", "{v:#}");
    let unique = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "unique-name")
        .unwrap();
    assert!(
        unique["message"]
            .as_str()
            .unwrap()
            .contains(&format!("CN={name}-user")),
        "{unique}"
    );
    assert!(unique["fix"].is_string());

    // The text form says the same.
    let r = on_dc(&["check-account", &name], Some(d.admin()));
    assert_eq!(r.code, 10);
    r.stdout_has("FAIL  spn");
}

/// Regression (issue 14): a gMSA with no `msDS-GroupMSAMembership` at all (New-ADServiceAccount
/// without -PrincipalsAllowedToRetrieveManagedPassword). Samba 4.22 fails the whole search when
/// msDS-ManagedPassword is asked for on such an account; check-account used to fail with
/// "failed to look up accounts ... no right to view attribute". Now: a failed
/// allowed-principals check, exit 10, for an admin and for a plain user alike.
#[test]
fn check_account_on_a_gmsa_nobody_may_read_reports_allowed_principals() {
    let d = dc();
    let name = unique_account("np");
    let dn = format!("CN={name},CN=Managed Service Accounts,{}", d.base_dn());
    d.ldbadd(&format!(
        "dn: {dn}\nobjectClass: msDS-GroupManagedServiceAccount\nsAMAccountName: {name}$\ndNSHostName: {}.gmsa.test\nuserAccountControl: 4096\nmsDS-ManagedPasswordInterval: 30\nservicePrincipalName: host/{name}\n",
        name.to_lowercase()
    ));
    assert_eq!(d.attr(&dn, "msDS-GroupMSAMembership"), None);
    for login in [d.admin(), d.alice()] {
        let (code, v) = check_json(&name, login);
        assert_eq!(code, 10, "{v:#}");
        assert_eq!(v["passed"], false);
        assert_eq!(status(&v, "exists"), "pass", "{v:#}");
        assert_eq!(status(&v, "allowed-principals"), "fail", "{v:#}");
        let allowed = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "allowed-principals")
            .unwrap();
        assert!(
            allowed["message"]
                .as_str()
                .unwrap()
                .contains("msDS-GroupMSAMembership is not set"),
            "{allowed}"
        );
        assert!(
            allowed["fix"]
                .as_str()
                .unwrap()
                .contains("-PrincipalsAllowedToRetrieveManagedPassword"),
            "{allowed}"
        );
        // Either behaviour of the DC (attribute left out, or the search refused) is a warning.
        assert_eq!(status(&v, "password-readable"), "warn", "{v:#}");
        assert!(v["allowed_principals"].as_array().unwrap().is_empty());
    }
    // The text form: the failing check and its fix, no error.
    let r = on_dc(&["check-account", &name], Some(d.admin()));
    assert_eq!(r.code, 10, "{}\n{}", r.stdout, r.stderr);
    r.stdout_has("FAIL  allowed-principals");
    assert!(
        !r.stderr.contains("failed to look up accounts"),
        "{}",
        r.stderr
    );
}

#[test]
fn errors_are_clear_and_write_nothing() {
    let d = dc();
    let name = unique_account("er");
    samba_gmsa(&name);
    let bad_pw = Login {
        user: d.admin().user,
        password: "not-the-password",
    };
    // (what, args, login, exit code, text in the message)
    type Case<'a> = (&'a str, Vec<String>, Option<Login<'a>>, i32, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "unknown account",
            dc_args(&["new-credspec", "--account", "nosuchacct1"], &[]),
            Some(d.admin()),
            3,
            "no gMSA named \"nosuchacct1\"",
        ),
        (
            "a user, not a gMSA",
            dc_args(&["new-credspec", "--account", "alice"], &[]),
            Some(d.admin()),
            2,
            "is not a group managed service account",
        ),
        (
            "wrong password",
            dc_args(&["new-credspec", "--account", &name], &[]),
            Some(bad_pw),
            9,
            "invalid credentials",
        ),
        (
            "untrusted certificate",
            new_credspec_at(&name, d.ldaps(), d.var("GMSA_TEST_DC_OTHER_CA")),
            Some(d.admin()),
            6,
            "not issued by a trusted CA",
        ),
        (
            "hostname mismatch",
            new_credspec_at(&name, "ldaps://localhost", d.ca()),
            Some(d.admin()),
            6,
            "not valid for the name \"localhost\"",
        ),
        (
            // ldap:// with --user always does StartTLS: with an untrusted CA it fails, never falls back to a plain bind.
            "no plain simple bind",
            new_credspec_at(&name, d.ldap(), d.var("GMSA_TEST_DC_OTHER_CA")),
            Some(d.admin()),
            6,
            "TLS verification failed",
        ),
        (
            "unreachable",
            new_credspec_at(&name, "ldaps://127.0.0.1:1", d.ca()),
            Some(d.admin()),
            6,
            "connection refused",
        ),
    ];
    for (what, a, login, code, text) in cases {
        let r = gmsa_dc(&strs(&a), login);
        assert_eq!(r.code, code, "{what}: {}", r.stderr);
        assert!(r.stderr.contains(text), "{what}: {}", r.stderr);
        assert!(
            r.stderr.contains("hint:"),
            "{what} has a hint: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{what}: {}", r.stdout);
        assert!(
            !r.stderr.contains(d.admin().password),
            "{what} leaks the password"
        );
    }

    // A create-account that fails (wrong password; unknown principal) writes nothing.
    let fresh = unique_account("en");
    assert_eq!(
        on_dc(
            &["create-account", &fresh, "--allowed-principal", "WebHosts"],
            Some(bad_pw)
        )
        .code,
        9
    );
    let r = on_dc(
        &[
            "create-account",
            &fresh,
            "--create-group",
            &format!("{fresh}G"),
            "--allowed-principal",
            "NoSuchGroup",
        ],
        Some(d.admin()),
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    r.stderr_has("NoSuchGroup");
    assert_eq!(d.dn_of(&format!("{fresh}$")), None);
    assert_eq!(d.dn_of(&format!("{fresh}G")), None);

    // Insufficient rights: a plain user may not create accounts.
    let r = on_dc(
        &["create-account", &fresh, "--allowed-principal", "WebHosts"],
        Some(d.alice()),
    );
    assert_eq!(r.code, 5, "{}", r.stderr);
    r.stderr_has("insufficient rights");
    assert_eq!(d.dn_of(&format!("{fresh}$")), None);

    // No password at all and no terminal: a clear error, nothing asked.
    let mut a = dc_args(&["new-credspec", "--account", &name], &[]);
    a.extend(["--user".to_string(), "x@gmsa.test".to_string()]);
    let r = gmsa_dc(&strs(&a), None);
    // Missing input (exit 2), not an unusable kubeconfig (8): issue 13.
    assert_eq!(r.code, 2, "{}", r.stderr);
    r.stderr_has("GMSA_LDAP_PASSWORD");
    r.stderr_has("--password-stdin");
}

#[test]
fn kerberos_binds_sealed_and_over_tls_give_the_same_spec() {
    let d = dc();
    let name = unique_account("kb");
    samba_gmsa(&name);
    d.ldbmodify(&format!(
        "dn: {}\nchangetype: modify\nreplace: msDS-GroupMSAMembership\nmsDS-GroupMSAMembership:: {}\n",
        d.dn_of(&format!("{name}$")).unwrap(),
        membership_of("WebHosts")
    ));
    let simple = gmsa_dc(
        &strs(&dc_args(&["new-credspec", "--account", &name], &[])),
        Some(d.admin()),
    );
    simple.ok();
    let (_keep, cache) = gmsa_tests::dc::kinit(d.alice());
    // ldap:// with Kerberos: GSSAPI sealing, no TLS.
    let sealed = gmsa_tests::dc::gmsa_krb(
        &["new-credspec", "--account", &name, "--server", d.ldap()],
        &cache,
    );
    sealed.ok();
    // ldaps:// with Kerberos: GSSAPI inside TLS.
    let tls = gmsa_tests::dc::gmsa_krb(
        &[
            "new-credspec",
            "--account",
            &name,
            "--server",
            d.ldaps(),
            "--ca-file",
            d.ca(),
        ],
        &cache,
    );
    tls.ok();
    assert_eq!(sealed.stdout, simple.stdout);
    assert_eq!(tls.stdout, simple.stdout);

    // The sealed connection is encrypted: a member of WebHosts reads the password.
    let r = gmsa_tests::dc::gmsa_krb(
        &["check-account", &name, "--server", d.ldap(), "-o", "json"],
        &cache,
    );
    let v: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}\n{}", r.stdout, r.stderr));
    assert!(
        v["bound_as"].as_str().unwrap().ends_with("\\alice"),
        "{v:#}"
    );
    if d.serves_managed_passwords() {
        assert_eq!(status(&v, "password-readable"), "pass", "{v:#}");
    }

    // No ticket: Unauthorized, with a hint to kinit.
    let empty = tempfile::tempdir().unwrap();
    let none = format!("FILE:{}", empty.path().join("none").display());
    let r = gmsa_tests::dc::gmsa_krb(
        &["new-credspec", "--account", &name, "--server", d.ldap()],
        &none,
    );
    assert_eq!(r.code, 9, "{}", r.stderr);
    r.stderr_has("kinit");
    assert!(r.stdout.is_empty());
}

/// `msDS-GroupMSAMembership` allowing one group, built by Samba's own Python (not our codec).
fn membership_of(group: &str) -> String {
    let d = dc();
    let sid = d
        .ldbsearch(
            d.base_dn(),
            "sub",
            &format!("(sAMAccountName={group})"),
            &["objectSid"],
        )
        .remove(0)["objectSid"][0]
        .clone();
    let script = format!(
        "import base64\nfrom samba.ndr import ndr_pack\nfrom samba.dcerpc import security\nsd = security.descriptor.from_sddl('O:BAD:(A;;0xf01ff;;;{sid})', security.dom_sid('{sid}'))\nprint(base64.b64encode(ndr_pack(sd)).decode())"
    );
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .output()
        .expect("run /usr/bin/python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
