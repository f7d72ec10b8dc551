# KubeGmsa.psm1: the KubeGmsa module's entry. Loads the interop (KubeGmsa.Native.cs) and the
# gmsa_ffi native library for this OS and architecture from bin/<rid>/, refuses a library of
# another ABI version, makes this session's context, and loads the cmdlets, one file per
# area: CredentialSpecs.ps1, Webhook.ps1, Directory.ps1, Doctor.ps1 (shared helpers in Common.ps1).

Set-StrictMode -Version 3.0

# The ABI version this module is written for (GMSA_ABI_VERSION in gmsa.h).
$script:AbiVersion = 1
# The InteropVersion of the KubeGmsa.Native.cs shipped with this module.
$script:InteropVersion = 2

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

function Initialize-KubeGmsaNative {
    # Declare the interop once per process (a .NET type cannot be replaced), load this
    # module's library through it, check the ABI version, and make this session's context.
    $library = Get-KubeGmsaLibraryPath
    $type = 'KubeGmsa.Native' -as [type]
    if ($null -eq $type) {
        Add-Type -Path (Join-Path $PSScriptRoot 'KubeGmsa.Native.cs')
        $type = 'KubeGmsa.Native' -as [type]
    }
    $interop = $type.GetField('InteropVersion')
    if ($null -eq $interop -or $interop.GetValue($null) -ne $script:InteropVersion) {
        $loaded = $type.GetField('LoadedPath')
        $lib = $type.GetField('Lib', [System.Reflection.BindingFlags]'NonPublic,Static')
        $from = if ($null -ne $loaded) { $loaded.GetValue($null) } elseif ($null -ne $lib) { $lib.GetValue($null) } else { 'unknown' }
        throw "KubeGmsa $($MyInvocation.MyCommand.Module.Version) cannot load: another KubeGmsa module (interop version $(if ($interop) { $interop.GetValue($null) } else { 1 }), native library $from) was imported earlier in this process, and .NET cannot unload its types. Start a new PowerShell session and import only this one (Import-Module $PSScriptRoot)."
    }
    [KubeGmsa.Native]::Load($library)
    $abi = [KubeGmsa.Native]::gmsa_abi_version()
    if ($abi -ne $script:AbiVersion) {
        throw "KubeGmsa $($MyInvocation.MyCommand.Module.Version) needs native ABI version $($script:AbiVersion), but its library $library has version $abi ($([KubeGmsa.Native]::Version())). Reinstall the module so that both come from one release."
    }
    try {
        $script:Context = [KubeGmsa.Native]::NewContext()
    } catch {
        throw "KubeGmsa could not start its native runtime: $($_.Exception.InnerException.Message)"
    }
}

. (Join-Path $PSScriptRoot 'Common.ps1')
. (Join-Path $PSScriptRoot 'CredentialSpecs.ps1')
. (Join-Path $PSScriptRoot 'Webhook.ps1')
. (Join-Path $PSScriptRoot 'Directory.ps1')
. (Join-Path $PSScriptRoot 'Doctor.ps1')

Initialize-KubeGmsaNative
$ExecutionContext.SessionState.Module.OnRemove = {
    [KubeGmsa.Native]::gmsa_context_free($script:Context)
    $script:Context = [IntPtr]::Zero
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
