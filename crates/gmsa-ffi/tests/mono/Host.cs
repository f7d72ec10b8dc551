// Host.cs: a test host that drives the PowerShell module's own interop (KubeGmsa.Native.cs,
// compiled together with this file by `mcs -langversion:5`) under Mono, for tests/mono.rs.
// It reads one command per line on stdin and answers each with one line on stdout:
//   load <path>                       -> "ok" after Native.Load(path) (or "error <b64 message>")
//   abi                               -> "abi <n> <version>"
//   call <entry> <b64 json> [progress] [stop-after-ms N] [throw-in-progress]
//                                     -> "status <n> <b64 response> <events> <b64 events\n> <callback error type or ->"
//   free-nulls                        -> "ok" after gmsa_buffer_free(NULL, 0) and gmsa_context_free(NULL)
//   cancel-null                       -> "status <n>" of gmsa_cancel(NULL)
//   quit                              -> frees the context, "bye"
using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using KubeGmsa;

public class Stopper
{
    volatile bool stopping;
    public bool Stopping { get { return stopping; } }
    public void Stop() { stopping = true; }
}

public static class Host
{
    static string B64(string s) { return Convert.ToBase64String(Encoding.UTF8.GetBytes(s ?? "")); }
    static string Unb64(string s) { return Encoding.UTF8.GetString(Convert.FromBase64String(s)); }

    public static int Main(string[] args)
    {
        IntPtr ctx = IntPtr.Zero;
        string line;
        while ((line = Console.In.ReadLine()) != null)
        {
            string[] w = line.Split(' ');
            try
            {
                switch (w[0])
                {
                    case "load":
                        Native.Load(w[1]);
                        if (ctx == IntPtr.Zero) { ctx = Native.NewContext(); }
                        Console.WriteLine("ok");
                        break;
                    case "abi":
                        Console.WriteLine("abi " + Native.gmsa_abi_version() + " " + Native.Version());
                        break;
                    case "call":
                        Call(ctx, w);
                        break;
                    case "free-nulls":
                        Native.gmsa_buffer_free(IntPtr.Zero, UIntPtr.Zero);
                        Native.gmsa_context_free(IntPtr.Zero);
                        Console.WriteLine("ok");
                        break;
                    case "cancel-null":
                        Console.WriteLine("status " + Native.gmsa_cancel(IntPtr.Zero));
                        break;
                    case "quit":
                        Native.gmsa_context_free(ctx);
                        Console.WriteLine("bye");
                        return 0;
                    default:
                        Console.WriteLine("error " + B64("unknown command " + w[0]));
                        break;
                }
            }
            catch (Exception e)
            {
                Console.WriteLine("error " + B64(e.GetType().Name + ": " + e.Message));
            }
            Console.Out.Flush();
        }
        return 0;
    }

    static void Call(IntPtr ctx, string[] w)
    {
        string entry = w[1];
        string json = Unb64(w[2]);
        bool progress = false, throwInProgress = false;
        int stopAfter = -1;
        for (int i = 3; i < w.Length; i++)
        {
            if (w[i] == "progress") { progress = true; }
            else if (w[i] == "throw-in-progress") { throwInProgress = true; }
            else if (w[i] == "stop-after-ms") { stopAfter = int.Parse(w[++i]); }
        }
        List<string> events = new List<string>();
        Action<string> onProgress = null;
        if (progress || throwInProgress)
        {
            onProgress = delegate (string e)
            {
                events.Add(e);
                if (throwInProgress) { throw new InvalidOperationException("the progress handler failed"); }
            };
        }
        Stopper stopper = null;
        Timer timer = null;
        if (stopAfter >= 0)
        {
            stopper = new Stopper();
            timer = new Timer(delegate { stopper.Stop(); }, null, stopAfter, Timeout.Infinite);
        }
        string response;
        Exception callbackError;
        int status = Native.Call(ctx, entry, json, onProgress, stopper, out response, out callbackError);
        if (timer != null) { timer.Dispose(); }
        Console.WriteLine("status " + status + " " + B64(response) + " " + events.Count + " " + B64(string.Join("\n", events.ToArray())) + " " + (callbackError == null ? "-" : callbackError.GetType().Name));
    }
}
