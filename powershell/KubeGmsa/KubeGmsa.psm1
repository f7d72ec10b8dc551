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

Export-ModuleMember -Function @(
    'Add-KubeGmsaCredentialSpec',
    'Remove-KubeGmsaCredentialSpec',
    'Add-KubeGmsaRoleBinding',
    'Remove-KubeGmsaRoleBinding',
    'Get-KubeGmsaCredentialSpec',
    'Test-KubeGmsaCredentialSpec',
    'ConvertTo-KubeGmsaCredentialSpecResource',
    'New-KubeGmsaDomainUserSecret',
    'Test-KubeGmsaAccess'
)
