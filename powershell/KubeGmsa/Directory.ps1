# Directory.ps1: the Active Directory cmdlets (dot-sourced by KubeGmsa.psm1): a gMSA's
# credential spec from the directory, checking a gMSA, creating one. The password of
# -Credential is copied into the request for the call only (see New-KubeGmsaDirectoryTarget).

function New-KubeGmsaCredentialSpec {
    <#
    .SYNOPSIS
    Makes the credential spec of a gMSA from Active Directory (like New-CredentialSpec, over LDAP).

    .DESCRIPTION
    Reads the domain (SID, GUID, DNS and NetBIOS names, forest root) and the gMSA from a domain
    controller and returns the credential spec New-CredentialSpec would write, with lint
    findings as warnings. Works from any host: no domain join or RSAT needed. With -Credential
    it binds as that user (simple bind, always over TLS); without it, with Kerberos and the
    current ticket. The password is taken from the PSCredential for the call and never shown
    (.NET strings cannot be wiped: see the module's README). With -Path the credential spec is also written to a file (a folder gets
    New-CredentialSpec's file name, '<netbios>_<account>.json').

    .PARAMETER AccountName
    The gMSA (a trailing '$' is ignored).
    .PARAMETER AdditionalAccounts
    More gMSAs the container may use: 'NAME' or 'NAME@DOMAIN'.
    .PARAMETER Server
    'ldaps://host[:port]' or 'ldap://host[:port]' (StartTLS); default 'ldap://<Domain>'.
    .PARAMETER Domain
    DNS name of the domain (checked against what the server serves).
    .PARAMETER DnsServer
    The DNS server ('IP' or 'IP:PORT') that finds the DCs of -Domain when -Server is not given; default $env:GMSA_DNS_SERVER, else the system's.
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
    Write the credential spec JSON to this file or folder (-WhatIf: reads the directory, writes no file).

    .EXAMPLE
    New-KubeGmsaCredentialSpec -AccountName webapp01 -Server ldaps://dc1.contoso.com -Credential (Get-Credential) -Path .\

    .EXAMPLE
    (New-KubeGmsaCredentialSpec -AccountName webapp01 -Domain contoso.com -CcgPlugin azure-key-vault -PluginInput 'ObjectId=...;SecretUri=...').credspec | ConvertTo-Json -Depth 10

    .OUTPUTS
    KubeGmsa.NewCredentialSpec: credspec, default_file_name, resource, domain, findings, stats.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, Position = 0)][string]$AccountName,
        [string[]]$AdditionalAccounts = @(),
        [string]$Server,
        [string]$Domain,
        [string]$DnsServer,
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
    $request = New-KubeGmsaRequest $PSCmdlet @{
        account              = 'AccountName'
        additional_accounts  = 'AdditionalAccounts'
        credspec_name        = 'CredSpecName'
        'plugin.ccg_plugin'  = 'CcgPlugin'
        'plugin.plugin_guid' = 'PluginGuid'
        'plugin.plugin_input' = 'PluginInput'
    }
    $file = $null
    if ($Path) {
        $file = Resolve-KubeGmsaPath $Path
        if (-not $PSCmdlet.ShouldProcess($file, 'Write the credential spec')) { $file = $null }
    }
    try {
        $request.directory = New-KubeGmsaDirectoryTarget -Server $Server -Domain $Domain -DnsServer $DnsServer -CaFile $CaFile -Credential $Credential -TimeoutSeconds $TimeoutSeconds
        $outcome = Invoke-KubeGmsaNative $PSCmdlet 'gmsa_new_credspec' $request -Activity 'Reading the gMSA from the directory' -TypeName NewCredentialSpec -TargetObject $AccountName
    } finally {
        if ($request.ContainsKey('directory')) { $request.directory.password = $null }
    }
    if ($null -eq $outcome) { return }
    foreach ($f in $outcome.findings) { Write-Warning "$($f.path): $($f.message)" }
    if ($file) {
        if (Test-Path -LiteralPath $file -PathType Container) { $file = Join-Path $file $outcome.default_file_name }
        $json = ConvertTo-Json -InputObject $outcome.credspec -Depth 32
        [System.IO.File]::WriteAllText($file, $json, (New-Object System.Text.UTF8Encoding -ArgumentList $false))
        Write-Verbose "wrote $file"
    }
    $outcome
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
    .PARAMETER DnsServer
    The DNS server ('IP' or 'IP:PORT') that finds the DCs of -Domain when -Server is not given; default $env:GMSA_DNS_SERVER, else the system's.
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
        [string]$DnsServer,
        [string]$CaFile,
        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]$Credential = [System.Management.Automation.PSCredential]::Empty,
        [ValidateRange(1, 3600)][int]$TimeoutSeconds
    )
    $request = New-KubeGmsaRequest $PSCmdlet @{ account = 'AccountName' }
    try {
        $request.directory = New-KubeGmsaDirectoryTarget -Server $Server -Domain $Domain -DnsServer $DnsServer -CaFile $CaFile -Credential $Credential -TimeoutSeconds $TimeoutSeconds
        Invoke-KubeGmsaNative $PSCmdlet 'gmsa_check_account' $request -Activity 'Checking the gMSA' -TypeName AccountCheck -TargetObject $AccountName
    } finally {
        if ($request.ContainsKey('directory')) { $request.directory.password = $null }
    }
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
    .PARAMETER DnsServer
    The DNS server ('IP' or 'IP:PORT') that finds the DCs of -Domain when -Server is not given; default $env:GMSA_DNS_SERVER, else the system's.
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
        [string]$DnsServer,
        [string]$CaFile,
        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]$Credential = [System.Management.Automation.PSCredential]::Empty,
        [ValidateRange(1, 3600)][int]$TimeoutSeconds
    )
    $request = New-KubeGmsaRequest $PSCmdlet @{
        account                 = 'AccountName'
        dns_host_name           = 'DnsHostName'
        service_principal_names = 'ServicePrincipalNames'
        allowed_principals      = 'PrincipalsAllowedToRetrieveManagedPassword'
        create_group            = 'CreateGroup'
        members                 = 'Members'
        container               = 'Path'
    }
    $dryRun = Get-KubeGmsaDryRun $PSCmdlet "gMSA $AccountName" 'Create the group managed service account'
    if ($null -eq $dryRun) { return }
    $request.dry_run = ($dryRun -ne 'none')
    try {
        $request.directory = New-KubeGmsaDirectoryTarget -Server $Server -Domain $Domain -DnsServer $DnsServer -CaFile $CaFile -Credential $Credential -TimeoutSeconds $TimeoutSeconds
        Invoke-KubeGmsaNative $PSCmdlet 'gmsa_create_account' $request -Activity 'Creating the gMSA' -TypeName NewAccount -TargetObject $AccountName
    } finally {
        if ($request.ContainsKey('directory')) { $request.directory.password = $null }
    }
}
