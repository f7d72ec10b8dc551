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

import ctypes
import json
import os
import platform
import re
import socket
import subprocess
import threading

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
    full = json.dumps({**target(), "credspec_name": "x"}).encode()
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
    for status, body in results:
        assert status == OK, body
        assert body["answers"] == [{"service_account": f"{NAMESPACE}:app", "allowed": False}]
