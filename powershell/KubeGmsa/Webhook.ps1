# Webhook.ps1: the admission webhook cmdlets (dot-sourced by KubeGmsa.psm1): install or
# upgrade, uninstall, status, certificate rotation. -Name is AksHci's cluster name
# (Install-AksHciGMSAWebhook -Name <cluster>), here the kubeconfig context.

function Get-KubeGmsaWebhookName {
    # The webhook's name as shown in -WhatIf / -Confirm messages.
    param([string]$WebhookName)
    if ($WebhookName) { return $WebhookName }
    return 'gmsa-webhook'
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
    $request = New-KubeGmsaRequest $PSCmdlet @{
        name                   = 'WebhookName'
        namespace              = 'Namespace'
        image                  = 'Image'
        replicas               = 'Replicas'
        tolerate_control_plane = 'TolerateControlPlane'
        node_selector          = 'NodeSelector'
        failure_policy         = 'FailurePolicy'
        cert_validity_days     = 'CertValidityDays'
        cert_manager           = 'CertManager'
        timeout_secs           = 'TimeoutSeconds'
        overwrite              = 'Overwrite'
    }
    $request.wait = -not $NoWait
    $request.dry_run = Get-KubeGmsaDryRun $PSCmdlet "webhook $(Get-KubeGmsaWebhookName $WebhookName)" 'Install or upgrade the gMSA webhook'
    if ($null -eq $request.dry_run) { return }
    Invoke-KubeGmsaNative $PSCmdlet 'gmsa_install_webhook' $request -Activity 'Installing the gMSA webhook' -TypeName WebhookInstallOutcome -TargetObject $WebhookName
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
    $request = New-KubeGmsaRequest $PSCmdlet @{ name = 'WebhookName'; namespace = 'Namespace'; purge = 'Purge'; force = 'Force' }
    $action = 'Uninstall the gMSA webhook'
    if ($Purge) { $action += ' and delete the GMSACredentialSpec CRD with every credential spec' }
    $request.dry_run = Get-KubeGmsaDryRun $PSCmdlet "webhook $(Get-KubeGmsaWebhookName $WebhookName)" $action
    if ($null -eq $request.dry_run) { return }
    Invoke-KubeGmsaNative $PSCmdlet 'gmsa_uninstall_webhook' $request -Activity 'Uninstalling the gMSA webhook' -TypeName WebhookUninstallOutcome -TargetObject $WebhookName
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
    $request = New-KubeGmsaRequest $PSCmdlet @{ name = 'WebhookName'; namespace = 'Namespace' }
    $outcome = Invoke-KubeGmsaNative $PSCmdlet 'gmsa_status' $request -Activity 'Reading the gMSA webhook status' -TypeName WebhookStatus -TargetObject $WebhookName
    if ($null -eq $outcome) { return }
    foreach ($w in $outcome.warnings) { Write-Warning $w }
    foreach ($p in $outcome.problems) { Write-Warning $p }
    $outcome
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
    $action = 'Issue a new serving certificate and restart the webhook'
    if ($NewCA) { $action = 'Make a new CA, issue a new serving certificate and restart the webhook' }
    if (-not $PSCmdlet.ShouldProcess("webhook $(Get-KubeGmsaWebhookName $WebhookName)", $action)) { return }
    $request = New-KubeGmsaRequest $PSCmdlet @{
        name               = 'WebhookName'
        namespace          = 'Namespace'
        new_ca             = 'NewCA'
        cert_validity_days = 'CertValidityDays'
        timeout_secs       = 'TimeoutSeconds'
    }
    $request.wait = -not $NoWait
    Invoke-KubeGmsaNative $PSCmdlet 'gmsa_rotate_certs' $request -Activity 'Rotating the webhook certificate' -TypeName CertificateRotation -TargetObject $WebhookName
}
