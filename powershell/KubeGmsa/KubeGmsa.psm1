# KubeGmsa.psm1: the KubeGmsa module. Loads the gmsa_ffi native library for this OS and
# architecture from bin/<rid>/, refuses a library of another ABI version, declares its entry
# points (P/Invoke through Add-Type), and defines the cmdlets. Every cmdlet builds the JSON
# request of one core operation, calls its entry point, and returns the outcome as objects.

Set-StrictMode -Version 3.0

# The ABI version this module is written for (GMSA_ABI_VERSION in gmsa.h).
$script:AbiVersion = 1

# ------------------------------------------------------------------ loader (private)

function Get-KubeGmsaRuntimeId {
    # The runtime identifier of this process: the folder under bin/ to load from. The
    # process architecture counts (a 32-bit PowerShell cannot load a 64-bit library).
    if ($PSVersionTable.PSEdition -eq 'Desktop') {
        # .NET Framework may predate RuntimeInformation; Windows PowerShell runs on Windows only.
        if ([Environment]::Is64BitProcess) { $arch = 'x64' } else { $arch = 'x86' }
        if ($env:PROCESSOR_ARCHITECTURE -eq 'ARM64') { $arch = 'arm64' }
        return "win-$arch"
    }
    $arch = [System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture.ToString().ToLowerInvariant()
    if ($IsWindows) {
        $os = 'win'
    } elseif ($IsMacOS) {
        $os = 'osx'
    } elseif ($IsLinux) {
        $os = 'linux'
    } else {
        throw 'KubeGmsa supports Windows, Linux and macOS only.'
    }
    return "$os-$arch"
}

function Get-KubeGmsaLibraryPath {
    # The full path of the native library for this machine, or a terminating error saying
    # what is missing.
    $rid = Get-KubeGmsaRuntimeId
    switch -Wildcard ($rid) {
        'win-*' { $file = 'gmsa_ffi.dll' }
        'osx-*' { $file = 'libgmsa_ffi.dylib' }
        default { $file = 'libgmsa_ffi.so' }
    }
    $supported = @('win-x64', 'linux-x64', 'linux-arm64', 'osx-x64', 'osx-arm64')
    if ($supported -notcontains $rid) {
        throw "KubeGmsa has no native library for $rid (supported: $($supported -join ', '))."
    }
    $path = Join-Path (Join-Path (Join-Path $PSScriptRoot 'bin') $rid) $file
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        throw "KubeGmsa cannot find its native library $path. Reinstall the module, or build it with 'cargo build --release -p gmsa-ffi' and copy target/release/$file there."
    }
    return (Resolve-Path -LiteralPath $path).ProviderPath
}

# The P/Invoke declarations. @@LIBRARY@@ becomes the absolute path of the library, which
# DllImport loads directly on .NET Framework and .NET alike. C# 5 only (Windows PowerShell).
$script:NativeSource = @'
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace KubeGmsa
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void ProgressFn(IntPtr userData, IntPtr eventJson, UIntPtr eventLen);

    public delegate int OperationFn(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);

    public static class Native
    {
        const string Lib = @"@@LIBRARY@@";

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

        static string ReadUtf8(IntPtr ptr, UIntPtr len)
        {
            if (ptr == IntPtr.Zero) { return null; }
            int n = checked((int)len.ToUInt64());
            byte[] bytes = new byte[n];
            Marshal.Copy(ptr, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        public static string Version()
        {
            return Marshal.PtrToStringAnsi(gmsa_version());
        }

        // Call one operation with a JSON request; returns its status and the outcome (or
        // error) JSON. Progress events (JSON) go to onProgress on this thread, during the call.
        public static int Call(IntPtr ctx, string entryPoint, string requestJson, Action<string> onProgress, out string response)
        {
            OperationFn fn = Find(entryPoint);
            if (fn == null) { throw new ArgumentException("the native library has no operation " + entryPoint); }
            byte[] request = new UTF8Encoding(false).GetBytes(requestJson);
            ProgressFn callback = null;
            if (onProgress != null)
            {
                callback = delegate (IntPtr userData, IntPtr eventJson, UIntPtr eventLen)
                {
                    // An exception must never unwind into native code.
                    try { onProgress(ReadUtf8(eventJson, eventLen)); } catch (Exception) { }
                };
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
                gmsa_context_set_progress(ctx, null, IntPtr.Zero);
                GC.KeepAlive(callback);
                Array.Clear(request, 0, request.Length);
            }
            try { response = ReadUtf8(outBuf, outLen); }
            finally { gmsa_buffer_free(outBuf, outLen); }
            return status;
        }
    }
}
'@

function Initialize-KubeGmsaNative {
    # Declare the entry points once per process, check the ABI version, and make this
    # session's context.
    if (-not ('KubeGmsa.Native' -as [type])) {
        $library = Get-KubeGmsaLibraryPath
        Add-Type -TypeDefinition ($script:NativeSource.Replace('@@LIBRARY@@', $library)) -Language CSharp
    }
    $abi = [KubeGmsa.Native]::gmsa_abi_version()
    if ($abi -ne $script:AbiVersion) {
        throw "KubeGmsa $($MyInvocation.MyCommand.Module.Version) needs native ABI version $($script:AbiVersion), but its library has version $abi ($([KubeGmsa.Native]::Version())). Reinstall the module so that both come from one release."
    }
    $ctx = [IntPtr]::Zero
    $status = [KubeGmsa.Native]::gmsa_context_new([ref]$ctx)
    if ($status -ne 0) {
        throw "KubeGmsa could not start its native runtime (status $status)."
    }
    $script:Context = $ctx
}

Initialize-KubeGmsaNative
$ExecutionContext.SessionState.Module.OnRemove = {
    [KubeGmsa.Native]::gmsa_context_free($script:Context)
    $script:Context = [IntPtr]::Zero
}

# ------------------------------------------------------------------ helpers (private)

$script:ErrorCategories = @{
    invalid_input     = [System.Management.Automation.ErrorCategory]::InvalidArgument
    not_found         = [System.Management.Automation.ErrorCategory]::ObjectNotFound
    conflict          = [System.Management.Automation.ErrorCategory]::ResourceExists
    forbidden         = [System.Management.Automation.ErrorCategory]::PermissionDenied
    unreachable       = [System.Management.Automation.ErrorCategory]::ConnectionError
    timeout           = [System.Management.Automation.ErrorCategory]::OperationTimeout
    config            = [System.Management.Automation.ErrorCategory]::InvalidData
    unauthorized      = [System.Management.Automation.ErrorCategory]::AuthenticationError
    unhealthy         = [System.Management.Automation.ErrorCategory]::ResourceUnavailable
    invalid_json      = [System.Management.Automation.ErrorCategory]::InvalidData
    invalid_utf8      = [System.Management.Automation.ErrorCategory]::InvalidData
    request_too_large = [System.Management.Automation.ErrorCategory]::LimitsExceeded
}

function New-KubeGmsaTarget {
    # The `target` of a request: which kubeconfig and context to use.
    param([string]$KubeConfig, [string]$Context)
    $target = @{}
    if ($KubeConfig) { $target.kubeconfig = Resolve-KubeGmsaPath $KubeConfig }
    if ($Context) { $target.context = $Context }
    return $target
}

function Resolve-KubeGmsaPath {
    # The library does not know PowerShell's current location: pass absolute paths.
    param([Parameter(Mandatory = $true)][string]$Path)
    return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

function Get-KubeGmsaNamespace {
    # The namespace of the service accounts: -Namespace, else (as in AksHci) -SecretNamespace,
    # else the kubeconfig context's (null here).
    param([string]$Namespace, [string]$SecretNamespace)
    if ($Namespace) { return $Namespace }
    if ($SecretNamespace) { return $SecretNamespace }
    return $null
}

function Invoke-KubeGmsaNative {
    # Call one entry point with a request; return the outcome as objects, or throw a
    # terminating error (on behalf of -Cmdlet) with the library's message and hint.
    param(
        [Parameter(Mandatory = $true)][System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory = $true)][string]$EntryPoint,
        [Parameter(Mandatory = $true)][hashtable]$Request,
        [string]$Activity
    )
    $json = ConvertTo-Json -InputObject $Request -Depth 32 -Compress
    $onProgress = $null
    if ($Activity) {
        $onProgress = [Action[string]] ({
            param($eventJson)
            $e = ConvertFrom-Json -InputObject $eventJson
            switch ($e.event) {
                'step' { Write-Progress -Activity $Activity -Status $e.message }
                'object' { Write-Verbose "$($e.kind)/$($e.name): $($e.action)" }
                'waiting' {
                    $percent = 0
                    if ($e.total -gt 0) { $percent = [int](100 * $e.done / $e.total) }
                    Write-Progress -Activity $Activity -Status $e.message -PercentComplete $percent
                }
            }
        }.GetNewClosure())
    }
    $response = $null
    try {
        $status = [KubeGmsa.Native]::Call($script:Context, $EntryPoint, $json, $onProgress, [ref]$response)
    } finally {
        $json = $null
        if ($Activity) { Write-Progress -Activity $Activity -Completed }
    }
    if ($status -ne 0) {
        $err = ConvertFrom-Json -InputObject $response
        $category = $script:ErrorCategories[[string]$err.kind]
        if ($null -eq $category) { $category = [System.Management.Automation.ErrorCategory]::NotSpecified }
        $exception = New-Object System.Exception -ArgumentList $err.message
        $record = New-Object System.Management.Automation.ErrorRecord -ArgumentList $exception, "KubeGmsa.$($err.kind)", $category, $null
        $hint = $null
        if ($err.PSObject.Properties['hint']) { $hint = $err.hint }
        if ($hint) {
            $record.ErrorDetails = New-Object System.Management.Automation.ErrorDetails -ArgumentList $err.message
            $record.ErrorDetails.RecommendedAction = $hint
        }
        $Cmdlet.ThrowTerminatingError($record)
    }
    return (ConvertFrom-Json -InputObject $response)
}

function Get-KubeGmsaDryRun {
    # Map -WhatIf / -Confirm to a dry run: 'none' to go ahead, 'server' for -WhatIf (the API
    # server validates everything and writes nothing), $null when the user declined.
    param([System.Management.Automation.PSCmdlet]$Cmdlet, [string]$Target, [string]$Action, [bool]$WhatIf)
    if ($Cmdlet.ShouldProcess($Target, $Action)) { return 'none' }
    if ($WhatIf) { return 'server' }
    return $null
}

function New-KubeGmsaDirectoryTarget {
    # The `directory` of a request: which domain controller, how to trust it, and how to bind.
    # The password is read from the PSCredential here, at the call, and only into the request
    # (the caller clears it after the call); without -Credential the library binds with
    # Kerberos and the caller's ticket cache.
    param(
        [string]$Server,
        [string]$Domain,
        [string]$CaFile,
        [System.Management.Automation.PSCredential]$Credential,
        [int]$TimeoutSeconds
    )
    $directory = @{}
    if ($Server) { $directory.server = $Server }
    if ($Domain) { $directory.domain = $Domain }
    if ($CaFile) { $directory.ca_file = Resolve-KubeGmsaPath $CaFile }
    if ($TimeoutSeconds -gt 0) { $directory.timeout_secs = $TimeoutSeconds }
    if ($null -ne $Credential -and $Credential -ne [System.Management.Automation.PSCredential]::Empty) {
        $directory.user = $Credential.UserName
        $directory.password = $Credential.GetNetworkCredential().Password
    }
    return $directory
}

function Add-KubeGmsaTypeName {
    # Give outcome objects a type name so that formatting and Get-Member say what they are.
    param($InputObject, [string]$TypeName)
    if ($null -ne $InputObject) { $InputObject.PSObject.TypeNames.Insert(0, "KubeGmsa.$TypeName") }
    return $InputObject
}

# ------------------------------------------------------------------ cmdlets (public)

function Add-KubeGmsaCredentialSpec {
    <#
    .SYNOPSIS
    Adds a gMSA credential spec to a cluster and lets service accounts use it.

    .DESCRIPTION
    Reads and lints the credential spec file, then creates (server-side apply) the
    GMSACredentialSpec resource, a ClusterRole that may 'use' it, and a RoleBinding for each
    service account. Nothing is written when any check fails. Objects that exist and differ
    are refused unless -Overwrite is given. -WhatIf runs the same writes as a server-side dry
    run and returns what would be written. With -SecretName, the credential spec gets the
    HostAccountConfig of the ccg.exe plug-in that reads that Secret (hosts that are not
    domain joined).

    .PARAMETER CredSpecFilePath
    The credential spec JSON file (as New-CredentialSpec writes it).
    .PARAMETER CredSpecName
    Name of the GMSACredentialSpec resource; default derived from the account name.
    .PARAMETER ClusterRoleName
    Name of the ClusterRole; default '<CredSpecName>-gmsa-user'.
    .PARAMETER ServiceAccount
    Service accounts that may use the credential spec: 'name' or 'namespace:name'. Default 'default'.
    .PARAMETER SecretName
    The Secret with the domain user (keys domain, username, password) for hosts that are not domain joined.
    .PARAMETER SecretNamespace
    Namespace of that Secret and, as in AksHci, of the service accounts. Default 'default' for the Secret.
    .PARAMETER Namespace
    Namespace of the service accounts when it differs from -SecretNamespace; default the kubeconfig context's.
    .PARAMETER Overwrite
    Replace existing objects that differ.
    .PARAMETER KubeConfig
    Path of the kubeconfig; default $env:KUBECONFIG, then ~/.kube/config.
    .PARAMETER Context
    kubeconfig context; default the current one.

    .EXAMPLE
    Add-KubeGmsaCredentialSpec -CredSpecFilePath .\webapp01.json -CredSpecName webapp01 -ClusterRoleName webapp01-user -ServiceAccount app -SecretNamespace shop

    .EXAMPLE
    Add-KubeGmsaCredentialSpec -CredSpecFilePath .\webapp01.json -ServiceAccount app -Namespace shop -WhatIf

    .OUTPUTS
    KubeGmsa.ApplyOutcome: DryRun, Objects (Kind, Name, Namespace, Action) and lint Findings.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][string]$CredSpecFilePath,
        [string]$CredSpecName,
        [string]$ClusterRoleName,
        [string[]]$ServiceAccount = @('default'),
        [string]$SecretName,
        [string]$SecretNamespace,
        [string]$Namespace,
        [switch]$Overwrite,
        [string]$KubeConfig,
        [string]$Context
    )
    $dryRun = Get-KubeGmsaDryRun -Cmdlet $PSCmdlet -Target "credential spec $CredSpecName from $CredSpecFilePath" -Action 'Add credential spec, cluster role and role bindings' -WhatIf $WhatIfPreference
    if ($null -eq $dryRun) { return }
    $request = @{
        target           = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        source           = @{ credspec_file = Resolve-KubeGmsaPath $CredSpecFilePath }
        service_accounts = @($ServiceAccount)
        overwrite        = [bool]$Overwrite
        dry_run          = $dryRun
    }
    if ($CredSpecName) { $request.credspec_name = $CredSpecName }
    if ($ClusterRoleName) { $request.cluster_role_name = $ClusterRoleName }
    $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
    if ($ns) { $request.namespace = $ns }
    if ($SecretName) {
        $request.host_account = @{ secret_name = $SecretName }
        if ($SecretNamespace) { $request.host_account.secret_namespace = $SecretNamespace }
    }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_add_credspec' -Request $request -Activity 'Adding credential spec'
    Add-KubeGmsaTypeName $outcome 'ApplyOutcome'
}

function Remove-KubeGmsaCredentialSpec {
    <#
    .SYNOPSIS
    Removes a credential spec, its ClusterRole and its RoleBindings (only what this tool made).

    .DESCRIPTION
    Deletes the objects Add-KubeGmsaCredentialSpec made: the RoleBindings of the cluster role
    (in every namespace), the ClusterRole and the GMSACredentialSpec. Objects not managed by
    kubectl-gmsa are left in place and reported as skipped. -WhatIf runs the deletions as a
    server-side dry run.

    .PARAMETER CredSpecName
    Name of the GMSACredentialSpec resource.
    .PARAMETER ClusterRoleName
    Name of the ClusterRole; default '<CredSpecName>-gmsa-user'.
    .PARAMETER ServiceAccount
    Service accounts whose bindings to remove ('name' or 'namespace:name'); bindings found in
    other namespaces are removed as well.
    .PARAMETER SecretNamespace
    As in AksHci: the namespace of the service accounts.
    .PARAMETER Namespace
    Namespace of the service accounts (wins over -SecretNamespace).
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context.

    .EXAMPLE
    Remove-KubeGmsaCredentialSpec -CredSpecName webapp01 -ClusterRoleName webapp01-user

    .EXAMPLE
    Remove-KubeGmsaCredentialSpec -CredSpecName webapp01 -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true)][string]$CredSpecName,
        [string]$ClusterRoleName,
        [string[]]$ServiceAccount = @(),
        [string]$SecretNamespace,
        [string]$Namespace,
        [string]$KubeConfig,
        [string]$Context
    )
    $dryRun = Get-KubeGmsaDryRun -Cmdlet $PSCmdlet -Target "credential spec $CredSpecName" -Action 'Remove credential spec, cluster role and role bindings' -WhatIf $WhatIfPreference
    if ($null -eq $dryRun) { return }
    $request = @{
        target           = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        credspec_name    = $CredSpecName
        service_accounts = @($ServiceAccount)
        dry_run          = $dryRun
    }
    if ($ClusterRoleName) { $request.cluster_role_name = $ClusterRoleName }
    $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
    if ($ns) { $request.namespace = $ns }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_remove_credspec' -Request $request -Activity 'Removing credential spec'
    Add-KubeGmsaTypeName $outcome 'ApplyOutcome'
}

function Add-KubeGmsaRoleBinding {
    <#
    .SYNOPSIS
    Lets more service accounts use a credential spec (RoleBindings to its ClusterRole).

    .PARAMETER ClusterRoleName
    The ClusterRole made by Add-KubeGmsaCredentialSpec.
    .PARAMETER ServiceAccount
    'name' or 'namespace:name'; default 'default'.
    .PARAMETER SecretNamespace
    As in AksHci: the namespace of the service accounts.
    .PARAMETER Namespace
    Namespace of the service accounts (wins over -SecretNamespace).
    .PARAMETER Overwrite
    Replace existing bindings that differ.
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context.

    .EXAMPLE
    Add-KubeGmsaRoleBinding -ClusterRoleName webapp01-user -ServiceAccount app, worker -Namespace shop
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][string]$ClusterRoleName,
        [string[]]$ServiceAccount = @('default'),
        [string]$SecretNamespace,
        [string]$Namespace,
        [switch]$Overwrite,
        [string]$KubeConfig,
        [string]$Context
    )
    $dryRun = Get-KubeGmsaDryRun -Cmdlet $PSCmdlet -Target "cluster role $ClusterRoleName" -Action "Bind service accounts $($ServiceAccount -join ', ')" -WhatIf $WhatIfPreference
    if ($null -eq $dryRun) { return }
    $request = @{
        target            = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        cluster_role_name = $ClusterRoleName
        service_accounts  = @($ServiceAccount)
        overwrite         = [bool]$Overwrite
        dry_run           = $dryRun
    }
    $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
    if ($ns) { $request.namespace = $ns }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_bind_role' -Request $request -Activity 'Binding service accounts'
    Add-KubeGmsaTypeName $outcome 'ApplyOutcome'
}

function Remove-KubeGmsaRoleBinding {
    <#
    .SYNOPSIS
    Revokes service accounts' use of a credential spec (deletes our RoleBindings).

    .PARAMETER ClusterRoleName
    The ClusterRole made by Add-KubeGmsaCredentialSpec.
    .PARAMETER ServiceAccount
    'name' or 'namespace:name'; default 'default'.
    .PARAMETER SecretNamespace
    As in AksHci: the namespace of the service accounts.
    .PARAMETER Namespace
    Namespace of the service accounts (wins over -SecretNamespace).
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context.

    .EXAMPLE
    Remove-KubeGmsaRoleBinding -ClusterRoleName webapp01-user -ServiceAccount worker -Namespace shop
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][string]$ClusterRoleName,
        [string[]]$ServiceAccount = @('default'),
        [string]$SecretNamespace,
        [string]$Namespace,
        [string]$KubeConfig,
        [string]$Context
    )
    $dryRun = Get-KubeGmsaDryRun -Cmdlet $PSCmdlet -Target "cluster role $ClusterRoleName" -Action "Unbind service accounts $($ServiceAccount -join ', ')" -WhatIf $WhatIfPreference
    if ($null -eq $dryRun) { return }
    $request = @{
        target            = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        cluster_role_name = $ClusterRoleName
        service_accounts  = @($ServiceAccount)
        dry_run           = $dryRun
    }
    $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
    if ($ns) { $request.namespace = $ns }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_unbind_role' -Request $request -Activity 'Unbinding service accounts'
    Add-KubeGmsaTypeName $outcome 'ApplyOutcome'
}

function Get-KubeGmsaCredentialSpec {
    <#
    .SYNOPSIS
    Lists the credential specs of a cluster with the accounts they name and who may use them.

    .PARAMETER CredSpecName
    One credential spec; default all.
    .PARAMETER IncludeResource
    Include each GMSACredentialSpec resource as it is stored.
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context.

    .EXAMPLE
    Get-KubeGmsaCredentialSpec

    .EXAMPLE
    Get-KubeGmsaCredentialSpec -CredSpecName webapp01 | Select-Object -ExpandProperty service_accounts

    .OUTPUTS
    KubeGmsa.CredentialSpec: name, account, domain, net_bios_name, cluster_roles, service_accounts, managed.
    #>
    [CmdletBinding()]
    param(
        [Alias('Name')][string]$CredSpecName,
        [switch]$IncludeResource,
        [string]$KubeConfig,
        [string]$Context
    )
    $request = @{
        target            = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        include_resources = [bool]$IncludeResource
    }
    if ($CredSpecName) { $request.name = $CredSpecName }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_get' -Request $request -Activity 'Listing credential specs'
    foreach ($item in $outcome.items) { Add-KubeGmsaTypeName $item 'CredentialSpec' }
}

function Test-KubeGmsaCredentialSpec {
    <#
    .SYNOPSIS
    Lints a credential spec file (or JSON text) with the same rules as 'kubectl gmsa lint'.

    .DESCRIPTION
    Returns the findings (errors and warnings, each with a rule, a path and a message). Rule
    violations are findings, not errors; an unreadable file or text that is not JSON is a
    terminating error.

    .PARAMETER CredSpecFilePath
    The credential spec JSON file.
    .PARAMETER CredSpecJson
    The credential spec as JSON text.

    .EXAMPLE
    Test-KubeGmsaCredentialSpec -CredSpecFilePath .\webapp01.json

    .EXAMPLE
    (Test-KubeGmsaCredentialSpec -CredSpecJson (Get-Content .\webapp01.json -Raw)).errors -eq 0
    #>
    [CmdletBinding(DefaultParameterSetName = 'File')]
    param(
        [Parameter(Mandatory = $true, ParameterSetName = 'File', Position = 0)][string]$CredSpecFilePath,
        [Parameter(Mandatory = $true, ParameterSetName = 'Json')][string]$CredSpecJson
    )
    if ($PSCmdlet.ParameterSetName -eq 'File') {
        $source = @{ credspec_file = Resolve-KubeGmsaPath $CredSpecFilePath }
    } else {
        $source = @{ credspec = $CredSpecJson }
    }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_lint' -Request @{ source = $source }
    Add-KubeGmsaTypeName $outcome 'LintOutcome'
}

function ConvertTo-KubeGmsaCredentialSpecResource {
    <#
    .SYNOPSIS
    Turns a credential spec file into the GMSACredentialSpec resource (no cluster involved).

    .PARAMETER CredSpecFilePath
    The credential spec JSON file.
    .PARAMETER CredSpecName
    Name of the resource; default derived from the account name.

    .EXAMPLE
    ConvertTo-KubeGmsaCredentialSpecResource -CredSpecFilePath .\webapp01.json -CredSpecName webapp01 | ConvertTo-Json -Depth 10

    .OUTPUTS
    The resource (apiVersion windows.k8s.io/v1, kind GMSACredentialSpec).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true, Position = 0)][string]$CredSpecFilePath,
        [string]$CredSpecName
    )
    $request = @{ source = @{ credspec_file = Resolve-KubeGmsaPath $CredSpecFilePath } }
    if ($CredSpecName) { $request.credspec_name = $CredSpecName }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_convert' -Request $request
    foreach ($f in $outcome.findings) { Write-Warning "$($f.path): $($f.message)" }
    $outcome.resource
}

function New-KubeGmsaDomainUserSecret {
    <#
    .SYNOPSIS
    Writes the Secret with the domain user that a ccg.exe plug-in uses to read the gMSA password.

    .DESCRIPTION
    Creates (server-side apply) an Opaque Secret with the keys domain, username and password,
    for credential specs of hosts that are not domain joined (see -SecretName of
    Add-KubeGmsaCredentialSpec). The password is taken from the PSCredential and never shown:
    the outcome carries the Secret with its data redacted.

    .PARAMETER SecretName
    Name of the Secret.
    .PARAMETER SecretNamespace
    Namespace of the Secret; default the kubeconfig context's.
    .PARAMETER Credential
    The domain user: 'DOMAIN\user' or 'user@domain.fqdn', or a bare user name with -Domain.
    .PARAMETER Domain
    The DNS domain of the user (for example contoso.com); wins over the one in -Credential.
    .PARAMETER Overwrite
    Replace an existing Secret that differs.
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context.

    .EXAMPLE
    New-KubeGmsaDomainUserSecret -SecretName gmsa-reader -SecretNamespace shop -Credential (Get-Credential) -Domain contoso.com

    .EXAMPLE
    New-KubeGmsaDomainUserSecret -SecretName gmsa-reader -Credential 'reader@contoso.com' -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][string]$SecretName,
        [string]$SecretNamespace,
        [Parameter(Mandatory = $true)][System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]$Credential,
        [string]$Domain,
        [switch]$Overwrite,
        [string]$KubeConfig,
        [string]$Context
    )
    $user = $Credential.UserName
    $userDomain = $null
    if ($user.Contains('\')) {
        $userDomain, $user = $user.Split('\', 2)
    } elseif ($user.Contains('@')) {
        $user, $userDomain = $user.Split('@', 2)
    }
    if ($Domain) { $userDomain = $Domain }
    if (-not $userDomain) {
        $exception = New-Object System.ArgumentException -ArgumentList 'no domain given: pass -Domain contoso.com, or a credential user name like user@contoso.com'
        $PSCmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord -ArgumentList $exception, 'KubeGmsa.invalid_input', ([System.Management.Automation.ErrorCategory]::InvalidArgument), $null))
    }
    $dryRun = Get-KubeGmsaDryRun -Cmdlet $PSCmdlet -Target "secret $SecretName" -Action "Write the domain user $userDomain\$user" -WhatIf $WhatIfPreference
    if ($null -eq $dryRun) { return }
    $request = @{
        target      = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        secret_name = $SecretName
        domain      = $userDomain
        username    = $user
        password    = $Credential.GetNetworkCredential().Password
        overwrite   = [bool]$Overwrite
        dry_run     = $dryRun
    }
    if ($SecretNamespace) { $request.namespace = $SecretNamespace }
    try {
        $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_create_secret' -Request $request -Activity 'Writing the domain user secret'
    } finally {
        $request.password = $null
    }
    Add-KubeGmsaTypeName $outcome 'ApplyOutcome'
}

function Test-KubeGmsaAccess {
    <#
    .SYNOPSIS
    Asks the cluster (LocalSubjectAccessReview, as the webhook does) whether service accounts may use a credential spec.

    .PARAMETER CredSpecName
    Name of the GMSACredentialSpec resource.
    .PARAMETER ServiceAccount
    'name' or 'namespace:name'; default 'default'.
    .PARAMETER SecretNamespace
    As in AksHci: the namespace of the service accounts.
    .PARAMETER Namespace
    Namespace of the service accounts (wins over -SecretNamespace).
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context.

    .EXAMPLE
    Test-KubeGmsaAccess -CredSpecName webapp01 -ServiceAccount app -Namespace shop

    .OUTPUTS
    KubeGmsa.AccessAnswer: service_account ('namespace:name') and allowed.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][string]$CredSpecName,
        [string[]]$ServiceAccount = @('default'),
        [string]$SecretNamespace,
        [string]$Namespace,
        [string]$KubeConfig,
        [string]$Context
    )
    $request = @{
        target           = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        credspec_name    = $CredSpecName
        service_accounts = @($ServiceAccount)
    }
    $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
    if ($ns) { $request.namespace = $ns }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_check_access' -Request $request
    foreach ($answer in $outcome.answers) { Add-KubeGmsaTypeName $answer 'AccessAnswer' }
}

function Install-KubeGmsaWebhook {
    <#
    .SYNOPSIS
    Installs (or upgrades) the gMSA admission webhook in a cluster.

    .DESCRIPTION
    Applies (server-side apply) the GMSACredentialSpec CRD, the webhook's namespace,
    ServiceAccount, RBAC, a CA and serving certificate (or cert-manager objects), the Service,
    Deployment and PodDisruptionBudget, and the mutating and validating webhook
    configurations. Running it again brings an install up to the parameters (it is also the
    upgrade) and renews a certificate close to expiry. By default it waits until the
    Deployment is ready; -NoWait returns once everything is written. -WhatIf runs the same
    writes as a server-side dry run and returns what would be written (never a private key).

    .PARAMETER Name
    As in AksHci (Install-AksHciGMSAWebhook -Name <cluster>): the cluster, here the
    kubeconfig context. Same as -Context.
    .PARAMETER WebhookName
    Name of the webhook's Service, Deployment and configurations; default 'gmsa-webhook'.
    .PARAMETER Namespace
    Namespace of the webhook; default 'gmsa-webhook'.
    .PARAMETER Image
    Webhook image; default the upstream image this release was tested with.
    .PARAMETER Replicas
    Number of webhook pods; default 2.
    .PARAMETER TolerateControlPlane
    Let the pods run on control-plane nodes.
    .PARAMETER NodeSelector
    'KEY=VALUE' entries added to the Linux node selector.
    .PARAMETER FailurePolicy
    'Fail' (default: no pod escapes the checks) or 'Ignore' (pods pass unchecked while the webhook is down).
    .PARAMETER CertValidityDays
    Days the serving certificate is valid; default 365.
    .PARAMETER CertManager
    Let cert-manager issue the certificates.
    .PARAMETER NoWait
    Return once everything is written, without waiting for the Deployment.
    .PARAMETER TimeoutSeconds
    How long to wait for the Deployment; default 300.
    .PARAMETER Overwrite
    Take over objects of the same names that kubectl-gmsa did not make.
    .PARAMETER KubeConfig
    Path of the kubeconfig; default $env:KUBECONFIG, then ~/.kube/config.
    .PARAMETER Context
    kubeconfig context; default the current one.

    .EXAMPLE
    Install-KubeGmsaWebhook

    .EXAMPLE
    Install-KubeGmsaWebhook -Name my-cluster -FailurePolicy Ignore -Replicas 3 -NoWait

    .EXAMPLE
    Install-KubeGmsaWebhook -WhatIf | Select-Object -ExpandProperty objects

    .OUTPUTS
    KubeGmsa.WebhookInstallOutcome: dry_run, name, namespace, server_version, objects, certificate, ready.
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [string]$WebhookName,
        [string]$Namespace,
        [string]$Image,
        [ValidateRange(1, 100)][int]$Replicas = 2,
        [switch]$TolerateControlPlane,
        [string[]]$NodeSelector = @(),
        [ValidateSet('Fail', 'Ignore')][string]$FailurePolicy = 'Fail',
        [ValidateRange(1, 3650)][int]$CertValidityDays = 365,
        [switch]$CertManager,
        [switch]$NoWait,
        [ValidateRange(1, 86400)][int]$TimeoutSeconds = 300,
        [switch]$Overwrite,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    $shown = 'gmsa-webhook'
    if ($WebhookName) { $shown = $WebhookName }
    $dryRun = Get-KubeGmsaDryRun -Cmdlet $PSCmdlet -Target "webhook $shown" -Action 'Install or upgrade the gMSA webhook' -WhatIf $WhatIfPreference
    if ($null -eq $dryRun) { return }
    $request = @{
        target                 = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        replicas               = $Replicas
        tolerate_control_plane = [bool]$TolerateControlPlane
        node_selector          = @($NodeSelector)
        failure_policy         = $FailurePolicy
        cert_validity_days     = $CertValidityDays
        cert_manager           = [bool]$CertManager
        wait                   = -not $NoWait
        timeout_secs           = $TimeoutSeconds
        overwrite              = [bool]$Overwrite
        dry_run                = $dryRun
    }
    if ($WebhookName) { $request.name = $WebhookName }
    if ($Namespace) { $request.namespace = $Namespace }
    if ($Image) { $request.image = $Image }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_install_webhook' -Request $request -Activity 'Installing the gMSA webhook'
    Add-KubeGmsaTypeName $outcome 'WebhookInstallOutcome'
}

function Uninstall-KubeGmsaWebhook {
    <#
    .SYNOPSIS
    Removes the gMSA admission webhook that Install-KubeGmsaWebhook made.

    .DESCRIPTION
    Deletes the webhook configurations first, then the Deployment, Service, certificates and
    RBAC of the webhook (found by the labels kubectl-gmsa puts on them), and its namespace if
    the install made it. The GMSACredentialSpec CRD, and with it every credential spec, is
    deleted only with -Purge, and then only when no credential spec exists unless -Force is
    given too. Objects not made by kubectl-gmsa are left in place and reported as skipped.
    -WhatIf runs the deletions as a server-side dry run.

    .PARAMETER Name
    As in AksHci (Uninstall-AksHciGMSAWebhook -Name <cluster>): the kubeconfig context. Same as -Context.
    .PARAMETER WebhookName
    Name of the webhook; default 'gmsa-webhook'.
    .PARAMETER Namespace
    Namespace of the webhook; default 'gmsa-webhook'.
    .PARAMETER Purge
    Also delete the GMSACredentialSpec CRD.
    .PARAMETER Force
    With -Purge: delete the CRD even when credential specs exist (they are deleted with it).
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context.

    .EXAMPLE
    Uninstall-KubeGmsaWebhook

    .EXAMPLE
    Uninstall-KubeGmsaWebhook -Name my-cluster -Purge -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
    param(
        [string]$WebhookName,
        [string]$Namespace,
        [switch]$Purge,
        [switch]$Force,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    $shown = 'gmsa-webhook'
    if ($WebhookName) { $shown = $WebhookName }
    $action = 'Uninstall the gMSA webhook'
    if ($Purge) { $action += ' and delete the GMSACredentialSpec CRD with every credential spec' }
    $dryRun = Get-KubeGmsaDryRun -Cmdlet $PSCmdlet -Target "webhook $shown" -Action $action -WhatIf $WhatIfPreference
    if ($null -eq $dryRun) { return }
    $request = @{
        target  = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        purge   = [bool]$Purge
        force   = [bool]$Force
        dry_run = $dryRun
    }
    if ($WebhookName) { $request.name = $WebhookName }
    if ($Namespace) { $request.namespace = $Namespace }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_uninstall_webhook' -Request $request -Activity 'Uninstalling the gMSA webhook'
    Add-KubeGmsaTypeName $outcome 'WebhookUninstallOutcome'
}

function Get-KubeGmsaStatus {
    <#
    .SYNOPSIS
    Reports the health of the gMSA webhook: CRD, Deployment, webhook configurations, certificate.

    .DESCRIPTION
    Returns one object with 'healthy' and, when it is not, the 'problems' found (each is also
    written as a warning). An unhealthy webhook is a result, not an error; errors are for what
    stopped the checks (kubeconfig, connection, permissions).

    .PARAMETER WebhookName
    Name of the webhook; default 'gmsa-webhook'.
    .PARAMETER Namespace
    Namespace of the webhook; default 'gmsa-webhook'.
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context (alias -Name, as in AksHci).

    .EXAMPLE
    Get-KubeGmsaStatus

    .EXAMPLE
    if (-not (Get-KubeGmsaStatus -Context prod).healthy) { Install-KubeGmsaWebhook -Context prod }

    .OUTPUTS
    KubeGmsa.WebhookStatus: name, namespace, server_version, healthy, problems, warnings, crd, deployment, webhooks, certificate, credential_specs.
    #>
    [CmdletBinding()]
    param(
        [string]$WebhookName,
        [string]$Namespace,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    $request = @{ target = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context }
    if ($WebhookName) { $request.name = $WebhookName }
    if ($Namespace) { $request.namespace = $Namespace }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_status' -Request $request -Activity 'Reading the gMSA webhook status'
    foreach ($w in $outcome.warnings) { Write-Warning $w }
    foreach ($p in $outcome.problems) { Write-Warning $p }
    Add-KubeGmsaTypeName $outcome 'WebhookStatus'
}

function Update-KubeGmsaWebhookCertificate {
    <#
    .SYNOPSIS
    Rotates the webhook's serving certificate (and with -NewCA its CA) and restarts its pods.

    .DESCRIPTION
    Issues a new serving certificate from the webhook's CA (with -NewCA, from a new CA: the
    webhook configurations then trust the old and the new CA until the pods serve the new
    certificate, and the old CA is dropped once they are ready), writes it, and rolls the
    Deployment. By default it waits for the roll; -NoWait returns at once. The operation has no
    server-side dry run: -WhatIf only says what would be done and calls nothing.

    .PARAMETER WebhookName
    Name of the webhook; default 'gmsa-webhook'.
    .PARAMETER Namespace
    Namespace of the webhook; default 'gmsa-webhook'.
    .PARAMETER NewCA
    Make a new CA too.
    .PARAMETER CertValidityDays
    Days the new certificate is valid; default 365.
    .PARAMETER NoWait
    Do not wait for the pods to serve the new certificate.
    .PARAMETER TimeoutSeconds
    How long to wait; default 300.
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context (alias -Name, as in AksHci).

    .EXAMPLE
    Update-KubeGmsaWebhookCertificate

    .EXAMPLE
    Update-KubeGmsaWebhookCertificate -NewCA -CertValidityDays 730 -NoWait

    .OUTPUTS
    KubeGmsa.CertificateRotation: objects, certificate (serial, not_after, days_left, new_ca), ready, old_ca_dropped.
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [string]$WebhookName,
        [string]$Namespace,
        [switch]$NewCA,
        [ValidateRange(1, 3650)][int]$CertValidityDays = 365,
        [switch]$NoWait,
        [ValidateRange(1, 86400)][int]$TimeoutSeconds = 300,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    $shown = 'gmsa-webhook'
    if ($WebhookName) { $shown = $WebhookName }
    $action = 'Issue a new serving certificate and restart the webhook'
    if ($NewCA) { $action = 'Make a new CA, issue a new serving certificate and restart the webhook' }
    if (-not $PSCmdlet.ShouldProcess("webhook $shown", $action)) { return }
    $request = @{
        target             = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        new_ca             = [bool]$NewCA
        cert_validity_days = $CertValidityDays
        wait               = -not $NoWait
        timeout_secs       = $TimeoutSeconds
    }
    if ($WebhookName) { $request.name = $WebhookName }
    if ($Namespace) { $request.namespace = $Namespace }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_rotate_certs' -Request $request -Activity 'Rotating the webhook certificate'
    Add-KubeGmsaTypeName $outcome 'CertificateRotation'
}

function New-KubeGmsaCredentialSpec {
    <#
    .SYNOPSIS
    Makes the credential spec of a gMSA from Active Directory (like New-CredentialSpec, over LDAP).

    .DESCRIPTION
    Reads the domain (SID, GUID, DNS and NetBIOS names, forest root) and the gMSA from a domain
    controller and returns the credential spec New-CredentialSpec would write, with lint
    findings as warnings. Works from any host: no domain join or RSAT needed. With -Credential
    it binds as that user (simple bind, always over TLS); without it, with Kerberos and the
    current ticket. The password is taken from the PSCredential only for the call and never
    shown. With -Path the credential spec is also written to a file (a folder gets
    New-CredentialSpec's file name, '<netbios>_<account>.json').

    .PARAMETER AccountName
    The gMSA (a trailing '$' is ignored).
    .PARAMETER AdditionalAccounts
    More gMSAs the container may use: 'NAME' or 'NAME@DOMAIN'.
    .PARAMETER Server
    'ldaps://host[:port]' or 'ldap://host[:port]' (StartTLS); default 'ldap://<Domain>'.
    .PARAMETER Domain
    DNS name of the domain (checked against what the server serves).
    .PARAMETER CaFile
    PEM file with the CA certificates to trust; default the system's trust store.
    .PARAMETER Credential
    The user to bind as ('user@domain', 'DOMAIN\user' or a DN); default Kerberos.
    .PARAMETER TimeoutSeconds
    Seconds for connecting and for each LDAP operation; default 15.
    .PARAMETER CcgPlugin
    For hosts that are not domain joined: 'azure-key-vault', 'aws' or 'rancher'.
    .PARAMETER PluginGuid
    Another ccg.exe plug-in, by its COM CLSID.
    .PARAMETER PluginInput
    The plug-in's input (for example 'ObjectId=...;SecretUri=...').
    .PARAMETER CredSpecName
    Also render the GMSACredentialSpec resource with this name (property 'resource').
    .PARAMETER Path
    Write the credential spec JSON to this file or folder.

    .EXAMPLE
    New-KubeGmsaCredentialSpec -AccountName webapp01 -Server ldaps://dc1.contoso.com -Credential (Get-Credential) -Path .\

    .EXAMPLE
    (New-KubeGmsaCredentialSpec -AccountName webapp01 -Domain contoso.com -CcgPlugin azure-key-vault -PluginInput 'ObjectId=...;SecretUri=...').credspec | ConvertTo-Json -Depth 10

    .OUTPUTS
    KubeGmsa.NewCredentialSpec: credspec, default_file_name, resource, domain, findings, stats.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true, Position = 0)][string]$AccountName,
        [string[]]$AdditionalAccounts = @(),
        [string]$Server,
        [string]$Domain,
        [string]$CaFile,
        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]$Credential = [System.Management.Automation.PSCredential]::Empty,
        [ValidateRange(1, 3600)][int]$TimeoutSeconds,
        [ValidateSet('azure-key-vault', 'aws', 'rancher')][string]$CcgPlugin,
        [string]$PluginGuid,
        [string]$PluginInput,
        [string]$CredSpecName,
        [string]$Path
    )
    $plugin = @{}
    if ($CcgPlugin) { $plugin.ccg_plugin = $CcgPlugin }
    if ($PluginGuid) { $plugin.plugin_guid = $PluginGuid }
    if ($PluginInput) { $plugin.plugin_input = $PluginInput }
    $request = @{
        account             = $AccountName
        additional_accounts = @($AdditionalAccounts)
        plugin              = $plugin
    }
    if ($CredSpecName) { $request.credspec_name = $CredSpecName }
    try {
        $request.directory = New-KubeGmsaDirectoryTarget -Server $Server -Domain $Domain -CaFile $CaFile -Credential $Credential -TimeoutSeconds $TimeoutSeconds
        $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_new_credspec' -Request $request -Activity 'Reading the gMSA from the directory'
    } finally {
        if ($request.ContainsKey('directory')) { $request.directory.password = $null }
    }
    foreach ($f in $outcome.findings) { Write-Warning "$($f.path): $($f.message)" }
    if ($Path) {
        $file = Resolve-KubeGmsaPath $Path
        if (Test-Path -LiteralPath $file -PathType Container) { $file = Join-Path $file $outcome.default_file_name }
        $json = ConvertTo-Json -InputObject $outcome.credspec -Depth 32
        [System.IO.File]::WriteAllText($file, $json, (New-Object System.Text.UTF8Encoding -ArgumentList $false))
        Write-Verbose "wrote $file"
    }
    Add-KubeGmsaTypeName $outcome 'NewCredentialSpec'
}

function Test-KubeGmsaAccount {
    <#
    .SYNOPSIS
    Checks a gMSA in Active Directory: what a container host needs from it, with the fix for each failure.

    .DESCRIPTION
    Looks up the gMSA and checks that its name is unique, that it is enabled and has the
    needed SPNs, who may retrieve its password (and whether the bound identity may), and that a
    usable KDS root key exists. Failed checks are results ('passed' is false, each check has a
    'fix'), not errors; errors are for what stopped the checks (connection, bind, a gMSA that
    does not exist). The password of -Credential is used only for the call and never shown.

    .PARAMETER AccountName
    The gMSA (a trailing '$' is ignored).
    .PARAMETER Server
    'ldaps://host[:port]' or 'ldap://host[:port]' (StartTLS); default 'ldap://<Domain>'.
    .PARAMETER Domain
    DNS name of the domain.
    .PARAMETER CaFile
    PEM file with the CA certificates to trust.
    .PARAMETER Credential
    The user to bind as; default Kerberos with the current ticket.
    .PARAMETER TimeoutSeconds
    Seconds for connecting and for each LDAP operation; default 15.

    .EXAMPLE
    Test-KubeGmsaAccount -AccountName webapp01 -Server ldaps://dc1.contoso.com -Credential (Get-Credential)

    .EXAMPLE
    (Test-KubeGmsaAccount webapp01 -Domain contoso.com).checks | Where-Object status -ne 'pass' | Format-Table check, message, fix

    .OUTPUTS
    KubeGmsa.AccountCheck: account, server, bound_as, dn, allowed_principals, checks (check, status, message, fix), passed.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true, Position = 0)][string]$AccountName,
        [string]$Server,
        [string]$Domain,
        [string]$CaFile,
        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]$Credential = [System.Management.Automation.PSCredential]::Empty,
        [ValidateRange(1, 3600)][int]$TimeoutSeconds
    )
    $request = @{ account = $AccountName }
    try {
        $request.directory = New-KubeGmsaDirectoryTarget -Server $Server -Domain $Domain -CaFile $CaFile -Credential $Credential -TimeoutSeconds $TimeoutSeconds
        $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_check_account' -Request $request -Activity 'Checking the gMSA'
    } finally {
        if ($request.ContainsKey('directory')) { $request.directory.password = $null }
    }
    Add-KubeGmsaTypeName $outcome 'AccountCheck'
}

function New-KubeGmsaAccount {
    <#
    .SYNOPSIS
    Creates a gMSA in Active Directory (and optionally the group of hosts that may retrieve its password).

    .DESCRIPTION
    Validates every name, looks up the principals, then adds the group (with -CreateGroup) and
    the gMSA, enabled, with its dNSHostName, SPNs and msDS-GroupMSAMembership. Nothing is
    written when a name is unknown or taken; a gMSA that fails after its group was created
    removes that group again. -WhatIf writes nothing and returns the LDIF of what would be
    added. The password of -Credential is used only for the call and never shown.

    .PARAMETER AccountName
    The gMSA's name (sAMAccountName without '$', at most 15 characters).
    .PARAMETER DnsHostName
    dNSHostName; default '<account>.<domain>'.
    .PARAMETER ServicePrincipalNames
    SPNs; default 'host/<account>' and 'host/<dns host name>'.
    .PARAMETER PrincipalsAllowedToRetrieveManagedPassword
    Users, groups or computers allowed to retrieve the password (as in New-ADServiceAccount).
    .PARAMETER CreateGroup
    Also create this global security group, allowed to retrieve the password.
    .PARAMETER Members
    Members of the new group (container hosts' computer accounts, or users).
    .PARAMETER Path
    Container of the gMSA (as in New-ADServiceAccount); default 'CN=Managed Service Accounts,<domain>'.
    .PARAMETER Server
    'ldaps://host[:port]' or 'ldap://host[:port]' (StartTLS); default 'ldap://<Domain>'.
    .PARAMETER Domain
    DNS name of the domain.
    .PARAMETER CaFile
    PEM file with the CA certificates to trust.
    .PARAMETER Credential
    The user to bind as (one who may create accounts); default Kerberos with the current ticket.
    .PARAMETER TimeoutSeconds
    Seconds for connecting and for each LDAP operation; default 15.

    .EXAMPLE
    New-KubeGmsaAccount -AccountName webapp01 -CreateGroup WebHosts -Members 'node1$', 'node2$' -Server ldaps://dc1.contoso.com -Credential (Get-Credential)

    .EXAMPLE
    (New-KubeGmsaAccount -AccountName webapp01 -PrincipalsAllowedToRetrieveManagedPassword WebHosts -Domain contoso.com -WhatIf).ldif

    .OUTPUTS
    KubeGmsa.NewAccount: dry_run, account_dn, changes, ldif, stats.
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true, Position = 0)][string]$AccountName,
        [string]$DnsHostName,
        [string[]]$ServicePrincipalNames = @(),
        [string[]]$PrincipalsAllowedToRetrieveManagedPassword = @(),
        [string]$CreateGroup,
        [string[]]$Members = @(),
        [string]$Path,
        [string]$Server,
        [string]$Domain,
        [string]$CaFile,
        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]$Credential = [System.Management.Automation.PSCredential]::Empty,
        [ValidateRange(1, 3600)][int]$TimeoutSeconds
    )
    $dryRun = Get-KubeGmsaDryRun -Cmdlet $PSCmdlet -Target "gMSA $AccountName" -Action 'Create the group managed service account' -WhatIf $WhatIfPreference
    if ($null -eq $dryRun) { return }
    $request = @{
        account                  = $AccountName
        service_principal_names  = @($ServicePrincipalNames)
        allowed_principals       = @($PrincipalsAllowedToRetrieveManagedPassword)
        members                  = @($Members)
        dry_run                  = ($dryRun -ne 'none')
    }
    if ($DnsHostName) { $request.dns_host_name = $DnsHostName }
    if ($CreateGroup) { $request.create_group = $CreateGroup }
    if ($Path) { $request.container = $Path }
    try {
        $request.directory = New-KubeGmsaDirectoryTarget -Server $Server -Domain $Domain -CaFile $CaFile -Credential $Credential -TimeoutSeconds $TimeoutSeconds
        $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_create_account' -Request $request -Activity 'Creating the gMSA'
    } finally {
        if ($request.ContainsKey('directory')) { $request.directory.password = $null }
    }
    Add-KubeGmsaTypeName $outcome 'NewAccount'
}

# The troubleshooting cmdlets live in a file of their own.
. (Join-Path $PSScriptRoot 'Doctor.ps1')

Export-ModuleMember -Function @(
    'Add-KubeGmsaCredentialSpec',
    'Remove-KubeGmsaCredentialSpec',
    'Add-KubeGmsaRoleBinding',
    'Remove-KubeGmsaRoleBinding',
    'Get-KubeGmsaCredentialSpec',
    'Test-KubeGmsaCredentialSpec',
    'ConvertTo-KubeGmsaCredentialSpecResource',
    'New-KubeGmsaDomainUserSecret',
    'Test-KubeGmsaAccess',
    'Install-KubeGmsaWebhook',
    'Uninstall-KubeGmsaWebhook',
    'Get-KubeGmsaStatus',
    'Update-KubeGmsaWebhookCertificate',
    'New-KubeGmsaCredentialSpec',
    'Test-KubeGmsaAccount',
    'New-KubeGmsaAccount',
    'Test-KubeGmsaConfiguration',
    'Set-KubeGmsaWorkload'
)
