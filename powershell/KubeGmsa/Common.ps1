# Common.ps1: what every KubeGmsa cmdlet shares (private, dot-sourced by KubeGmsa.psm1):
# building a request from the cmdlet's own parameters, calling the native library with
# progress, verbose events and Ctrl+C, and turning its errors into PowerShell errors.

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
    cancelled         = [System.Management.Automation.ErrorCategory]::OperationStopped
}

# Errors about the one object a call was about: written as non-terminating errors (so that
# -ErrorAction SilentlyContinue and pipeline input work as with Get-Item); every other kind
# stops the cmdlet.
$script:ObjectErrors = @('not_found', 'conflict')

# The library's messages and hints name the CLI's flags and commands (one wording for every
# door); this module shows them in PowerShell's words. '' keeps the CLI's word (no
# parameter of that meaning here). tests/powershell.rs fails when a flag or `kubectl gmsa`
# command in the core's sources has no entry, or an entry names a parameter no cmdlet has.
$script:CliWords = @{
    'kubectl gmsa add-credspec'    = 'Add-KubeGmsaCredentialSpec'
    'kubectl gmsa remove-credspec' = 'Remove-KubeGmsaCredentialSpec'
    'kubectl gmsa get'             = 'Get-KubeGmsaCredentialSpec'
    'kubectl gmsa lint'            = 'Test-KubeGmsaCredentialSpec'
    'kubectl gmsa install-webhook' = 'Install-KubeGmsaWebhook'
    'kubectl gmsa rotate-certs'    = 'Update-KubeGmsaWebhookCertificate'
    'kubectl gmsa create-account'  = 'New-KubeGmsaAccount'
    'kubectl gmsa check-account'   = 'Test-KubeGmsaAccount'
    'kubectl gmsa new-credspec'    = 'New-KubeGmsaCredentialSpec'
    'kubectl gmsa bind-role'       = 'Add-KubeGmsaRoleBinding'
    'kubectl gmsa create-secret'   = 'New-KubeGmsaDomainUserSecret'
    'kubectl gmsa status'          = 'Get-KubeGmsaStatus'
    'kubectl gmsa uninstall-webhook' = 'Uninstall-KubeGmsaWebhook'
    'kubectl gmsa doctor'          = 'Test-KubeGmsaConfiguration'
    'kubectl gmsa attach'          = 'Set-KubeGmsaWorkload'
    '--account'                    = '-AccountName'
    '--credspec-name'              = '-CredSpecName'
    '--service-account'            = '-ServiceAccount'
    '--dns-server'                 = '-DnsServer'
    '--plugin-account'             = '-PluginAccount'
    '--bind'                       = '-Bind'
    '--exec'                       = '-Exec'
    '--image'                      = '-Image'
    '--webhook'                    = ''
    '--kubeconfig'                 = '-KubeConfig'
    '--context'                    = '-Context'
    '--namespace'                  = '-Namespace'
    '--name'                       = '-WebhookName'
    '--overwrite'                  = '-Overwrite'
    '--dry-run=server'             = '-WhatIf'
    '--dry-run=client'             = '-WhatIf'
    '--credspec-file'              = '-CredSpecFilePath'
    '--cluster-role-name'          = '-ClusterRoleName'
    '--ccg-plugin'                 = '-CcgPlugin'
    '--plugin-guid'                = '-PluginGuid'
    '--plugin-input'               = '-PluginInput'
    '--username'                   = '-Credential'
    '--server'                     = '-Server'
    '--domain'                     = '-Domain'
    '--ca-file'                    = '-CaFile'
    '--user'                       = '-Credential'
    '--password-stdin'             = '-Credential'
    '--create-group'               = '-CreateGroup'
    '--member'                     = '-Members'
    '--allowed-principal'          = '-PrincipalsAllowedToRetrieveManagedPassword'
    '--additional-account'         = '-AdditionalAccounts'
    '--dns-host-name'              = '-DnsHostName'
    '--timeout'                    = '-TimeoutSeconds'
    '--no-wait'                    = '-NoWait'
    '--force'                      = '-Force'
    '--purge'                      = '-Purge'
    '--replicas'                   = '-Replicas'
    '--failure-policy'             = '-FailurePolicy'
    '--cert-manager'               = '-CertManager'
    '--cert-validity'              = '-CertValidityDays'
    '--request-timeout'            = ''
    '--chunk-size'                 = ''
    '--kube-version'               = ''
}

function ConvertTo-KubeGmsaWords {
    # A message or hint of the library with the CLI's flags and commands in PowerShell's words.
    param([string]$Text)
    if (-not $Text) { return $Text }
    return [regex]::Replace($Text, 'kubectl gmsa [a-z][a-z-]*|--[a-z][a-z0-9-]*(=[a-z]+)?', {
            param($m)
            $word = $script:CliWords[$m.Value]
            if ($word) { return $word }
            return $m.Value
        })
}

function Resolve-KubeGmsaPath {
    # The library does not know PowerShell's current location: pass absolute paths.
    param([Parameter(Mandatory = $true)][string]$Path)
    return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

function New-KubeGmsaRequest {
    # The JSON request of the calling cmdlet. -Fields maps each request field ('a.b' for a
    # nested one) to the cmdlet parameter it comes from; the value is read from the cmdlet's
    # variable (so defaults count). Switches become booleans; ValidateSet values take the
    # set's own spelling (the library is case-sensitive, PowerShell is not); $null and ''
    # are left out (the library's default applies); -Paths fields are made absolute.
    # `target` comes from -KubeConfig and -Context when the cmdlet has them.
    param(
        [Parameter(Mandatory = $true, Position = 0)][System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Position = 1)][hashtable]$Fields = @{},
        [string[]]$Paths = @()
    )
    $parameters = $Cmdlet.MyInvocation.MyCommand.Parameters
    if ($parameters.ContainsKey('KubeConfig')) {
        $Fields['target.kubeconfig'] = 'KubeConfig'
        $Fields['target.context'] = 'Context'
        $Paths += 'target.kubeconfig'
    }
    $request = @{}
    if ($parameters.ContainsKey('KubeConfig')) { $request.target = @{} }
    foreach ($field in $Fields.Keys) {
        $name = $Fields[$field]
        $value = Get-Variable -Name $name -Scope 1 -ValueOnly
        if ($value -is [System.Management.Automation.SwitchParameter]) { $value = $value.IsPresent }
        if ($null -eq $value -or ($value -is [string] -and $value -eq '')) { continue }
        foreach ($set in $parameters[$name].Attributes.Where({ $_ -is [System.Management.Automation.ValidateSetAttribute] })) {
            $value = foreach ($v in @($value)) { $set.ValidValues.Where({ $_ -eq $v }, 'First')[0] }
        }
        if ($Paths -contains $field) { $value = Resolve-KubeGmsaPath $value }
        $node = $request
        $parts = $field.Split('.')
        for ($i = 0; $i -lt $parts.Count - 1; $i++) {
            if (-not $node.ContainsKey($parts[$i])) { $node[$parts[$i]] = @{} }
            $node = $node[$parts[$i]]
        }
        $node[$parts[-1]] = $value
    }
    return $request
}

function Get-KubeGmsaDryRun {
    # Map -WhatIf / -Confirm to a dry run: 'none' to go ahead, 'server' for -WhatIf (the API
    # server validates everything and writes nothing), $null when the user declined.
    param([System.Management.Automation.PSCmdlet]$Cmdlet, [string]$Target, [string]$Action)
    if ($Cmdlet.ShouldProcess($Target, $Action)) { return 'none' }
    if ($Cmdlet.SessionState.PSVariable.GetValue('WhatIfPreference')) { return 'server' }
    return $null
}

function Get-KubeGmsaNamespace {
    # The namespace of the service accounts: -Namespace, else (as in AksHci) -SecretNamespace,
    # else the kubeconfig context's (null here).
    param([string]$Namespace, [string]$SecretNamespace)
    if ($Namespace) { return $Namespace }
    if ($SecretNamespace) { return $SecretNamespace }
    return $null
}

function ConvertTo-KubeGmsaPlainDate {
    # PowerShell 7's ConvertFrom-Json turns RFC 3339 strings into [DateTime], 5.1's does not:
    # turn them back into RFC 3339 strings (UTC) so that both editions return the same types.
    param($InputObject)
    if ($InputObject -is [datetime]) {
        return $InputObject.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", [System.Globalization.CultureInfo]::InvariantCulture)
    }
    if ($InputObject -is [System.Management.Automation.PSCustomObject]) {
        foreach ($p in $InputObject.PSObject.Properties) { $p.Value = ConvertTo-KubeGmsaPlainDate $p.Value }
        return $InputObject
    }
    if ($InputObject -is [array]) {
        for ($i = 0; $i -lt $InputObject.Count; $i++) { $InputObject[$i] = ConvertTo-KubeGmsaPlainDate $InputObject[$i] }
        return , $InputObject
    }
    return $InputObject
}

function Invoke-KubeGmsaNative {
    # Call one entry point with a request and return the outcome as objects (type name
    # KubeGmsa.<TypeName>). Progress events become Write-Progress and, per object,
    # Write-Verbose of the calling cmdlet (so -Verbose and $VerbosePreference count); Ctrl+C
    # cancels the call. A failure becomes an error record on behalf of -Cmdlet with the
    # library's message, hint (RecommendedAction) and -TargetObject: non-terminating for
    # errors about that object (nothing is returned), terminating otherwise.
    param(
        [Parameter(Mandatory = $true, Position = 0)][System.Management.Automation.PSCmdlet]$Cmdlet,
        [Parameter(Mandatory = $true, Position = 1)][string]$EntryPoint,
        [Parameter(Mandatory = $true, Position = 2)][hashtable]$Request,
        [string]$Activity,
        [string]$TypeName,
        $TargetObject
    )
    $json = ConvertTo-Json -InputObject $Request -Depth 32 -Compress
    $onProgress = $null
    if ($Activity) {
        $onProgress = [Action[string]] ({
                param($eventJson)
                $e = ConvertFrom-Json -InputObject $eventJson
                $record = New-Object System.Management.Automation.ProgressRecord -ArgumentList 1, $Activity, 'working'
                switch ($e.event) {
                    'step' { $record.StatusDescription = $e.message; $Cmdlet.WriteProgress($record) }
                    'object' {
                        $where = ''
                        if ($e.PSObject.Properties['namespace']) { $where = " -n $($e.namespace)" }
                        $Cmdlet.WriteVerbose("$($e.kind)/$($e.name)$($where): $($e.action)")
                    }
                    'waiting' {
                        $record.StatusDescription = $e.message
                        if ($e.total -gt 0) { $record.PercentComplete = [int](100 * $e.done / $e.total) }
                        $Cmdlet.WriteProgress($record)
                    }
                }
            }.GetNewClosure())
    }
    $response = $null
    $callbackError = $null
    try {
        $status = [KubeGmsa.Native]::Call($script:Context, $EntryPoint, $json, $onProgress, $Cmdlet, [ref]$response, [ref]$callbackError)
    } finally {
        $json = $null
        if ($Activity) {
            $done = New-Object System.Management.Automation.ProgressRecord -ArgumentList 1, $Activity, 'done'
            $done.RecordType = [System.Management.Automation.ProgressRecordType]::Completed
            $Cmdlet.WriteProgress($done)
        }
    }
    if ($null -ne $callbackError) {
        # Ctrl+C while an event was shown: PowerShell stops the pipeline itself.
        if ($callbackError -is [System.Management.Automation.PipelineStoppedException]) { throw $callbackError }
        throw (New-Object System.InvalidOperationException -ArgumentList "showing progress failed: $($callbackError.Message)", $callbackError)
    }
    if ($status -ne 0) {
        if ($Cmdlet.Stopping) { throw (New-Object System.Management.Automation.PipelineStoppedException) }
        $err = ConvertFrom-Json -InputObject $response
        $kind = [string]$err.kind
        $category = $script:ErrorCategories[$kind]
        if ($null -eq $category) { $category = [System.Management.Automation.ErrorCategory]::NotSpecified }
        $message = ConvertTo-KubeGmsaWords $err.message
        $exception = New-Object System.Exception -ArgumentList $message
        $record = New-Object System.Management.Automation.ErrorRecord -ArgumentList $exception, "KubeGmsa.$kind", $category, $TargetObject
        if ($err.PSObject.Properties['hint'] -and $err.hint) {
            $record.ErrorDetails = New-Object System.Management.Automation.ErrorDetails -ArgumentList $message
            $record.ErrorDetails.RecommendedAction = ConvertTo-KubeGmsaWords $err.hint
        }
        if ($script:ObjectErrors -contains $kind) {
            $Cmdlet.WriteError($record)
            return
        }
        $Cmdlet.ThrowTerminatingError($record)
    }
    $outcome = ConvertTo-KubeGmsaPlainDate (ConvertFrom-Json -InputObject $response)
    if ($TypeName -and $null -ne $outcome) { $outcome.PSObject.TypeNames.Insert(0, "KubeGmsa.$TypeName") }
    return $outcome
}

function Add-KubeGmsaTypeName {
    # Give outcome objects a type name so that formatting and Get-Member say what they are.
    param($InputObject, [string]$TypeName)
    if ($null -ne $InputObject) { $InputObject.PSObject.TypeNames.Insert(0, "KubeGmsa.$TypeName") }
    return $InputObject
}

function New-KubeGmsaDirectoryTarget {
    # The `directory` of a request: which domain controller, how to trust it, and how to bind.
    # The password is copied out of the PSCredential's SecureString here, into the request
    # only; .NET strings cannot be wiped, so that copy (and the JSON text made from it) stays
    # in this process's memory until the garbage collector reuses it. The UTF-8 request bytes
    # handed to the library are zeroed after the call. Without -Credential: Kerberos.
    param(
        [string]$Server,
        [string]$Domain,
        [string]$DnsServer,
        [string]$CaFile,
        [System.Management.Automation.PSCredential]$Credential,
        [int]$TimeoutSeconds
    )
    $directory = @{}
    if ($Server) { $directory.server = $Server }
    if ($Domain) { $directory.domain = $Domain }
    if ($DnsServer) { $directory.dns_server = $DnsServer }
    if ($CaFile) { $directory.ca_file = Resolve-KubeGmsaPath $CaFile }
    if ($TimeoutSeconds -gt 0) { $directory.timeout_secs = $TimeoutSeconds }
    if ($null -ne $Credential -and $Credential -ne [System.Management.Automation.PSCredential]::Empty) {
        $directory.user = $Credential.UserName
        $directory.password = $Credential.GetNetworkCredential().Password
    }
    return $directory
}

function Stop-KubeGmsaInvalidInput {
    # A terminating invalid-input error found by the module itself, before any call.
    param([System.Management.Automation.PSCmdlet]$Cmdlet, [string]$Message, $TargetObject)
    $exception = New-Object System.ArgumentException -ArgumentList $Message
    $Cmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord -ArgumentList $exception, 'KubeGmsa.invalid_input', ([System.Management.Automation.ErrorCategory]::InvalidArgument), $TargetObject))
}
