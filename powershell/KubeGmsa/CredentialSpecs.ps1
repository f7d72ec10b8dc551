# CredentialSpecs.ps1: the credential spec cmdlets (dot-sourced by KubeGmsa.psm1): lint,
# convert, add/remove with their RBAC, bind/unbind more service accounts, list, check access,
# and the domain-user Secret of ccg.exe plug-ins. The AksHci parameter names (-Name for the
# cluster, -credSpecFilePath, -credSpecName, -secretName, -secretNamespace, -serviceAccount,
# -clusterRoleName, -overwrite) bind as in Add-/Remove-AksHciGMSACredentialSpec.

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
    domain joined). Files can be piped in (Get-ChildItem *.json | Add-KubeGmsaCredentialSpec).

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
    .PARAMETER CcgPlugin
    With -SecretName: the ccg.exe plug-in, 'rancher' (default, reads that Secret), 'azure-key-vault' or 'aws'.
    .PARAMETER PluginGuid
    With -SecretName: another ccg.exe plug-in, by its COM CLSID.
    .PARAMETER PluginInput
    With -SecretName: the plug-in's input (Azure Key Vault: 'ObjectId=<id>;SecretUri=<uri>').
    .PARAMETER Namespace
    Namespace of the service accounts when it differs from -SecretNamespace; default the kubeconfig context's.
    .PARAMETER Overwrite
    Replace existing objects that differ.
    .PARAMETER KubeConfig
    Path of the kubeconfig; default $env:KUBECONFIG, then ~/.kube/config.
    .PARAMETER Context
    kubeconfig context (alias -Name: AksHci's cluster name); default the current one.

    .EXAMPLE
    Add-KubeGmsaCredentialSpec -CredSpecFilePath .\webapp01.json -CredSpecName webapp01 -ClusterRoleName webapp01-user -ServiceAccount app -SecretNamespace shop

    .EXAMPLE
    Add-KubeGmsaCredentialSpec -CredSpecFilePath .\webapp01.json -ServiceAccount app -Namespace shop -WhatIf

    .EXAMPLE
    Add-KubeGmsaCredentialSpec -CredSpecFilePath .\webapp01.json -SecretName unused -CcgPlugin azure-key-vault -PluginInput 'ObjectId=<id>;SecretUri=<uri>'

    .OUTPUTS
    KubeGmsa.ApplyOutcome: dry_run, objects (kind, name, namespace, action) and lint findings.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][Alias('FullName')][string]$CredSpecFilePath,
        [string]$CredSpecName,
        [string]$ClusterRoleName,
        [string[]]$ServiceAccount = @('default'),
        [string]$SecretName,
        [string]$SecretNamespace,
        [ValidateSet('azure-key-vault', 'aws', 'rancher')][string]$CcgPlugin,
        [string]$PluginGuid,
        [string]$PluginInput,
        [string]$Namespace,
        [switch]$Overwrite,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    process {
        if (-not $SecretName -and ($CcgPlugin -or $PluginGuid -or $PluginInput)) {
            Stop-KubeGmsaInvalidInput $PSCmdlet 'the ccg plug-in parameters need -SecretName (the Secret the plug-in reads; any name for plug-ins that read none)' $CredSpecFilePath
        }
        $request = New-KubeGmsaRequest $PSCmdlet @{
            'source.credspec_file'          = 'CredSpecFilePath'
            credspec_name                   = 'CredSpecName'
            cluster_role_name               = 'ClusterRoleName'
            service_accounts                = 'ServiceAccount'
            overwrite                       = 'Overwrite'
            'host_account.secret_name'      = 'SecretName'
            'host_account.ccg_plugin'       = 'CcgPlugin'
            'host_account.plugin_guid'      = 'PluginGuid'
            'host_account.plugin_input'     = 'PluginInput'
        } -Paths 'source.credspec_file'
        if ($SecretName -and $SecretNamespace) { $request.host_account.secret_namespace = $SecretNamespace }
        $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
        if ($ns) { $request.namespace = $ns }
        $request.dry_run = Get-KubeGmsaDryRun $PSCmdlet "credential spec $CredSpecName from $CredSpecFilePath" 'Add credential spec, cluster role and role bindings'
        if ($null -eq $request.dry_run) { return }
        Invoke-KubeGmsaNative $PSCmdlet 'gmsa_add_credspec' $request -Activity 'Adding credential spec' -TypeName ApplyOutcome -TargetObject $CredSpecFilePath
    }
}

function Remove-KubeGmsaCredentialSpec {
    <#
    .SYNOPSIS
    Removes a credential spec, its ClusterRole and its RoleBindings (only what this tool made).

    .DESCRIPTION
    Deletes the objects Add-KubeGmsaCredentialSpec made: the RoleBindings of the cluster role
    (in every namespace), the ClusterRole and the GMSACredentialSpec. Objects not managed by
    kubectl-gmsa are left in place and reported as skipped. -WhatIf runs the deletions as a
    server-side dry run. Takes Get-KubeGmsaCredentialSpec's output from the pipeline.

    .PARAMETER CredSpecName
    Name of the GMSACredentialSpec resource.
    .PARAMETER ClusterRoleName
    Name of the ClusterRole; default: the ClusterRoles kubectl-gmsa made for this credential
    spec (found by their kubectl-gmsa/credspec annotation) and '<CredSpecName>-gmsa-user'.
    Objects made for another credential spec are never removed.
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
    kubeconfig context (alias -Name: AksHci's cluster name).

    .EXAMPLE
    Remove-KubeGmsaCredentialSpec -CredSpecName webapp01 -ClusterRoleName webapp01-user

    .EXAMPLE
    Get-KubeGmsaCredentialSpec | Where-Object account -eq WebApp01 | Remove-KubeGmsaCredentialSpec -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][string]$CredSpecName,
        [string]$ClusterRoleName,
        [string[]]$ServiceAccount = @(),
        [string]$SecretNamespace,
        [string]$Namespace,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    process {
        $request = New-KubeGmsaRequest $PSCmdlet @{
            credspec_name     = 'CredSpecName'
            cluster_role_name = 'ClusterRoleName'
            service_accounts  = 'ServiceAccount'
        }
        $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
        if ($ns) { $request.namespace = $ns }
        $request.dry_run = Get-KubeGmsaDryRun $PSCmdlet "credential spec $CredSpecName" 'Remove credential spec, cluster role and role bindings'
        if ($null -eq $request.dry_run) { return }
        Invoke-KubeGmsaNative $PSCmdlet 'gmsa_remove_credspec' $request -Activity 'Removing credential spec' -TypeName ApplyOutcome -TargetObject $CredSpecName
    }
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
    kubeconfig context (alias -Name: AksHci's cluster name).

    .EXAMPLE
    Add-KubeGmsaRoleBinding -ClusterRoleName webapp01-user -ServiceAccount app, worker -Namespace shop
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, ValueFromPipelineByPropertyName = $true)][string]$ClusterRoleName,
        [string[]]$ServiceAccount = @('default'),
        [string]$SecretNamespace,
        [string]$Namespace,
        [switch]$Overwrite,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    process {
        $request = New-KubeGmsaRequest $PSCmdlet @{ cluster_role_name = 'ClusterRoleName'; service_accounts = 'ServiceAccount'; overwrite = 'Overwrite' }
        $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
        if ($ns) { $request.namespace = $ns }
        $request.dry_run = Get-KubeGmsaDryRun $PSCmdlet "cluster role $ClusterRoleName" "Bind service accounts $($ServiceAccount -join ', ')"
        if ($null -eq $request.dry_run) { return }
        Invoke-KubeGmsaNative $PSCmdlet 'gmsa_bind_role' $request -Activity 'Binding service accounts' -TypeName ApplyOutcome -TargetObject $ClusterRoleName
    }
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
    kubeconfig context (alias -Name: AksHci's cluster name).

    .EXAMPLE
    Remove-KubeGmsaRoleBinding -ClusterRoleName webapp01-user -ServiceAccount worker -Namespace shop
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, ValueFromPipelineByPropertyName = $true)][string]$ClusterRoleName,
        [string[]]$ServiceAccount = @('default'),
        [string]$SecretNamespace,
        [string]$Namespace,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    process {
        $request = New-KubeGmsaRequest $PSCmdlet @{ cluster_role_name = 'ClusterRoleName'; service_accounts = 'ServiceAccount' }
        $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
        if ($ns) { $request.namespace = $ns }
        $request.dry_run = Get-KubeGmsaDryRun $PSCmdlet "cluster role $ClusterRoleName" "Unbind service accounts $($ServiceAccount -join ', ')"
        if ($null -eq $request.dry_run) { return }
        Invoke-KubeGmsaNative $PSCmdlet 'gmsa_unbind_role' $request -Activity 'Unbinding service accounts' -TypeName ApplyOutcome -TargetObject $ClusterRoleName
    }
}

function Get-KubeGmsaCredentialSpec {
    <#
    .SYNOPSIS
    Lists the credential specs of a cluster with the accounts they name and who may use them.

    .DESCRIPTION
    A credential spec that does not exist is a non-terminating error (ObjectNotFound), so
    -ErrorAction SilentlyContinue turns it into no output. Each object also has a
    CredSpecName property, so it pipes into Remove-KubeGmsaCredentialSpec and Test-KubeGmsaAccess.

    .PARAMETER CredSpecName
    One credential spec; default all.
    .PARAMETER IncludeResource
    Include each GMSACredentialSpec resource as it is stored, and (in the outcome's rbac) the
    ClusterRoles and RoleBindings that let service accounts use them.
    .PARAMETER Namespace
    Only the service accounts of this namespace, and (without -CredSpecName) only the
    credential specs one of them may use. Default: every namespace.
    .PARAMETER KubeConfig
    Path of the kubeconfig.
    .PARAMETER Context
    kubeconfig context (alias -Name: AksHci's cluster name).

    .EXAMPLE
    Get-KubeGmsaCredentialSpec

    .EXAMPLE
    Get-KubeGmsaCredentialSpec -Namespace shop

    .EXAMPLE
    Get-KubeGmsaCredentialSpec -CredSpecName webapp01 | Select-Object -ExpandProperty service_accounts

    .OUTPUTS
    KubeGmsa.CredentialSpec: name (and CredSpecName), account, domain, net_bios_name, cluster_roles, service_accounts, managed.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][string]$CredSpecName,
        [switch]$IncludeResource,
        [string]$Namespace,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    process {
        $request = New-KubeGmsaRequest $PSCmdlet @{ name = 'CredSpecName'; include_resources = 'IncludeResource'; namespace = 'Namespace' }
        $outcome = Invoke-KubeGmsaNative $PSCmdlet 'gmsa_get' $request -Activity 'Listing credential specs' -TargetObject $CredSpecName
        if ($null -eq $outcome) { return }
        foreach ($item in $outcome.items) {
            $item.PSObject.Properties.Add((New-Object System.Management.Automation.PSAliasProperty -ArgumentList 'CredSpecName', 'name'))
            Add-KubeGmsaTypeName $item 'CredentialSpec'
        }
    }
}

function Test-KubeGmsaCredentialSpec {
    <#
    .SYNOPSIS
    Lints a credential spec file (or JSON text) with the same rules as 'kubectl gmsa lint'.

    .DESCRIPTION
    Returns the findings (errors and warnings, each with a rule, a path and a message). Rule
    violations are findings, not errors; an unreadable file or text that is not JSON is an
    error. Files can be piped in: Get-ChildItem *.json | Test-KubeGmsaCredentialSpec.

    .PARAMETER CredSpecFilePath
    The credential spec JSON file.
    .PARAMETER CredSpecJson
    The credential spec as JSON text.

    .EXAMPLE
    Test-KubeGmsaCredentialSpec -CredSpecFilePath .\webapp01.json

    .EXAMPLE
    Get-ChildItem .\credspecs\*.json | Test-KubeGmsaCredentialSpec | Where-Object errors -gt 0
    #>
    [CmdletBinding(DefaultParameterSetName = 'File')]
    param(
        [Parameter(Mandatory = $true, ParameterSetName = 'File', Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][Alias('FullName')][string]$CredSpecFilePath,
        [Parameter(Mandatory = $true, ParameterSetName = 'Json')][string]$CredSpecJson
    )
    process {
        $request = New-KubeGmsaRequest $PSCmdlet @{ 'source.credspec_file' = 'CredSpecFilePath'; 'source.credspec' = 'CredSpecJson' } -Paths 'source.credspec_file'
        $outcome = Invoke-KubeGmsaNative $PSCmdlet 'gmsa_lint' $request -TypeName LintOutcome -TargetObject $CredSpecFilePath
        if ($null -ne $outcome -and $CredSpecFilePath) { $outcome | Add-Member -NotePropertyName Path -NotePropertyValue $request.source.credspec_file -PassThru } else { $outcome }
    }
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
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][Alias('FullName')][string]$CredSpecFilePath,
        [string]$CredSpecName
    )
    process {
        $request = New-KubeGmsaRequest $PSCmdlet @{ 'source.credspec_file' = 'CredSpecFilePath'; credspec_name = 'CredSpecName' } -Paths 'source.credspec_file'
        $outcome = Invoke-KubeGmsaNative $PSCmdlet 'gmsa_convert' $request -TargetObject $CredSpecFilePath
        if ($null -eq $outcome) { return }
        foreach ($f in $outcome.findings) { Write-Warning "$($f.path): $($f.message)" }
        $outcome.resource
    }
}

function New-KubeGmsaDomainUserSecret {
    <#
    .SYNOPSIS
    Writes the Secret with the domain user that a ccg.exe plug-in uses to read the gMSA password.

    .DESCRIPTION
    Creates (server-side apply) an Opaque Secret with the keys domain, username and password,
    for credential specs of hosts that are not domain joined (see -SecretName of
    Add-KubeGmsaCredentialSpec). The password is copied from the PSCredential into the
    request for the call and never shown: the outcome carries the Secret with its data
    redacted. (.NET strings cannot be wiped, so that copy stays in this process's memory
    until it is reused; the request bytes given to the library are zeroed after the call.)

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
    kubeconfig context (alias -Name: AksHci's cluster name).

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
        [Alias('Name')][string]$Context
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
        Stop-KubeGmsaInvalidInput $PSCmdlet 'no domain given: pass -Domain contoso.com, or a credential user name like user@contoso.com' $SecretName
    }
    $request = New-KubeGmsaRequest $PSCmdlet @{ secret_name = 'SecretName'; namespace = 'SecretNamespace'; overwrite = 'Overwrite' }
    $request.dry_run = Get-KubeGmsaDryRun $PSCmdlet "secret $SecretName" "Write the domain user $userDomain\$user"
    if ($null -eq $request.dry_run) { return }
    $request.domain = $userDomain
    $request.username = $user
    $request.password = $Credential.GetNetworkCredential().Password
    try {
        Invoke-KubeGmsaNative $PSCmdlet 'gmsa_create_secret' $request -Activity 'Writing the domain user secret' -TypeName ApplyOutcome -TargetObject $SecretName
    } finally {
        $request.password = $null
    }
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
    kubeconfig context (alias -Name: AksHci's cluster name).

    .EXAMPLE
    Test-KubeGmsaAccess -CredSpecName webapp01 -ServiceAccount app -Namespace shop

    .EXAMPLE
    Get-KubeGmsaCredentialSpec | Test-KubeGmsaAccess -ServiceAccount shop:app

    .OUTPUTS
    KubeGmsa.AccessAnswer: service_account ('namespace:name') and allowed. A credential spec
    that does not exist is a terminating error (not found), not an answer.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][string]$CredSpecName,
        [string[]]$ServiceAccount = @('default'),
        [string]$SecretNamespace,
        [string]$Namespace,
        [string]$KubeConfig,
        [Alias('Name')][string]$Context
    )
    process {
        $request = New-KubeGmsaRequest $PSCmdlet @{ credspec_name = 'CredSpecName'; service_accounts = 'ServiceAccount' }
        $ns = Get-KubeGmsaNamespace -Namespace $Namespace -SecretNamespace $SecretNamespace
        if ($ns) { $request.namespace = $ns }
        $outcome = Invoke-KubeGmsaNative $PSCmdlet 'gmsa_check_access' $request -TargetObject $CredSpecName
        if ($null -eq $outcome) { return }
        foreach ($answer in $outcome.answers) { Add-KubeGmsaTypeName $answer 'AccessAnswer' }
    }
}
