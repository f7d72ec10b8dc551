// KubeGmsa.Native.cs: the module's interop with the gmsa_ffi native library (P/Invoke).
// Loaded by KubeGmsa.psm1 with `Add-Type -Path`; C# 5 only (what Windows PowerShell 5.1's
// Add-Type compiles; the test suite builds it with `mcs -langversion:5`). No reference to
// System.Management.Automation, so that the same file runs under Mono in the tests.
using System;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace KubeGmsa
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void ProgressFn(IntPtr userData, IntPtr eventJson, UIntPtr eventLen);

    public delegate int OperationFn(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);

    public static class Native
    {
        // Bumped whenever this file changes what KubeGmsa.psm1 relies on: a module finding an
        // older Native type already loaded in the process says so instead of failing oddly.
        public const int InteropVersion = 2;

        // GMSA_STATUS_CANCELLED of gmsa.h.
        public const int StatusCancelled = 105;

        const string Lib = "gmsa_ffi";

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint gmsa_abi_version();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr gmsa_version();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_context_new(out IntPtr ctx);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void gmsa_context_free(IntPtr ctx);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_context_set_progress(IntPtr ctx, ProgressFn callback, IntPtr userData);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_cancel(IntPtr ctx);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern void gmsa_buffer_free(IntPtr buffer, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_lint(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_convert(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_add_credspec(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_remove_credspec(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_bind_role(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_unbind_role(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_get(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_check_access(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_create_secret(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_install_webhook(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_uninstall_webhook(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_status(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_rotate_certs(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_new_credspec(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_check_account(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_create_account(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_doctor(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        public static extern int gmsa_attach(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);

        static OperationFn Find(string entryPoint)
        {
            switch (entryPoint)
            {
                case "gmsa_lint": return gmsa_lint;
                case "gmsa_convert": return gmsa_convert;
                case "gmsa_add_credspec": return gmsa_add_credspec;
                case "gmsa_remove_credspec": return gmsa_remove_credspec;
                case "gmsa_bind_role": return gmsa_bind_role;
                case "gmsa_unbind_role": return gmsa_unbind_role;
                case "gmsa_get": return gmsa_get;
                case "gmsa_check_access": return gmsa_check_access;
                case "gmsa_create_secret": return gmsa_create_secret;
                case "gmsa_install_webhook": return gmsa_install_webhook;
                case "gmsa_uninstall_webhook": return gmsa_uninstall_webhook;
                case "gmsa_status": return gmsa_status;
                case "gmsa_rotate_certs": return gmsa_rotate_certs;
                case "gmsa_new_credspec": return gmsa_new_credspec;
                case "gmsa_check_account": return gmsa_check_account;
                case "gmsa_create_account": return gmsa_create_account;
                case "gmsa_doctor": return gmsa_doctor;
                case "gmsa_attach": return gmsa_attach;
                default: return null;
            }
        }

        // ------------------------------------------------------------ loading the library

        // The full path of the library this process loaded, once Load has run; a .NET
        // process cannot unload it, so every later import of the module must use the same.
        public static string LoadedPath;
        static IntPtr handle;

        [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true, EntryPoint = "LoadLibraryW")]
        static extern IntPtr LoadLibraryW(string path);
        [DllImport("libdl.so.2", EntryPoint = "dlopen")]
        static extern IntPtr DlopenLinux(string path, int flags);
        [DllImport("libdl.so.2", EntryPoint = "dlerror")]
        static extern IntPtr DlerrorLinux();

        // Make `DllImport("gmsa_ffi")` resolve to the library at `path` (absolute): on .NET
        // (PowerShell 7) through NativeLibrary's resolver, on .NET Framework (Windows
        // PowerShell) by loading it first so that Windows finds it by name, on Mono by dlopen
        // (the library's soname is libgmsa_ffi.so).
        public static void Load(string path)
        {
            if (LoadedPath != null)
            {
                if (!string.Equals(LoadedPath, path, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("this process already loaded the KubeGmsa native library " + LoadedPath + " (version " + Version() + "); a process cannot unload it, so " + path + " cannot be loaded too. Start a new PowerShell session and import one KubeGmsa module only.");
                }
                return;
            }
            if (TryNativeLibrary(path))
            {
                LoadedPath = path;
                return;
            }
            if (Environment.OSVersion.Platform == PlatformID.Win32NT)
            {
                handle = LoadLibraryW(path);
                if (handle == IntPtr.Zero)
                {
                    throw new DllNotFoundException("cannot load " + path + " (Windows error " + Marshal.GetLastWin32Error() + "); if it was downloaded, run Unblock-File on the module folder");
                }
            }
            else
            {
                handle = DlopenLinux(path, 2 | 0x100); // RTLD_NOW | RTLD_GLOBAL
                if (handle == IntPtr.Zero)
                {
                    throw new DllNotFoundException("cannot load " + path + ": " + Marshal.PtrToStringAnsi(DlerrorLinux()));
                }
            }
            LoadedPath = path;
        }

        // .NET Core 3+ only, found by reflection (C# 5 and .NET Framework lack the type).
        static bool TryNativeLibrary(string path)
        {
            Type nl = Type.GetType("System.Runtime.InteropServices.NativeLibrary");
            Type resolverType = Type.GetType("System.Runtime.InteropServices.DllImportResolver");
            if (nl == null || resolverType == null) { return false; }
            MethodInfo load = nl.GetMethod("Load", new Type[] { typeof(string) });
            MethodInfo set = nl.GetMethod("SetDllImportResolver");
            if (load == null || set == null) { return false; }
            try
            {
                handle = (IntPtr)load.Invoke(null, new object[] { path });
                MethodInfo resolve = typeof(Native).GetMethod("Resolve", BindingFlags.NonPublic | BindingFlags.Static);
                set.Invoke(null, new object[] { typeof(Native).Assembly, Delegate.CreateDelegate(resolverType, resolve) });
                return true;
            }
            catch (TargetInvocationException e)
            {
                if (e.InnerException is NotImplementedException || e.InnerException is PlatformNotSupportedException) { return false; }
                throw e.InnerException;
            }
        }

        static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
        {
            return name == Lib ? handle : IntPtr.Zero;
        }

        // ------------------------------------------------------------ calls

        static string ReadUtf8(IntPtr ptr, UIntPtr len)
        {
            if (ptr == IntPtr.Zero) { return null; }
            int n = checked((int)len.ToUInt64());
            byte[] bytes = new byte[n];
            Marshal.Copy(ptr, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        // A new context (gmsa_context_new), or an exception with the status.
        public static IntPtr NewContext()
        {
            IntPtr ctx;
            int status = gmsa_context_new(out ctx);
            if (status != 0 || ctx == IntPtr.Zero) { throw new InvalidOperationException("gmsa_context_new failed with status " + status); }
            return ctx;
        }

        public static string Version()
        {
            return Marshal.PtrToStringAnsi(gmsa_version());
        }

        // Reads a bool property named Stopping (PowerShell's PSCmdlet.Stopping) by reflection.
        static Func<bool> StopProbe(object stopSource)
        {
            if (stopSource == null) { return null; }
            PropertyInfo p = stopSource.GetType().GetProperty("Stopping");
            if (p == null || p.PropertyType != typeof(bool)) { throw new ArgumentException("stopSource has no bool Stopping property"); }
            return delegate { return (bool)p.GetValue(stopSource, null); };
        }

        // Call one operation with a JSON request; returns its status and the outcome (or
        // error) JSON. Progress events (JSON) go to onProgress on this thread, during the call.
        // While stopSource.Stopping is true (Ctrl+C in PowerShell) the call is cancelled
        // (gmsa_cancel), and so it is when onProgress throws; that exception is returned in
        // callbackError (it must never unwind into native code).
        public static int Call(IntPtr ctx, string entryPoint, string requestJson, Action<string> onProgress, object stopSource, out string response, out Exception callbackError)
        {
            OperationFn fn = Find(entryPoint);
            if (fn == null) { throw new ArgumentException("the native library has no operation " + entryPoint); }
            byte[] request = new UTF8Encoding(false).GetBytes(requestJson);
            Exception failed = null;
            ProgressFn callback = null;
            if (onProgress != null)
            {
                callback = delegate (IntPtr userData, IntPtr eventJson, UIntPtr eventLen)
                {
                    if (failed != null) { return; }
                    try { onProgress(ReadUtf8(eventJson, eventLen)); }
                    catch (Exception e) { failed = e; gmsa_cancel(ctx); }
                };
            }
            Func<bool> stopping = StopProbe(stopSource);
            Timer watcher = null;
            if (stopping != null)
            {
                // Re-sent on every tick while stopping, so that a stop just before the call
                // starts watching is not lost.
                watcher = new Timer(delegate { try { if (stopping()) { gmsa_cancel(ctx); } } catch (Exception) { } }, null, 100, 100);
            }
            gmsa_context_set_progress(ctx, callback, IntPtr.Zero);
            IntPtr outBuf = IntPtr.Zero;
            UIntPtr outLen = UIntPtr.Zero;
            int status;
            try
            {
                status = fn(ctx, request, new UIntPtr((uint)request.Length), out outBuf, out outLen);
            }
            catch (EntryPointNotFoundException)
            {
                // Exports are added without a new ABI version: a library older than this
                // module lacks the newer ones.
                throw new InvalidOperationException("the native library (" + Version() + ") has no entry point " + entryPoint + ": it is older than this module. Reinstall the module so that both come from one release.");
            }
            finally
            {
                if (watcher != null) { watcher.Dispose(); }
                gmsa_context_set_progress(ctx, null, IntPtr.Zero);
                GC.KeepAlive(callback);
                Array.Clear(request, 0, request.Length);
            }
            try { response = ReadUtf8(outBuf, outLen); }
            finally { gmsa_buffer_free(outBuf, outLen); }
            callbackError = failed;
            return status;
        }
    }
}
