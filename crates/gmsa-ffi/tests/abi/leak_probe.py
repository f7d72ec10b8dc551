# leak_probe.py: shows that the valgrind run of the ABI suite can fail. Loads the library from
# the module folder (as test_abi.py does), lints a credential spec, and frees the outcome
# buffer ("clean") or drops it without gmsa_buffer_free ("leak"). Run by tests/abi.rs under
# valgrind: "leak" must be reported as a definite leak, "clean" must not.
import ctypes
import gc
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import test_abi  # noqa: E402  (loads the library exactly as the suite does)

LIB = test_abi.LIB
ctx = ctypes.c_void_p()
assert LIB.gmsa_context_new(ctypes.byref(ctx)) == 0
request = json.dumps({"source": {"credspec_file": test_abi.EXAMPLE}}).encode()
out = ctypes.POINTER(ctypes.c_uint8)()
out_len = ctypes.c_size_t()
assert LIB.gmsa_lint(ctx, request, len(request), ctypes.byref(out), ctypes.byref(out_len)) == 0
if sys.argv[1] == "clean":
    LIB.gmsa_buffer_free(out, out_len.value)
else:
    # Forget the only pointer to the buffer.
    ctypes.memset(ctypes.byref(out), 0, ctypes.sizeof(out))
del out
gc.collect()
LIB.gmsa_context_free(ctx)
print("probe done:", sys.argv[1])
