# Doctor.ps1: the troubleshooting cmdlets of the KubeGmsa module. Test-KubeGmsaConfiguration
# runs the doctor's checklist (gmsa_doctor); Set-KubeGmsaWorkload makes a workload run as a
# gMSA (gmsa_attach). Both use the module's shared helpers (Invoke-KubeGmsaNative, ...).

function Test-KubeGmsaConfiguration {
    <#
    .SYNOPSIS
    Checks the whole gMSA chain (Active Directory, cluster, workload, containers) and says what to fix.

    .DESCRIPTION
    Runs the checks of 'kubectl gmsa doctor' concurrently and returns the checklist: each check
    has a layer (directory, cluster, workload, node), a status (pass, warn, fail, skipped), the
    evidence, and for a warning or a failure the fix (a command or a field). Failed checks are
    results ('passed' is false), not errors. Never writes, never reads a Secret's values. The
    directory checks run when -Server, -Domain or -Credential is given.

    .PARAMETER Object
    KIND/NAME of a workload (pod, deployment, statefulset, daemonset, job, cronjob) or
    credspec/NAME; default the webhook, every credential spec and every workload naming one.
    .PARAMETER Namespace
    Namespace of the workload (without -Object: only workloads of this namespace).
    .PARAMETER Exec
    Also run nltest, klist, an SRV lookup and whoami in running Windows pods of the workload.
    .PARAMETER PluginAccount
    The domain user a ccg plug-in uses, to check in Active Directory.
    .PARAMETER WebhookName
    Name of the webhook installation; default 'gmsa-webhook'.
    .PARAMETER WebhookNamespace
    Namespace of the webhook installation; default 'gmsa-webhook'.
    .PARAMETER Server
    A domain controller: 'ldaps://host[:port]' or 'ldap://host[:port]'.
    .PARAMETER Domain
    DNS name of the domain.
    .PARAMETER CaFile
    PEM file with the CA certificates to trust for the domain controller.
    .PARAMETER Credential
    The user to bind as; default Kerberos with the current ticket.
    .PARAMETER TimeoutSeconds
    Seconds for connecting and each LDAP operation; default 15.
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context (alias -Name, as in AksHci).

    .EXAMPLE
    Test-KubeGmsaConfiguration deployment/web -Namespace shop

    .EXAMPLE
    (Test-KubeGmsaConfiguration credspec/webapp01 -Server ldaps://dc1.contoso.com -Credential (Get-Credential)).checks | Where-Object status -eq 'fail' | Format-Table layer, check, message, fix

    .OUTPUTS
    KubeGmsa.Doctor: scope, checks (layer, check, subject, status, message, fix), counts, passed.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)][string]$Object,
        [string]$Namespace,
        [switch]$Exec,
        [string]$PluginAccount,
        [string]$WebhookName,
        [string]$WebhookNamespace,
        [string]$Server,
        [string]$Domain,
        [string]$CaFile,
        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]$Credential = [System.Management.Automation.PSCredential]::Empty,
        [ValidateRange(1, 3600)][int]$TimeoutSeconds,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    $request = @{ target = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context; exec = [bool]$Exec }
    if ($Object) { $request.object = $Object }
    if ($Namespace) { $request.namespace = $Namespace }
    if ($PluginAccount) { $request.plugin_account = $PluginAccount }
    if ($WebhookName) { $request.webhook_name = $WebhookName }
    if ($WebhookNamespace) { $request.webhook_namespace = $WebhookNamespace }
    try {
        if ($Server -or $Domain -or ($Credential -ne [System.Management.Automation.PSCredential]::Empty)) {
            $request.directory = New-KubeGmsaDirectoryTarget -Server $Server -Domain $Domain -CaFile $CaFile -Credential $Credential -TimeoutSeconds $TimeoutSeconds
        }
        $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_doctor' -Request $request -Activity 'Checking the gMSA configuration'
    } finally {
        if ($request.ContainsKey('directory')) { $request.directory.password = $null }
    }
    foreach ($c in $outcome.checks) {
        if ($c.status -eq 'fail' -or $c.status -eq 'warn') { Write-Verbose "$($c.status) $($c.check) $($c.subject): $($c.message)" }
    }
    Add-KubeGmsaTypeName $outcome 'Doctor'
}

function Set-KubeGmsaWorkload {
    <#
    .SYNOPSIS
    Makes a workload run as a gMSA: sets its pod template's gmsaCredentialSpecName.

    .DESCRIPTION
    Sets securityContext.windowsOptions.gmsaCredentialSpecName on the pod template (pod level,
    or -Container), adds the node selector kubernetes.io/os: windows unless
    -NoWindowsSelector, checks that the service account may use the credential spec (-Bind
    lets it), and warns about a fixed hostname on several replicas. One server-side apply;
    running it again changes nothing. Same as 'kubectl gmsa attach'; -WhatIf is a server dry run.

    .PARAMETER Workload
    deployment/NAME, statefulset/NAME, daemonset/NAME, job/NAME or cronjob/NAME.
    .PARAMETER CredSpecName
    The GMSACredentialSpec the pods run with.
    .PARAMETER Namespace
    Namespace of the workload.
    .PARAMETER Container
    Set it on this container only.
    .PARAMETER NoWindowsSelector
    Do not add the Windows node selector.
    .PARAMETER Bind
    Let the workload's service account use the credential spec.
    .PARAMETER Overwrite
    Take the fields over from another field manager.
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context (alias -Name, as in AksHci).

    .EXAMPLE
    Set-KubeGmsaWorkload deployment/web -CredSpecName webapp01 -Namespace shop -Bind

    .OUTPUTS
    KubeGmsa.AttachOutcome: dry_run, workload (action, object), objects, service_account_may_use, warnings.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, Position = 0)][string]$Workload,
        [Parameter(Mandatory = $true)][string]$CredSpecName,
        [string]$Namespace,
        [string]$Container,
        [switch]$NoWindowsSelector,
        [switch]$Bind,
        [switch]$Overwrite,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    # -WhatIf: a server-side dry run that returns the would-be outcome, as the other writes.
    $dryRun = Get-KubeGmsaDryRun -Cmdlet $PSCmdlet -Target $Workload -Action "Set gmsaCredentialSpecName $CredSpecName" -WhatIf $WhatIfPreference
    if ($null -eq $dryRun) { return }
    $request = @{
        target              = New-KubeGmsaTarget -KubeConfig $KubeConfig -Context $Context
        workload            = $Workload
        credspec_name       = $CredSpecName
        no_windows_selector = [bool]$NoWindowsSelector
        bind                = [bool]$Bind
        overwrite           = [bool]$Overwrite
        dry_run             = $dryRun
    }
    if ($Namespace) { $request.namespace = $Namespace }
    if ($Container) { $request.container = $Container }
    $outcome = Invoke-KubeGmsaNative -Cmdlet $PSCmdlet -EntryPoint 'gmsa_attach' -Request $request -Activity 'Attaching the credential spec'
    foreach ($w in $outcome.warnings) { Write-Warning $w }
    Add-KubeGmsaTypeName $outcome 'AttachOutcome'
}
