# test_abi.py: the C ABI of kubectl-gmsa driven from Python ctypes, loading the native library
# from a KubeGmsa module folder (bin/<rid>/) exactly as KubeGmsa.psm1 does, against the real
# test cluster. Run by crates/gmsa-ffi/tests/abi.rs (plain, and under valgrind), which sets:
#   GMSA_MODULE_DIR       a KubeGmsa module folder with the built library in bin/<rid>/
#   GMSA_TEST_KUBECONFIG  the test cluster's kubeconfig (contexts admin, alice, bob, carol)
#   GMSA_TEST_NAMESPACE   a fresh namespace with service accounts `app` and `web`
#   GMSA_TEST_CA          the API server's CA certificate
#   GMSA_TEST_SERVER      the API server's URL
#   GMSA_EXAMPLES         the repository's examples/ folder
#   GMSA_CLI              the built kubectl-gmsa binary (to compare error wording)
#   GMSA_VERSION          the workspace version
#   GMSA_TEST_DC_*        the test Samba DC's facts (scripts/test-dc.sh ensure): LDAPS URL, CA
#                         file, sam.ldb, principals and their passwords (which this suite
#                         hands to the library only inside JSON requests)

import base64
import ctypes
import json
import os
import platform
import re
import socket
import subprocess
import threading
import time

import pytest

ENV = os.environ
KUBECONFIG = ENV["GMSA_TEST_KUBECONFIG"]
NAMESPACE = ENV["GMSA_TEST_NAMESPACE"]
EXAMPLE = os.path.join(ENV["GMSA_EXAMPLES"], "credspecs", "webapp01-domain-joined.json")

# Status codes, as numbered in gmsa.h.
OK, INTERNAL, INVALID_INPUT, NOT_FOUND, CONFLICT, FORBIDDEN = 0, 1, 2, 3, 4, 5
UNREACHABLE, TIMEOUT, CONFIG, UNAUTHORIZED, UNHEALTHY = 6, 7, 8, 9, 10
NULL_POINTER, INVALID_UTF8, INVALID_JSON, PANIC, REQUEST_TOO_LARGE = 100, 101, 102, 103, 104
MAX_REQUEST_LEN = 16 * 1024 * 1024

OPERATIONS = [
    "gmsa_lint",
    "gmsa_convert",
    "gmsa_add_credspec",
    "gmsa_remove_credspec",
    "gmsa_bind_role",
    "gmsa_unbind_role",
    "gmsa_get",
    "gmsa_check_access",
    "gmsa_create_secret",
    "gmsa_install_webhook",
    "gmsa_uninstall_webhook",
    "gmsa_status",
    "gmsa_rotate_certs",
    "gmsa_new_credspec",
    "gmsa_check_account",
    "gmsa_create_account",
]


# ------------------------------------------------------------------ loading, as the module does


def runtime_id():
    """The bin/<rid> folder name, computed as Get-KubeGmsaRuntimeId does."""
    system = {"Windows": "win", "Linux": "linux", "Darwin": "osx"}[platform.system()]
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}[machine]
    return f"{system}-{arch}"


def library_path():
    rid = runtime_id()
    name = {"win": "gmsa_ffi.dll", "osx": "libgmsa_ffi.dylib"}.get(rid.split("-")[0], "libgmsa_ffi.so")
    return os.path.join(ENV["GMSA_MODULE_DIR"], "bin", rid, name)


def module_abi_version():
    text = open(os.path.join(ENV["GMSA_MODULE_DIR"], "KubeGmsa.psm1"), encoding="utf-8").read()
    return int(re.search(r"^\$script:AbiVersion = (\d+)", text, re.M).group(1))


PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t)
OUT_PTR = ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8))


def load():
    lib = ctypes.CDLL(library_path())
    lib.gmsa_abi_version.restype = ctypes.c_uint32
    lib.gmsa_abi_version.argtypes = []
    lib.gmsa_version.restype = ctypes.c_char_p
    lib.gmsa_version.argtypes = []
    lib.gmsa_context_new.restype = ctypes.c_int32
    lib.gmsa_context_new.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    lib.gmsa_context_free.restype = None
    lib.gmsa_context_free.argtypes = [ctypes.c_void_p]
    lib.gmsa_context_set_progress.restype = ctypes.c_int32
    lib.gmsa_context_set_progress.argtypes = [ctypes.c_void_p, PROGRESS_FN, ctypes.c_void_p]
    lib.gmsa_buffer_free.restype = None
    lib.gmsa_buffer_free.argtypes = [ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t]
    for op in OPERATIONS:
        f = getattr(lib, op)
        f.restype = ctypes.c_int32
        f.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, OUT_PTR, ctypes.POINTER(ctypes.c_size_t)]
    return lib


LIB = load()


@pytest.fixture(scope="module")
def ctx():
    c = ctypes.c_void_p()
    assert LIB.gmsa_context_new(ctypes.byref(c)) == OK
    assert c.value
    yield c
    LIB.gmsa_context_free(c)


def call_raw(ctx, op, data, length=None):
    """Call an operation with raw bytes; return (status, body text), freeing the buffer."""
    out = ctypes.POINTER(ctypes.c_uint8)()
    out_len = ctypes.c_size_t(12345)
    n = len(data) if length is None else length
    status = getattr(LIB, op)(ctx, data, n, ctypes.byref(out), ctypes.byref(out_len))
    assert out, f"{op} must write a buffer on every call (status {status})"
    body = ctypes.string_at(out, out_len.value)
    assert ctypes.string_at(ctypes.addressof(out.contents) + out_len.value, 1) == b"\0", "a NUL follows the buffer"
    LIB.gmsa_buffer_free(out, out_len.value)
    return status, body.decode("utf-8")


def call(ctx, op, request):
    status, body = call_raw(ctx, op, json.dumps(request).encode("utf-8"))
    return status, json.loads(body)


def target(context="admin", kubeconfig=KUBECONFIG, **extra):
    return {"target": {"kubeconfig": kubeconfig, "context": context, **extra}}


_counter = [0]


def unique(prefix):
    _counter[0] += 1
    return f"{prefix}-{os.getpid()}-{_counter[0]}"


def kubectl(*args):
    return subprocess.run(["kubectl", "--kubeconfig", KUBECONFIG, "--context", "admin", *args], capture_output=True, text=True)


def expect_error(status, body, code, kind):
    assert status == code, body
    assert body["status"] == code and body["kind"] == kind, body
    assert body["message"], body


# ------------------------------------------------------------------ housekeeping exports


def test_abi_version_matches_the_module():
    assert LIB.gmsa_abi_version() == module_abi_version() == 1


def test_version_is_the_workspace_version():
    assert LIB.gmsa_version().decode() == ENV["GMSA_VERSION"]


def test_context_new_rejects_null_out():
    assert LIB.gmsa_context_new(None) == NULL_POINTER


def test_frees_accept_null_twice():
    LIB.gmsa_context_free(None)
    LIB.gmsa_context_free(None)
    LIB.gmsa_buffer_free(None, 0)
    LIB.gmsa_buffer_free(None, 0)
    LIB.gmsa_buffer_free(None, 17)


def test_many_contexts_come_and_go():
    for _ in range(5):
        c = ctypes.c_void_p()
        assert LIB.gmsa_context_new(ctypes.byref(c)) == OK
        status, body = call(c, "gmsa_lint", {"source": {"credspec_file": EXAMPLE}})
        assert status == OK, body
        LIB.gmsa_context_free(c)


def test_set_progress_rejects_null_context():
    assert LIB.gmsa_context_set_progress(None, PROGRESS_FN(), None) == NULL_POINTER


# ------------------------------------------------------------------ pointers, bytes, JSON


def test_null_out_parameters_write_nothing(ctx):
    out = ctypes.POINTER(ctypes.c_uint8)()
    out_len = ctypes.c_size_t(7)
    req = b"{}"
    assert LIB.gmsa_lint(ctx, req, len(req), None, ctypes.byref(out_len)) == NULL_POINTER
    assert out_len.value == 7
    assert LIB.gmsa_lint(ctx, req, len(req), ctypes.byref(out), None) == NULL_POINTER
    assert not out


@pytest.mark.parametrize("op", OPERATIONS)
def test_null_context_is_an_error_with_a_message(op):
    status, body = call_raw(None, op, b"{}")
    expect_error(status, json.loads(body), NULL_POINTER, "null_pointer")
    assert "context" in json.loads(body)["message"]


@pytest.mark.parametrize("op", OPERATIONS)
def test_null_request_is_an_error(ctx, op):
    out = ctypes.POINTER(ctypes.c_uint8)()
    out_len = ctypes.c_size_t()
    status = getattr(LIB, op)(ctx, None, 10, ctypes.byref(out), ctypes.byref(out_len))
    body = json.loads(ctypes.string_at(out, out_len.value))
    LIB.gmsa_buffer_free(out, out_len.value)
    expect_error(status, body, NULL_POINTER, "null_pointer")


@pytest.mark.parametrize("op", OPERATIONS)
def test_invalid_utf8_is_refused(ctx, op):
    status, body = call_raw(ctx, op, b'{"credspec_name": "\xff\xfe"}')
    expect_error(status, json.loads(body), INVALID_UTF8, "invalid_utf8")
    assert "offset 19" in json.loads(body)["message"]


@pytest.mark.parametrize("op", OPERATIONS)
def test_truncated_json_is_refused(ctx, op):
    # A request of fields the operation has (requests refuse unknown fields), cut short.
    if op in ("gmsa_lint", "gmsa_convert"):
        fields = {"source": {"credspec_file": "webapp01.json"}}
    elif op in ("gmsa_new_credspec", "gmsa_check_account", "gmsa_create_account"):
        fields = {"account": "webapp01", "directory": {"server": "ldaps://127.0.0.1"}}
    else:
        fields = target()
    full = json.dumps(fields).encode()
    status, body = call_raw(ctx, op, full, length=len(full) - 5)
    body = json.loads(body)
    expect_error(status, body, INVALID_JSON, "invalid_json")
    assert "not complete JSON" in body["message"]


def test_garbage_and_wrong_shapes_are_invalid_json(ctx):
    for data in [b"", b"not json", b"{} trailing", b"[1, 2]", b'{"source": 5}', b'{"overwrite": "yes"}']:
        status, body = call_raw(ctx, "gmsa_add_credspec", data)
        expect_error(status, json.loads(body), INVALID_JSON, "invalid_json")


def test_a_mistyped_password_is_not_echoed(ctx):
    status, body = call_raw(ctx, "gmsa_create_secret", b'{"secret_name": "s", "password": 98765432123}')
    expect_error(status, json.loads(body), INVALID_JSON, "invalid_json")
    assert "98765432123" not in body


def test_oversized_request_is_refused_before_reading(ctx):
    big = b" " * (MAX_REQUEST_LEN + 1)
    status, body = call_raw(ctx, "gmsa_lint", big)
    body = json.loads(body)
    expect_error(status, body, REQUEST_TOO_LARGE, "request_too_large")
    assert str(MAX_REQUEST_LEN + 1) in body["message"]


def test_a_request_at_the_limit_is_read(ctx):
    doc = json.dumps({"source": {"credspec_file": EXAMPLE}}).encode()
    data = doc + b" " * (MAX_REQUEST_LEN - len(doc))
    status, body = call_raw(ctx, "gmsa_lint", data)
    assert status == OK, body


# ------------------------------------------------------------------ local operations


def test_lint_of_a_good_credential_spec(ctx):
    status, body = call(ctx, "gmsa_lint", {"source": {"credspec_file": EXAMPLE}})
    assert status == OK, body
    assert body["errors"] == 0


def test_lint_findings_are_an_outcome_not_an_error(ctx):
    spec = json.load(open(EXAMPLE))
    del spec["DomainJoinConfig"]["Sid"]
    status, body = call(ctx, "gmsa_lint", {"source": {"credspec": json.dumps(spec)}})
    assert status == OK, body
    assert body["errors"] >= 1 and any("Sid" in f["path"] for f in body["findings"]), body


def test_convert_gives_the_resource(ctx):
    status, body = call(ctx, "gmsa_convert", {"source": {"credspec_file": EXAMPLE}, "credspec_name": "webapp01"})
    assert status == OK, body
    r = body["resource"]
    assert r["apiVersion"] == "windows.k8s.io/v1" and r["kind"] == "GMSACredentialSpec"
    assert r["metadata"]["name"] == "webapp01"
    assert r["credspec"]["DomainJoinConfig"] == json.load(open(EXAMPLE))["DomainJoinConfig"]


def cli(*args):
    return subprocess.run([ENV["GMSA_CLI"], *args], capture_output=True, text=True, env={**ENV, "NO_COLOR": "1"})


def cli_words(body):
    words = f"error: {body['message']}\n"
    if body.get("hint"):
        words += f"hint: {body['hint']}\n"
    return words


def test_errors_read_as_the_cli_prints_them(ctx, tmp_path):
    # A missing file (invalid input).
    missing = str(tmp_path / "missing.json")
    status, body = call(ctx, "gmsa_convert", {"source": {"credspec_file": missing}})
    expect_error(status, body, INVALID_INPUT, "invalid_input")
    run = cli("convert", missing)
    assert run.returncode == INVALID_INPUT
    assert run.stderr == cli_words(body)
    # A missing kubeconfig (config).
    kc = str(tmp_path / "no-kubeconfig")
    status, body = call(ctx, "gmsa_get", target(kubeconfig=kc))
    expect_error(status, body, CONFIG, "config")
    run = cli("get", "--kubeconfig", kc)
    assert run.returncode == CONFIG
    assert run.stderr == cli_words(body)
    # A credential spec that does not exist (not found).
    absent = unique("absent")
    status, body = call(ctx, "gmsa_get", {**target(), "name": absent})
    expect_error(status, body, NOT_FOUND, "not_found")
    run = cli("get", absent, "--kubeconfig", KUBECONFIG, "--context", "admin")
    assert run.returncode == NOT_FOUND
    assert run.stderr == cli_words(body)
    # An identity without permissions (forbidden).
    name = unique("abi-words")
    request = {**target("alice"), "source": {"credspec_file": EXAMPLE}, "credspec_name": name, "service_accounts": ["app"], "namespace": NAMESPACE}
    status, body = call(ctx, "gmsa_add_credspec", request)
    expect_error(status, body, FORBIDDEN, "forbidden")
    run = cli("add-credspec", "--credspec-file", EXAMPLE, "--credspec-name", name, "--service-account", "app", "-n", NAMESPACE, "--kubeconfig", KUBECONFIG, "--context", "alice")
    assert run.returncode == FORBIDDEN
    # The reads run in parallel, so which denied read is named first may differ per run.
    any_read = lambda text: re.sub(r"failed to read [^:]+: [^\n]*", "failed to read <object>: <denied>", text)
    assert any_read(run.stderr) == any_read(cli_words(body))


# ------------------------------------------------------------------ the cluster: success


def make_events():
    events, threads = [], []

    def on_event(_user, data, length):
        events.append(json.loads(ctypes.string_at(data, length)))
        threads.append(threading.get_ident())

    return events, threads, PROGRESS_FN(on_event)


def test_add_check_get_bind_unbind_remove(ctx):
    name = unique("abi")
    role = f"{name}-user"
    events, threads, cb = make_events()
    assert LIB.gmsa_context_set_progress(ctx, cb, None) == OK
    try:
        status, body = call(
            ctx,
            "gmsa_add_credspec",
            {
                **target(),
                "source": {"credspec_file": EXAMPLE},
                "credspec_name": name,
                "cluster_role_name": role,
                "service_accounts": ["app"],
                "namespace": NAMESPACE,
            },
        )
    finally:
        assert LIB.gmsa_context_set_progress(ctx, PROGRESS_FN(), None) == OK
    assert status == OK, body
    assert [(o["kind"], o["action"]) for o in body["objects"]] == [
        ("GMSACredentialSpec", "created"),
        ("ClusterRole", "created"),
        ("RoleBinding", "created"),
    ]
    # Progress came, on this thread, during the call.
    assert any(e["event"] == "step" for e in events), events
    assert [e["name"] for e in events if e["event"] == "object"][0] == name
    assert set(threads) == {threading.get_ident()}

    # Visible with kubectl, and usable per LocalSubjectAccessReview (kubectl's own and ours).
    got = kubectl("get", "gmsacredentialspecs.windows.k8s.io", name, "-o", "json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["credspec"]["DomainJoinConfig"]["MachineAccountName"] == "webapp01"
    can = kubectl("auth", "can-i", "use", f"gmsacredentialspecs.windows.k8s.io/{name}", "-n", NAMESPACE, f"--as=system:serviceaccount:{NAMESPACE}:app")
    assert can.stdout.strip() == "yes", can
    status, body = call(ctx, "gmsa_check_access", {**target(), "credspec_name": name, "service_accounts": ["app", "web"], "namespace": NAMESPACE})
    assert status == OK, body
    assert {a["service_account"]: a["allowed"] for a in body["answers"]} == {f"{NAMESPACE}:app": True, f"{NAMESPACE}:web": False}
    # A "no" names the ClusterRole that grants use (bind-role to it), found by its annotation.
    assert body["cluster_role"] == role, body

    # get lists it with who may use it.
    status, body = call(ctx, "gmsa_get", {**target(), "name": name})
    assert status == OK, body
    (item,) = body["items"]
    assert item["account"] == "webapp01" and item["cluster_roles"] == [role]
    assert item["service_accounts"] == [f"{NAMESPACE}:app"] and item["managed"] is True

    # bind web, then unbind it.
    status, body = call(ctx, "gmsa_bind_role", {**target(), "cluster_role_name": role, "service_accounts": ["web"], "namespace": NAMESPACE})
    assert status == OK, body
    assert [o["action"] for o in body["objects"]] == ["created"]
    status, body = call(ctx, "gmsa_check_access", {**target(), "credspec_name": name, "service_accounts": ["web"], "namespace": NAMESPACE})
    assert body["answers"][0]["allowed"] is True, body
    status, body = call(ctx, "gmsa_unbind_role", {**target(), "cluster_role_name": role, "service_accounts": ["web"], "namespace": NAMESPACE})
    assert status == OK and [o["action"] for o in body["objects"]] == ["deleted"], body
    status, body = call(ctx, "gmsa_check_access", {**target(), "credspec_name": name, "service_accounts": ["web"], "namespace": NAMESPACE})
    assert body["answers"][0]["allowed"] is False, body

    # Adding again with a different service account set is idempotent for what exists.
    status, body = call(
        ctx,
        "gmsa_add_credspec",
        {**target(), "source": {"credspec_file": EXAMPLE}, "credspec_name": name, "cluster_role_name": role, "service_accounts": ["app"], "namespace": NAMESPACE},
    )
    assert status == OK and {o["action"] for o in body["objects"]} == {"unchanged"}, body

    # remove takes everything away.
    status, body = call(ctx, "gmsa_remove_credspec", {**target(), "credspec_name": name, "cluster_role_name": role, "namespace": NAMESPACE})
    assert status == OK, body
    assert sorted(o["kind"] for o in body["objects"] if o["action"] == "deleted") == ["ClusterRole", "GMSACredentialSpec", "RoleBinding"]
    gone = kubectl("get", "gmsacredentialspecs.windows.k8s.io", name)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_server_dry_run_writes_nothing(ctx):
    name = unique("abi-dry")
    status, body = call(
        ctx,
        "gmsa_add_credspec",
        {**target(), "source": {"credspec_file": EXAMPLE}, "credspec_name": name, "service_accounts": ["app"], "namespace": NAMESPACE, "dry_run": "server"},
    )
    assert status == OK, body
    assert body["dry_run"] == "server" and len(body["objects"]) == 3
    assert kubectl("get", "gmsacredentialspecs.windows.k8s.io", name).returncode != 0


def test_create_secret_never_returns_the_password(ctx):
    name = unique("abi-secret")
    password = "Sup3r-Secret-Value-" + name
    status, text = call_raw(
        ctx,
        "gmsa_create_secret",
        json.dumps({**target(), "secret_name": name, "namespace": NAMESPACE, "domain": "contoso.com", "username": "reader", "password": password}).encode(),
    )
    assert status == OK, text
    assert password not in text
    body = json.loads(text)
    assert body["objects"][0]["object"]["data"]["password"] == "REDACTED"
    got = kubectl("get", "secret", name, "-n", NAMESPACE, "-o", "jsonpath={.data.username}")
    assert got.returncode == 0 and got.stdout == "cmVhZGVy", got  # base64 of "reader"


# ------------------------------------------------------------------ the cluster: each error class


def test_invalid_input(ctx):
    status, body = call(ctx, "gmsa_add_credspec", {**target(), "source": {"credspec_file": EXAMPLE}, "credspec_name": "Not_A_Name"})
    expect_error(status, body, INVALID_INPUT, "invalid_input")


def test_not_found(ctx):
    status, body = call(ctx, "gmsa_get", {**target(), "name": unique("absent")})
    expect_error(status, body, NOT_FOUND, "not_found")
    assert body["hint"]
    status, body = call(ctx, "gmsa_remove_credspec", {**target(), "credspec_name": unique("absent")})
    expect_error(status, body, NOT_FOUND, "not_found")


def test_conflict(ctx):
    name = unique("abi-conflict")
    base = {**target(), "source": {"credspec_file": EXAMPLE}, "credspec_name": name, "service_accounts": ["app"], "namespace": NAMESPACE}
    status, body = call(ctx, "gmsa_add_credspec", base)
    assert status == OK, body
    other = json.load(open(EXAMPLE))
    other["DomainJoinConfig"]["MachineAccountName"] = "WebApp02"
    status, body = call(ctx, "gmsa_add_credspec", {**base, "source": {"credspec": other}})
    expect_error(status, body, CONFLICT, "conflict")
    assert "--overwrite" in body["hint"]
    status, body = call(ctx, "gmsa_add_credspec", {**base, "source": {"credspec": other}, "overwrite": True})
    assert status == OK and body["objects"][0]["action"] == "configured", body
    assert call(ctx, "gmsa_remove_credspec", {**target(), "credspec_name": name, "namespace": NAMESPACE})[0] == OK


def test_forbidden(ctx):
    name = unique("abi-forbidden")
    status, body = call(
        ctx,
        "gmsa_add_credspec",
        {**target("alice"), "source": {"credspec_file": EXAMPLE}, "credspec_name": name, "service_accounts": ["app"], "namespace": NAMESPACE},
    )
    expect_error(status, body, FORBIDDEN, "forbidden")
    assert kubectl("get", "gmsacredentialspecs.windows.k8s.io", name).returncode != 0


def write_kubeconfig(tmp_path, server, token):
    # JSON is YAML: a kubeconfig without a YAML library.
    kc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server, "certificate-authority": ENV["GMSA_TEST_CA"]}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(kc))
    return str(path)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable(ctx, tmp_path):
    kc = write_kubeconfig(tmp_path, f"https://127.0.0.1:{free_port()}", "t")
    status, body = call(ctx, "gmsa_get", {"target": {"kubeconfig": kc, "request_timeout_secs": 5}})
    expect_error(status, body, UNREACHABLE, "unreachable")


def test_timeout(ctx, tmp_path):
    # A server that accepts the connection and never answers.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        kc = write_kubeconfig(tmp_path, f"https://127.0.0.1:{listener.getsockname()[1]}", "t")
        status, body = call(ctx, "gmsa_get", {"target": {"kubeconfig": kc, "request_timeout_secs": 1}})
        expect_error(status, body, TIMEOUT, "timeout")
    finally:
        listener.close()


def test_config(ctx, tmp_path):
    status, body = call(ctx, "gmsa_get", target(kubeconfig=str(tmp_path / "none")))
    expect_error(status, body, CONFIG, "config")
    status, body = call(ctx, "gmsa_get", target(context="no-such-context"))
    expect_error(status, body, CONFIG, "config")


def test_unauthorized(ctx, tmp_path):
    kc = write_kubeconfig(tmp_path, ENV["GMSA_TEST_SERVER"], "not-a-valid-token")
    status, body = call(ctx, "gmsa_get", {"target": {"kubeconfig": kc}})
    expect_error(status, body, UNAUTHORIZED, "unauthorized")
    assert body["hint"]


def test_one_context_serves_several_threads_at_once(ctx):
    # ctypes releases the GIL during the call, so these calls overlap in the library.
    results = []

    def worker():
        results.append(call(ctx, "gmsa_check_access", {**target(), "credspec_name": "any", "service_accounts": ["app"], "namespace": NAMESPACE}))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    # Each thread gets the whole answer: a credential spec that does not exist is not found
    # (issue 13: it used to be answered "may not use").
    for status, body in results:
        assert status == NOT_FOUND, body
        assert body["kind"] == "not_found", body
        assert body["message"] == "gMSA credential spec any does not exist", body


# ------------------------------------------------------------------ the webhook
#
# Every install here has its own name and namespace and failure policy Ignore, so that no
# other test's pods (the cluster is shared) are ever blocked by it.


def get_json(*args):
    """`kubectl get ... -o json` as admin; None when it does not exist."""
    r = kubectl("get", *args, "-o", "json")
    if r.returncode != 0:
        assert "NotFound" in r.stderr, r.stderr
        return None
    return json.loads(r.stdout)


def webhook_objects(name, ns):
    """(kubectl get args) of what install-webhook makes, the namespace and CRD aside."""
    return [
        ("serviceaccount", name, "-n", ns),
        ("clusterrole", name),
        ("clusterrolebinding", name),
        ("secret", f"{name}-ca", "-n", ns),
        ("secret", f"{name}-tls", "-n", ns),
        ("service", name, "-n", ns),
        ("deployment", name, "-n", ns),
        ("mutatingwebhookconfiguration", name),
        ("validatingwebhookconfiguration", name),
    ]


def cert_serial(name, ns):
    secret = get_json("secret", f"{name}-tls", "-n", ns)
    pem = base64.b64decode(secret["data"]["tls.crt"])
    out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem, capture_output=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode().strip().split("=", 1)[1].lower()


def test_webhook_install_status_rotate_uninstall(ctx):
    name, ns = unique("abi-wh"), unique("abi-whns")
    base = {**target(), "name": name, "namespace": ns}
    try:
        # A server dry run writes nothing and shows no private key.
        status, text = call_raw(ctx, "gmsa_install_webhook", json.dumps({**base, "failure_policy": "Ignore", "wait": False, "dry_run": "server"}).encode())
        assert status == OK, text
        body = json.loads(text)
        assert body["dry_run"] == "server"
        assert {"Deployment", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Secret"} <= {o["kind"] for o in body["objects"]}
        assert "PRIVATE KEY" not in text
        for obj in webhook_objects(name, ns):
            assert get_json(*obj) is None, f"{obj} was written by a dry run"
        assert get_json("namespace", ns) is None

        # The install, without waiting (no controllers run here: no pod ever starts).
        events, _threads, cb = make_events()
        assert LIB.gmsa_context_set_progress(ctx, cb, None) == OK
        try:
            status, text = call_raw(ctx, "gmsa_install_webhook", json.dumps({**base, "failure_policy": "Ignore", "wait": False}).encode())
        finally:
            assert LIB.gmsa_context_set_progress(ctx, PROGRESS_FN(), None) == OK
        assert status == OK, text
        assert "PRIVATE KEY" not in text
        body = json.loads(text)
        assert body["dry_run"] == "none" and body["name"] == name and body["namespace"] == ns
        assert "ready" not in body, "no wait, no readiness"
        assert body["certificate"]["issued"] is True
        installed = body["certificate"]["serial"]
        assert {o["action"] for o in body["objects"] if o["kind"] != "CustomResourceDefinition"} == {"created"}, body["objects"]
        assert any(e["event"] == "object" and e["kind"] == "Deployment" for e in events), events

        # What the API server holds.
        for obj in webhook_objects(name, ns):
            assert get_json(*obj) is not None, f"{obj} was not written"
        deploy = get_json("deployment", name, "-n", ns)
        assert deploy["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kubectl-gmsa", deploy["metadata"]
        assert deploy["spec"]["replicas"] == 2
        for kind in ["mutatingwebhookconfiguration", "validatingwebhookconfiguration"]:
            cfg = get_json(kind, name)
            for hook in cfg["webhooks"]:
                assert hook["failurePolicy"] == "Ignore"
                assert hook["clientConfig"]["service"]["name"] == name
                assert hook["clientConfig"]["service"]["namespace"] == ns
                assert hook["clientConfig"]["caBundle"]
        assert cert_serial(name, ns) == installed.lower().replace(":", "")

        # The status: everything present, not healthy (no ready pod), which is a result.
        status, body = call(ctx, "gmsa_status", base)
        assert status == OK, body
        assert body["name"] == name and body["namespace"] == ns
        assert body["healthy"] is False and body["problems"], body
        assert body["crd"]["present"] is True and "v1" in body["crd"]["served_versions"]
        assert body["deployment"]["present"] is True
        assert (body["deployment"]["ready"], body["deployment"]["wanted"]) == (0, 2)
        assert {w["failure_policy"] for w in body["webhooks"]} == {"Ignore"}
        assert all(w["present"] and w["ca_bundle_verifies"] for w in body["webhooks"]), body["webhooks"]
        assert body["certificate"]["present"] is True and body["certificate"]["days_left"] > 300

        # Rotate the serving certificate (and the CA), without waiting.
        status, text = call_raw(ctx, "gmsa_rotate_certs", json.dumps({**base, "new_ca": True, "wait": False}).encode())
        assert status == OK, text
        assert "PRIVATE KEY" not in text
        body = json.loads(text)
        assert body["certificate"]["issued"] is True and body["certificate"]["new_ca"] is True
        rotated = body["certificate"]["serial"]
        assert rotated != installed
        assert body["old_ca_dropped"] is False, "the old CA stays until the pods serve the new certificate"
        assert cert_serial(name, ns) == rotated.lower().replace(":", "")
        deploy = get_json("deployment", name, "-n", ns)
        assert deploy["spec"]["template"]["metadata"]["annotations"]["kubectl-gmsa/certificate-serial"] == rotated
        status, body = call(ctx, "gmsa_status", base)
        assert status == OK and all(w["ca_bundle_verifies"] for w in body["webhooks"]), body

        # Uninstall: a server dry run first (nothing goes), then for real.
        status, body = call(ctx, "gmsa_uninstall_webhook", {**base, "dry_run": "server"})
        assert status == OK, body
        assert body["dry_run"] == "server" and "Deployment" in {o["kind"] for o in body["objects"] if o["action"] == "deleted"}
        for obj in webhook_objects(name, ns):
            assert get_json(*obj) is not None, f"{obj} was deleted by a dry run"
        status, body = call(ctx, "gmsa_uninstall_webhook", base)
        assert status == OK, body
        deleted = {o["kind"] for o in body["objects"] if o["action"] == "deleted"}
        assert {"Deployment", "Service", "Secret", "ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} <= deleted, body
        assert "CustomResourceDefinition" not in deleted, "the CRD goes only with purge"
        for obj in webhook_objects(name, ns):
            if obj[0] in ("clusterrole", "clusterrolebinding", "mutatingwebhookconfiguration", "validatingwebhookconfiguration"):
                assert get_json(*obj) is None, f"{obj} is still there"
        assert get_json("crd", "gmsacredentialspecs.windows.k8s.io") is not None
        # The status says it is gone (as a result, not an error).
        status, body = call(ctx, "gmsa_status", base)
        assert status == OK and body["healthy"] is False and body["deployment"]["present"] is False, body
    finally:
        call(ctx, "gmsa_uninstall_webhook", base)


def test_webhook_bad_input_gives_the_documented_status_and_writes_nothing(ctx):
    name, ns = unique("abi-whbad"), unique("abi-whbadns")
    base = {**target(), "name": name, "namespace": ns, "wait": False, "failure_policy": "Ignore"}
    for bad in [{"name": "Bad_Name"}, {"replicas": 0}, {"cert_validity_days": 0}, {"node_selector": ["no-equals-sign"]}, {"image": "not an image"}]:
        status, body = call(ctx, "gmsa_install_webhook", {**base, **bad})
        expect_error(status, body, INVALID_INPUT, "invalid_input")
    # A value that is not one of the enum's words: invalid JSON, and never quoted back.
    status, text = call_raw(ctx, "gmsa_install_webhook", json.dumps({**base, "failure_policy": "Sometimes-Secret"}).encode())
    expect_error(status, json.loads(text), INVALID_JSON, "invalid_json")
    assert "Sometimes-Secret" not in text
    rotate = {**target(), "name": name, "namespace": ns, "wait": False}  # only rotate's fields: requests refuse unknown ones
    status, body = call(ctx, "gmsa_rotate_certs", {**rotate, "cert_validity_days": 5})
    expect_error(status, body, INVALID_INPUT, "invalid_input")
    status, body = call(ctx, "gmsa_uninstall_webhook", {**target(), "name": name, "namespace": ns, "force": True})
    expect_error(status, body, INVALID_INPUT, "invalid_input")
    assert "--purge" in body["message"]
    status, body = call(ctx, "gmsa_status", {**target(), "name": "Bad_Name"})
    expect_error(status, body, INVALID_INPUT, "invalid_input")
    # An identity that may not install: forbidden, and nothing written.
    status, body = call(ctx, "gmsa_install_webhook", {**base, **target("alice")})
    expect_error(status, body, FORBIDDEN, "forbidden")
    # Nothing to rotate where nothing is installed.
    status, body = call(ctx, "gmsa_rotate_certs", {**target(), "name": name, "namespace": ns, "wait": False})
    expect_error(status, body, NOT_FOUND, "not_found")
    # A kubeconfig that does not exist.
    for op in ["gmsa_install_webhook", "gmsa_uninstall_webhook", "gmsa_status", "gmsa_rotate_certs"]:
        request = {"target": {"kubeconfig": "/nonexistent/kubeconfig"}, "name": name, "namespace": ns}
        if op in ("gmsa_install_webhook", "gmsa_rotate_certs"):
            request["wait"] = False
        status, body = call(ctx, op, request)
        expect_error(status, body, CONFIG, "config")
    for obj in webhook_objects(name, ns):
        assert get_json(*obj) is None, f"{obj} was written by a refused call"
    assert get_json("namespace", ns) is None


# ------------------------------------------------------------------ Active Directory (the test Samba DC)


def dc(key):
    return ENV[f"GMSA_TEST_DC_{key}"]


def login(who):
    return dc(f"{who}_USER"), dc(f"{who}_PASSWORD")


def directory(who="ADMIN", password=None, **extra):
    user, pw = login(who)
    return {"server": dc("LDAPS_URL"), "ca_file": dc("CA"), "user": user, "password": pw if password is None else password, **extra}


def unique_account(prefix):
    """A gMSA name nobody else on this machine uses (the DC is shared): at most 15 characters."""
    assert len(prefix) <= 4
    _counter[0] += 1
    return f"{prefix}{os.getpid() % 100000:05d}{_counter[0] % 100:02d}{int(time.time() * 1000) % 10000:04d}"


def ldbsearch(filter_, *attrs):
    """Entries (attribute -> values) read straight from the DC's database with Samba's ldbsearch."""
    out = subprocess.run(["ldbsearch", "-H", dc("SAM_LDB"), "-b", dc("BASE_DN"), "-s", "sub", filter_, *attrs], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    entries, cur = [], None
    lines = []
    for line in out.stdout.splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    for line in lines:
        if line.startswith("# record"):
            cur = {}
            entries.append(cur)
        elif cur is not None and ": " in line and not line.startswith("#"):
            k, v = line.split(": ", 1)
            cur.setdefault(k, []).append(v)
    return entries


def secrets():
    """Every password of the test DC, none of which may ever come back from the library."""
    return [v for k, v in ENV.items() if k.startswith("GMSA_TEST_DC_") and k.endswith("_PASSWORD")]


def assert_no_secret(text):
    for pw in secrets():
        assert pw not in text, "a bind password came back from the library"


def check_named(body, check):
    (c,) = [c for c in body["checks"] if c["check"] == check]
    return c["status"]


def test_create_check_and_new_credspec_against_the_dc(ctx):
    name = unique_account("abi")
    # Dry run: the LDIF, nothing written.
    status, text = call_raw(ctx, "gmsa_create_account", json.dumps({"directory": directory(), "account": name, "allowed_principals": [dc("GROUP")], "dry_run": True}).encode())
    assert status == OK, text
    assert_no_secret(text)
    body = json.loads(text)
    assert body["dry_run"] is True
    assert body["account_dn"] == f"CN={name},CN=Managed Service Accounts,{dc('BASE_DN')}"
    assert f"dn: {body['account_dn']}" in body["ldif"] and "msDS-GroupMSAMembership:: " in body["ldif"]
    assert ldbsearch(f"(sAMAccountName={name}$)") == []
    # A missing gMSA is a failed check, not an error.
    status, body = call(ctx, "gmsa_check_account", {"directory": directory(), "account": name})
    assert status == OK, body
    assert body["passed"] is False and check_named(body, "exists") == "fail"

    # For real, with progress events that never carry the password.
    events, _threads, cb = make_events()
    assert LIB.gmsa_context_set_progress(ctx, cb, None) == OK
    try:
        status, text = call_raw(ctx, "gmsa_create_account", json.dumps({"directory": directory(), "account": name, "allowed_principals": [dc("GROUP")]}).encode())
    finally:
        assert LIB.gmsa_context_set_progress(ctx, PROGRESS_FN(), None) == OK
    assert status == OK, text
    assert_no_secret(text)
    assert_no_secret(json.dumps(events))
    body = json.loads(text)
    assert body["dry_run"] is False
    (entry,) = ldbsearch(f"(sAMAccountName={name}$)", "objectClass", "userAccountControl", "dNSHostName", "servicePrincipalName")
    assert entry["dn"] == [body["account_dn"]]
    assert "msDS-GroupManagedServiceAccount" in entry["objectClass"]
    assert entry["userAccountControl"] == ["4096"]
    assert entry["dNSHostName"] == [f"{name.lower()}.{dc('DNS_DOMAIN')}"]
    assert f"host/{name}" in entry["servicePrincipalName"]

    # check-account as a member of the allowed group.
    status, text = call_raw(ctx, "gmsa_check_account", json.dumps({"directory": directory("ALICE"), "account": name}).encode())
    assert status == OK, text
    assert_no_secret(text)
    body = json.loads(text)
    assert body["account"] == name and body["dn"] == entry["dn"][0]
    for c in ["exists", "unique-name", "enabled", "spn", "allowed-principals"]:
        assert check_named(body, c) == "pass", (c, body)
    assert [p[1] for p in body["allowed_principals"]] == [dc("GROUP")]

    # new-credspec: the credential spec of that gMSA, with the domain's facts.
    status, text = call_raw(ctx, "gmsa_new_credspec", json.dumps({"directory": directory("BOB"), "account": name + "$", "credspec_name": name.lower()}).encode())
    assert status == OK, text
    assert_no_secret(text)
    body = json.loads(text)
    djc = body["credspec"]["DomainJoinConfig"]
    assert djc["MachineAccountName"] == name
    assert djc["DnsName"] == dc("DNS_DOMAIN") and djc["NetBiosName"] == dc("NETBIOS")
    head = subprocess.run(["ldbsearch", "-H", dc("SAM_LDB"), "-b", dc("BASE_DN"), "-s", "base", "(objectClass=*)", "objectSid", "objectGUID"], capture_output=True, text=True).stdout
    assert f"objectSid: {djc['Sid']}\n" in head, head
    assert f"objectGUID: {djc['Guid'].lower()}\n" in head, head
    accounts = body["credspec"]["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"]
    assert {"Name": name, "Scope": dc("DNS_DOMAIN")} in accounts and {"Name": name, "Scope": dc("NETBIOS")} in accounts
    assert body["default_file_name"] == f"{dc('NETBIOS')}_{name}.json".lower()
    assert body["resource"]["kind"] == "GMSACredentialSpec" and body["resource"]["metadata"]["name"] == name.lower()

    # The same name again: conflict, nothing written.
    status, body = call(ctx, "gmsa_create_account", {"directory": directory(), "account": name, "allowed_principals": [dc("GROUP")]})
    expect_error(status, body, CONFLICT, "conflict")
    assert len(ldbsearch(f"(sAMAccountName={name}$)")) == 1


def test_new_credspec_finds_the_dc_through_the_requests_dns_server(ctx, monkeypatch):
    # $GMSA_DNS_SERVER points where nothing answers: only `directory.dns_server` can find the DC.
    monkeypatch.setenv("GMSA_DNS_SERVER", "127.0.0.1:9")
    name = unique_account("abd")
    status, body = call(ctx, "gmsa_create_account", {"directory": directory(), "account": name, "allowed_principals": [dc("GROUP")]})
    assert status == OK, body
    by_domain = directory("BOB", domain=dc("DNS_DOMAIN"), dns_server=dc("DNS_SERVER"))
    del by_domain["server"]
    status, body = call(ctx, "gmsa_new_credspec", {"directory": by_domain, "account": name})
    assert status == OK, body
    assert body["credspec"]["DomainJoinConfig"]["MachineAccountName"] == name
    # Without it, $GMSA_DNS_SERVER is asked, and the error says where it looked.
    del by_domain["dns_server"]
    status, body = call(ctx, "gmsa_new_credspec", {"directory": {**by_domain, "timeout_secs": 2}, "account": name})
    assert status in (UNREACHABLE, TIMEOUT), body
    assert "127.0.0.1:9" in body["message"], body
    # A DNS server that is not an IP address is bad input.
    status, body = call(ctx, "gmsa_new_credspec", {"directory": {**by_domain, "dns_server": "dc1.example"}, "account": name})
    expect_error(status, body, INVALID_INPUT, "invalid_input")
    assert "dc1.example" in body["message"], body


def test_a_wrong_bind_password_is_unauthorized_and_never_echoed(ctx):
    name = unique_account("abw")
    wrong = "Wrong-Bind-Password-" + name
    for op, extra in [
        ("gmsa_check_account", {}),
        ("gmsa_new_credspec", {}),
        ("gmsa_create_account", {"allowed_principals": [dc("GROUP")]}),
    ]:
        status, text = call_raw(ctx, op, json.dumps({"directory": directory(password=wrong), "account": name, **extra}).encode())
        body = json.loads(text)
        expect_error(status, body, UNAUTHORIZED, "unauthorized")
        assert wrong not in text and "Wrong-Bind" not in text, text
        assert_no_secret(text)
    assert ldbsearch(f"(sAMAccountName={name}$)") == [], "a refused bind wrote something"


def kinit(who, cache):
    """A Kerberos ticket of the test realm for `who` in the cache `cache` (the password goes on kinit's stdin)."""
    user, pw = login(who)
    principal = user.split("@")[0] + "@" + dc("REALM")
    env = {**ENV, "KRB5_CONFIG": dc("KRB5_CONFIG"), "KRB5CCNAME": cache}
    out = subprocess.run(["kinit", principal], input=pw + "\n", env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_without_a_credential_the_library_binds_with_kerberos(ctx, tmp_path, monkeypatch):
    # What the cmdlets do without -Credential: no user, no password, the caller's Kerberos ticket.
    cache = f"FILE:{tmp_path / 'ccache'}"
    kinit("ALICE", cache)
    monkeypatch.setenv("KRB5_CONFIG", dc("KRB5_CONFIG"))
    monkeypatch.setenv("KRB5CCNAME", cache)
    name = unique_account("abk")
    # ldap:// (Kerberos sealing) and ldaps:// (Kerberos inside TLS).
    for kerberos in [{"server": dc("LDAP_URL")}, {"server": dc("LDAPS_URL"), "ca_file": dc("CA")}]:
        status, text = call_raw(ctx, "gmsa_check_account", json.dumps({"directory": kerberos, "account": name}).encode())
        assert status == OK, text
        assert_no_secret(text)
        body = json.loads(text)
        assert body["bound_as"].lower().endswith("\\alice"), body
        assert check_named(body, "exists") == "fail", body
    # No ticket: unauthorized, with the hint to get one.
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'none'}")
    status, body = call(ctx, "gmsa_check_account", {"directory": {"server": dc("LDAP_URL")}, "account": name})
    expect_error(status, body, UNAUTHORIZED, "unauthorized")
    assert "kinit" in body["hint"], body


def test_directory_bad_input_gives_the_documented_status(ctx, tmp_path):
    name = unique_account("abb")
    for op in ["gmsa_check_account", "gmsa_new_credspec", "gmsa_create_account"]:
        # Not a gMSA name: refused before any network.
        status, body = call(ctx, op, {"directory": directory(), "account": "not a name!"})
        expect_error(status, body, INVALID_INPUT, "invalid_input")
        # A password in a field of the wrong type: invalid JSON that never quotes it.
        pw = login("ADMIN")[1]
        status, text = call_raw(ctx, op, json.dumps({"directory": {**directory(), "timeout_secs": pw}, "account": name}).encode())
        expect_error(status, json.loads(text), INVALID_JSON, "invalid_json")
        assert pw not in text
        status, text = call_raw(ctx, op, json.dumps({"directory": {**directory(), "password": 12345678987}, "account": name}).encode())
        expect_error(status, json.loads(text), INVALID_JSON, "invalid_json")
        assert "12345678987" not in text
        # Nobody listening.
        extra = {"allowed_principals": [dc("GROUP")]} if op == "gmsa_create_account" else {}  # requests refuse unknown fields
        status, text = call_raw(ctx, op, json.dumps({"directory": directory(server=f"ldaps://127.0.0.1:{free_port()}", timeout_secs=5), "account": name, **extra}).encode())
        expect_error(status, json.loads(text), UNREACHABLE, "unreachable")
        assert_no_secret(text)
    status, body = call(ctx, "gmsa_new_credspec", {"directory": directory(), "account": name, "plugin": {"plugin_input": "x"}})
    expect_error(status, body, INVALID_INPUT, "invalid_input")
    status, text = call_raw(ctx, "gmsa_new_credspec", json.dumps({"directory": directory(), "account": name, "plugin": {"ccg_plugin": "Secret-Plugin-Word"}}).encode())
    expect_error(status, json.loads(text), INVALID_JSON, "invalid_json")
    assert "Secret-Plugin-Word" not in text
    # A gMSA that does not exist: not found for new-credspec (a failed check for check-account).
    status, text = call_raw(ctx, "gmsa_new_credspec", json.dumps({"directory": directory(), "account": name}).encode())
    expect_error(status, json.loads(text), NOT_FOUND, "not_found")
    assert_no_secret(text)
    # A principal that does not exist: nothing written.
    status, body = call(ctx, "gmsa_create_account", {"directory": directory(), "account": name, "allowed_principals": [f"nobody{name}"]})
    expect_error(status, body, NOT_FOUND, "not_found")
    assert ldbsearch(f"(sAMAccountName={name}$)") == []
