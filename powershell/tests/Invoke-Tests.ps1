# Invoke-Tests.ps1: runs the Pester suite (KubeGmsa.Tests.ps1) the way CI does, under
# Windows PowerShell 5.1 or PowerShell 7: installs Pester 5 for the current user when only
# an older one is there (Windows PowerShell ships 3.4), then fails on any failed test.
# The native library must be in powershell/KubeGmsa/bin/<rid>/ first.
$ErrorActionPreference = 'Stop'
if (-not (Get-Module -ListAvailable Pester | Where-Object Version -GE '5.0')) {
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser -Force -SkipPublisherCheck
}
Import-Module Pester -MinimumVersion 5.0
$config = New-PesterConfiguration
$config.Run.Path = Join-Path $PSScriptRoot 'KubeGmsa.Tests.ps1'
$config.Run.Exit = $true
$config.Output.Verbosity = 'Detailed'
Write-Host "PowerShell $($PSVersionTable.PSVersion) ($($PSVersionTable.PSEdition))"
Invoke-Pester -Configuration $config
