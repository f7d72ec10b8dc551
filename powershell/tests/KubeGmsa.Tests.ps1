# KubeGmsa.Tests.ps1: Pester 5 tests of the KubeGmsa module, for a CI that has PowerShell
# (Windows PowerShell 5.1 or PowerShell 7). They need the native library in
# powershell/KubeGmsa/bin/<rid>/ (cargo build --release -p gmsa-ffi, then copy). The
# cluster tests run when $env:GMSA_TEST_KUBECONFIG names a test cluster's kubeconfig
# (scripts/test-cluster.sh ensure prints one) and are skipped otherwise. The Active
# Directory tests run when $env:GMSA_TEST_DC_ENV names the env file of a test DC
# (scripts/test-dc.sh ensure prints it) and are skipped otherwise.
# Run: Invoke-Pester -Path powershell/tests (Windows PowerShell ships Pester 3.4: install
# Pester 5 first, Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser -Force).
#Requires -Modules @{ModuleName='Pester';ModuleVersion='5.0'}

BeforeAll {
    $script:ModuleDir = Join-Path (Split-Path -Parent $PSScriptRoot) 'KubeGmsa'
    $script:Examples = Join-Path (Split-Path -Parent (Split-Path -Parent $PSScriptRoot)) 'examples/credspecs'
    $script:Example = Join-Path $script:Examples 'webapp01-domain-joined.json'
    Import-Module (Join-Path $script:ModuleDir 'KubeGmsa.psd1') -Force
    $script:KubeConfig = $env:GMSA_TEST_KUBECONFIG
    $script:HaveCluster = [bool]$script:KubeConfig
}

AfterAll {
    Remove-Module KubeGmsa -ErrorAction SilentlyContinue
}

Describe 'The module' {
    It 'has a manifest for Desktop and Core with the workspace version' {
        $manifest = Test-ModuleManifest -Path (Join-Path $script:ModuleDir 'KubeGmsa.psd1')
        $manifest.CompatiblePSEditions | Should -Contain 'Desktop'
        $manifest.CompatiblePSEditions | Should -Contain 'Core'
        $cargo = Get-Content (Join-Path (Split-Path -Parent (Split-Path -Parent $PSScriptRoot)) 'Cargo.toml') -Raw
        $cargo -match '(?m)^version = "([^"]+)"' | Should -BeTrue
        $manifest.Version.ToString() | Should -Be $Matches[1]
    }

    It 'exports exactly the cmdlets of the manifest' {
        $exported = (Get-Module KubeGmsa).ExportedFunctions.Keys | Sort-Object
        $exported | Should -Be (@(
                'Add-KubeGmsaCredentialSpec', 'Add-KubeGmsaRoleBinding', 'ConvertTo-KubeGmsaCredentialSpecResource',
                'Get-KubeGmsaCredentialSpec', 'New-KubeGmsaDomainUserSecret', 'Remove-KubeGmsaCredentialSpec',
                'Remove-KubeGmsaRoleBinding', 'Test-KubeGmsaAccess', 'Test-KubeGmsaCredentialSpec',
                'Install-KubeGmsaWebhook', 'Uninstall-KubeGmsaWebhook', 'Get-KubeGmsaStatus', 'Update-KubeGmsaWebhookCertificate',
                'New-KubeGmsaCredentialSpec', 'Test-KubeGmsaAccount', 'New-KubeGmsaAccount') | Sort-Object)
    }

    It 'loaded a library of its ABI version' {
        [KubeGmsa.Native]::gmsa_abi_version() | Should -Be 1
    }

    It 'documents every cmdlet with examples' {
        foreach ($name in (Get-Module KubeGmsa).ExportedFunctions.Keys) {
            $help = Get-Help $name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterThan 0
        }
    }

    It 'supports -WhatIf on every cmdlet that writes' {
        foreach ($name in 'Add-KubeGmsaCredentialSpec', 'Remove-KubeGmsaCredentialSpec', 'Add-KubeGmsaRoleBinding', 'Remove-KubeGmsaRoleBinding', 'New-KubeGmsaDomainUserSecret',
            'Install-KubeGmsaWebhook', 'Uninstall-KubeGmsaWebhook', 'Update-KubeGmsaWebhookCertificate', 'New-KubeGmsaAccount') {
            (Get-Command $name).Parameters.Keys | Should -Contain 'WhatIf'
            (Get-Command $name).Parameters.Keys | Should -Contain 'Confirm'
        }
    }

    It 'keeps the AksHci parameter -Name (the cluster: the kubeconfig context) on every cluster cmdlet' {
        foreach ($name in (Get-Module KubeGmsa).ExportedFunctions.Keys | Where-Object { (Get-Command $_).Parameters.ContainsKey('KubeConfig') }) {
            (Get-Command $name).Parameters['Context'].Aliases | Should -Contain 'Name'
        }
    }

    It 'takes directory passwords only as a PSCredential' {
        foreach ($name in 'New-KubeGmsaCredentialSpec', 'Test-KubeGmsaAccount', 'New-KubeGmsaAccount') {
            $parameters = (Get-Command $name).Parameters
            $parameters['Credential'].ParameterType | Should -Be ([System.Management.Automation.PSCredential])
            $parameters.Keys | Should -Not -Contain 'Password'
        }
    }
}

Describe 'Parameter binding (the request each cmdlet builds, the library mocked)' {
    BeforeAll {
        # The library call replaced by one that returns the request it was given.
        Mock -ModuleName KubeGmsa Invoke-KubeGmsaNative { [pscustomobject]@{ EntryPoint = $EntryPoint; Request = $Request; items = @(); answers = @() } }
    }

    It 'binds a ported Add-AksHciGMSACredentialSpec line as AksHci users expect' {
        $r = Add-KubeGmsaCredentialSpec -Name c1 -credSpecFilePath $script:Example -credSpecName webapp01 -secretName gmsa-user -secretNamespace shop -serviceAccount app -clusterRoleName webapp01-user -overwrite -Confirm:$false
        $r.Request.target.context | Should -BeExactly 'c1'
        $r.Request.namespace | Should -BeExactly 'shop'
        $r.Request.credspec_name | Should -BeExactly 'webapp01'
        $r.Request.cluster_role_name | Should -BeExactly 'webapp01-user'
        $r.Request.host_account.secret_name | Should -BeExactly 'gmsa-user'
        $r.Request.host_account.secret_namespace | Should -BeExactly 'shop'
        $r.Request.service_accounts | Should -Be @('app')
        $r.Request.overwrite | Should -BeTrue
    }

    It 'binds -Name to the cluster on Remove-, the role bindings, the access test and Get-' {
        (Remove-KubeGmsaCredentialSpec -Name c1 -credSpecName webapp01 -serviceAccount app -secretNamespace shop -clusterRoleName r -Confirm:$false).Request.target.context | Should -BeExactly 'c1'
        (Add-KubeGmsaRoleBinding -Name c1 -ClusterRoleName r -Confirm:$false).Request.target.context | Should -BeExactly 'c1'
        (Remove-KubeGmsaRoleBinding -Name c1 -ClusterRoleName r -Confirm:$false).Request.target.context | Should -BeExactly 'c1'
        # These two list what comes back (nothing here): check the request they sent.
        Test-KubeGmsaAccess -Name c1 -CredSpecName x
        Should -Invoke -ModuleName KubeGmsa Invoke-KubeGmsaNative -Times 1 -Exactly -ParameterFilter { $EntryPoint -eq 'gmsa_check_access' -and $Request.target.context -eq 'c1' }
        Get-KubeGmsaCredentialSpec -Name c1
        Should -Invoke -ModuleName KubeGmsa Invoke-KubeGmsaNative -Times 1 -Exactly -ParameterFilter { $EntryPoint -eq 'gmsa_get' -and $Request.target.context -eq 'c1' -and -not $Request.ContainsKey('name') }
    }

    It 'sends ValidateSet values in their canonical case' {
        (Install-KubeGmsaWebhook -FailurePolicy ignore -NoWait -Confirm:$false).Request.failure_policy | Should -BeExactly 'Ignore'
        (Add-KubeGmsaCredentialSpec -CredSpecFilePath $script:Example -SecretName s -CcgPlugin AWS -PluginInput x -Confirm:$false).Request.host_account.ccg_plugin | Should -BeExactly 'aws'
    }

    It 'takes files from the pipeline' {
        $r = @(Get-ChildItem $script:Examples -Filter *.json | Add-KubeGmsaCredentialSpec -Confirm:$false)
        $r.Count | Should -Be @(Get-ChildItem $script:Examples -Filter *.json).Count
        $r[0].Request.source.credspec_file | Should -BeLike '*.json'
    }

    It 'refuses ccg plug-in parameters without -SecretName, before any call' {
        { Add-KubeGmsaCredentialSpec -CredSpecFilePath $script:Example -CcgPlugin rancher -Confirm:$false } | Should -Throw -ErrorId 'KubeGmsa.invalid_input,Add-KubeGmsaCredentialSpec'
    }
}

Describe 'Local operations' {
    It 'lints every file piped in' {
        $files = @(Get-ChildItem $script:Examples -Filter *.json)
        $r = @($files | Test-KubeGmsaCredentialSpec)
        $r.Count | Should -Be $files.Count
        $r.Path | Should -Be $files.FullName
    }

    It 'lints a good credential spec without errors' {
        $r = Test-KubeGmsaCredentialSpec -CredSpecFilePath $script:Example
        $r.errors | Should -Be 0
    }

    It 'reports findings of a bad credential spec as output, not as an error' {
        $spec = Get-Content $script:Example -Raw | ConvertFrom-Json
        $spec.DomainJoinConfig.PSObject.Properties.Remove('Sid')
        $r = Test-KubeGmsaCredentialSpec -CredSpecJson ($spec | ConvertTo-Json -Depth 10)
        $r.errors | Should -BeGreaterThan 0
    }

    It 'resolves relative paths against the current location' {
        Push-Location $script:Examples
        try {
            (Test-KubeGmsaCredentialSpec -CredSpecFilePath './webapp01-domain-joined.json').errors | Should -Be 0
        } finally {
            Pop-Location
        }
    }

    It 'converts a credential spec to the resource' {
        $r = ConvertTo-KubeGmsaCredentialSpecResource -CredSpecFilePath $script:Example -CredSpecName webapp01
        $r.kind | Should -Be 'GMSACredentialSpec'
        $r.metadata.name | Should -Be 'webapp01'
    }

    It 'turns a library error into a terminating error with its message' {
        $missing = Join-Path ([System.IO.Path]::GetTempPath()) 'no-such-credspec.json'
        { ConvertTo-KubeGmsaCredentialSpecResource -CredSpecFilePath $missing } |
            Should -Throw -ErrorId 'KubeGmsa.invalid_input,ConvertTo-KubeGmsaCredentialSpecResource' -ExpectedMessage '*failed to read credential spec file*'
    }
}

Describe 'Cluster operations' -Skip:(-not $env:GMSA_TEST_KUBECONFIG) {
    BeforeAll {
        $script:Name = "pester-$PID-$(Get-Random)"
        $script:Role = "$($script:Name)-user"
    }

    It 'adds nothing with -WhatIf (server dry run)' {
        $r = Add-KubeGmsaCredentialSpec -CredSpecFilePath $script:Example -CredSpecName $script:Name -ClusterRoleName $script:Role -ServiceAccount app -Namespace default -KubeConfig $script:KubeConfig -WhatIf
        $r.dry_run | Should -Be 'server'
        { Get-KubeGmsaCredentialSpec -CredSpecName $script:Name -KubeConfig $script:KubeConfig -ErrorAction Stop } | Should -Throw -ErrorId 'KubeGmsa.not_found,Get-KubeGmsaCredentialSpec'
    }

    It 'adds a credential spec that the service account may use' {
        $r = Add-KubeGmsaCredentialSpec -CredSpecFilePath $script:Example -CredSpecName $script:Name -ClusterRoleName $script:Role -ServiceAccount app -SecretNamespace default -KubeConfig $script:KubeConfig -Confirm:$false
        @($r.objects | Where-Object action -EQ 'created').Count | Should -Be 3
        (Test-KubeGmsaAccess -CredSpecName $script:Name -ServiceAccount app -Namespace default -KubeConfig $script:KubeConfig).allowed | Should -BeTrue
        (Get-KubeGmsaCredentialSpec -CredSpecName $script:Name -KubeConfig $script:KubeConfig).service_accounts | Should -Contain 'default:app'
    }

    It 'refuses an identity without permissions with a terminating error' {
        { Add-KubeGmsaCredentialSpec -CredSpecFilePath $script:Example -CredSpecName "$($script:Name)-x" -KubeConfig $script:KubeConfig -Context alice -Confirm:$false } |
            Should -Throw -ErrorId 'KubeGmsa.forbidden,Add-KubeGmsaCredentialSpec'
    }

    It 'binds and unbinds another service account' {
        Add-KubeGmsaRoleBinding -ClusterRoleName $script:Role -ServiceAccount web -Namespace default -KubeConfig $script:KubeConfig -Confirm:$false | Out-Null
        (Test-KubeGmsaAccess -CredSpecName $script:Name -ServiceAccount web -Namespace default -KubeConfig $script:KubeConfig).allowed | Should -BeTrue
        Remove-KubeGmsaRoleBinding -ClusterRoleName $script:Role -ServiceAccount web -Namespace default -KubeConfig $script:KubeConfig -Confirm:$false | Out-Null
        (Test-KubeGmsaAccess -CredSpecName $script:Name -ServiceAccount web -Namespace default -KubeConfig $script:KubeConfig).allowed | Should -BeFalse
    }

    It 'writes the domain user secret without returning the password' {
        $password = ConvertTo-SecureString "Pester-$(Get-Random)-Secret" -AsPlainText -Force
        $cred = New-Object System.Management.Automation.PSCredential -ArgumentList 'reader@contoso.com', $password
        $r = New-KubeGmsaDomainUserSecret -SecretName "$($script:Name)-reader" -SecretNamespace default -Credential $cred -KubeConfig $script:KubeConfig -Confirm:$false
        $r.objects[0].object.data.password | Should -Be 'REDACTED'
        ($r | ConvertTo-Json -Depth 20) | Should -Not -Match 'Pester-.*-Secret'
    }

    It 'says what to do in PowerShell words (-Overwrite, not --overwrite)' {
        $other = Join-Path $script:Examples 'webapp01-akv-plugin.json'
        $r = Add-KubeGmsaCredentialSpec -CredSpecFilePath $other -CredSpecName $script:Name -ClusterRoleName $script:Role -ServiceAccount app -Namespace default -KubeConfig $script:KubeConfig -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable ev
        $r | Should -BeNullOrEmpty
        $ev[0].FullyQualifiedErrorId | Should -Be 'KubeGmsa.conflict,Add-KubeGmsaCredentialSpec'
        $ev[0].TargetObject | Should -Be $other
        "$($ev[0].ErrorDetails.RecommendedAction) $($ev[0].Exception.Message)" | Should -Not -Match '(^|\s)--[a-z]'
        $ev[0].ErrorDetails.RecommendedAction | Should -Match '-Overwrite'
    }

    It 'shows the per-object events with -Verbose' {
        $out = Add-KubeGmsaRoleBinding -ClusterRoleName $script:Role -ServiceAccount web -Namespace default -KubeConfig $script:KubeConfig -Confirm:$false -Verbose 4>&1
        @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'RoleBinding/*' }).Count | Should -BeGreaterThan 0
        $quiet = Remove-KubeGmsaRoleBinding -ClusterRoleName $script:Role -ServiceAccount web -Namespace default -KubeConfig $script:KubeConfig -Confirm:$false 4>&1
        @($quiet | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Count | Should -Be 0
    }

    It 'makes not_found a non-terminating error with its target' {
        $missing = "$($script:Name)-missing"
        $r = Get-KubeGmsaCredentialSpec -CredSpecName $missing -KubeConfig $script:KubeConfig -ErrorAction SilentlyContinue -ErrorVariable ev
        $r | Should -BeNullOrEmpty
        $ev[0].FullyQualifiedErrorId | Should -Be 'KubeGmsa.not_found,Get-KubeGmsaCredentialSpec'
        $ev[0].TargetObject | Should -Be $missing
    }

    It 'runs a ported AksHci script (only the cmdlet names changed)' {
        $sa = "$($script:Name)-sa"
        Add-KubeGmsaCredentialSpec -Name admin -credSpecFilePath $script:Example -credSpecName "$($script:Name)-aks" -secretName gmsa-user -secretNamespace default -serviceAccount $sa -clusterRoleName "$($script:Role)-aks" -overwrite -KubeConfig $script:KubeConfig -Confirm:$false | Out-Null
        $g = Get-KubeGmsaCredentialSpec -CredSpecName "$($script:Name)-aks" -KubeConfig $script:KubeConfig
        $g.service_accounts | Should -Contain "default:$sa"
        Remove-KubeGmsaCredentialSpec -Name admin -credSpecName "$($script:Name)-aks" -serviceAccount $sa -secretNamespace default -clusterRoleName "$($script:Role)-aks" -KubeConfig $script:KubeConfig -Confirm:$false | Out-Null
        Get-KubeGmsaCredentialSpec -CredSpecName "$($script:Name)-aks" -KubeConfig $script:KubeConfig -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'removes the credential spec' {
        $r = Remove-KubeGmsaCredentialSpec -CredSpecName $script:Name -ClusterRoleName $script:Role -Namespace default -KubeConfig $script:KubeConfig -Confirm:$false
        @($r.objects | Where-Object action -EQ 'deleted').Count | Should -BeGreaterOrEqual 2
        { Get-KubeGmsaCredentialSpec -CredSpecName $script:Name -KubeConfig $script:KubeConfig -ErrorAction Stop } | Should -Throw -ErrorId 'KubeGmsa.not_found,Get-KubeGmsaCredentialSpec'
    }
}

Describe 'Webhook operations' -Skip:(-not $env:GMSA_TEST_KUBECONFIG) {
    BeforeAll {
        # Its own name and namespace, and failure policy Ignore: other tests' pods are never blocked.
        $script:Hook = "pester-wh-$PID-$(Get-Random)"
        $script:HookNs = "pester-whns-$PID-$(Get-Random)"
        $script:HookArgs = @{ WebhookName = $script:Hook; Namespace = $script:HookNs; KubeConfig = $script:KubeConfig; Context = 'admin' }
    }

    AfterAll {
        Uninstall-KubeGmsaWebhook @script:HookArgs -Confirm:$false -ErrorAction SilentlyContinue | Out-Null
    }

    It 'installs nothing with -WhatIf (server dry run)' {
        $r = Install-KubeGmsaWebhook @script:HookArgs -FailurePolicy Ignore -NoWait -WhatIf
        $r.dry_run | Should -Be 'server'
        ($r | ConvertTo-Json -Depth 20) | Should -Not -Match 'PRIVATE KEY'
        (Get-KubeGmsaStatus @script:HookArgs -WarningAction SilentlyContinue).deployment.present | Should -BeFalse
    }

    It 'installs the webhook without waiting, and the status names what is not ready' {
        $r = Install-KubeGmsaWebhook @script:HookArgs -FailurePolicy Ignore -NoWait -Confirm:$false
        $r.dry_run | Should -Be 'none'
        @($r.objects | Where-Object kind -EQ 'Deployment').Count | Should -Be 1
        $s = Get-KubeGmsaStatus @script:HookArgs -WarningAction SilentlyContinue
        $s.deployment.present | Should -BeTrue
        $s.healthy | Should -BeFalse
        $s.webhooks[0].failure_policy | Should -Be 'Ignore'
    }

    It 'rotates the serving certificate' {
        $before = (Get-KubeGmsaStatus @script:HookArgs -WarningAction SilentlyContinue).certificate.serial
        $r = Update-KubeGmsaWebhookCertificate @script:HookArgs -NoWait -Confirm:$false
        $r.certificate.issued | Should -BeTrue
        $r.certificate.serial | Should -Not -Be $before
    }

    It 'accepts -FailurePolicy in any case and returns dates as strings in every edition' {
        $r = Install-KubeGmsaWebhook @script:HookArgs -FailurePolicy ignore -NoWait -WhatIf
        $r.dry_run | Should -Be 'server'
        $s = Get-KubeGmsaStatus @script:HookArgs -WarningAction SilentlyContinue
        $s.certificate.not_after | Should -BeOfType [string]
        $s.certificate.not_after | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$'
    }

    It 'stops a waiting install when the pipeline is stopped (as Ctrl+C does)' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($module, $hookArgs)
                    Import-Module $module
                    Install-KubeGmsaWebhook @hookArgs -FailurePolicy Ignore -TimeoutSeconds 600 -Confirm:$false
                }).AddArgument((Join-Path $script:ModuleDir 'KubeGmsa.psd1')).AddArgument($script:HookArgs)
            $async = $ps.BeginInvoke()
            # Wait until the install is waiting for its Deployment (it never becomes ready here).
            while (-not $async.IsCompleted -and -not ($ps.Streams.Progress | Where-Object StatusDescription -like '*wait*')) { Start-Sleep -Milliseconds 200 }
            $ps.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        } finally {
            $ps.Dispose()
        }
    }

    It 'refuses bad input with a terminating error' {
        { Install-KubeGmsaWebhook -WebhookName 'Bad_Name' -Namespace $script:HookNs -KubeConfig $script:KubeConfig -NoWait -Confirm:$false } |
            Should -Throw -ErrorId 'KubeGmsa.invalid_input,Install-KubeGmsaWebhook'
    }

    It 'uninstalls the webhook' {
        $r = Uninstall-KubeGmsaWebhook @script:HookArgs -Confirm:$false
        @($r.objects | Where-Object action -EQ 'deleted').Count | Should -BeGreaterThan 5
        (Get-KubeGmsaStatus @script:HookArgs -WarningAction SilentlyContinue).deployment.present | Should -BeFalse
    }
}

Describe 'Active Directory operations' -Skip:(-not $env:GMSA_TEST_DC_ENV) {
    BeforeAll {
        $script:Dc = @{}
        foreach ($line in Get-Content $env:GMSA_TEST_DC_ENV) {
            if ($line -match '^export (\w+)=(.*)$') { $script:Dc[$Matches[1]] = $Matches[2].Trim('"', "'") }
        }
        $password = ConvertTo-SecureString $script:Dc.GMSA_TEST_DC_ADMIN_PASSWORD -AsPlainText -Force
        $script:Admin = New-Object System.Management.Automation.PSCredential -ArgumentList $script:Dc.GMSA_TEST_DC_ADMIN_USER, $password
        $script:DcArgs = @{ Server = $script:Dc.GMSA_TEST_DC_LDAPS_URL; CaFile = $script:Dc.GMSA_TEST_DC_CA }
        # The DC is shared: a name nobody else uses (at most 15 characters).
        $script:Account = 'ps' + ('{0:D5}' -f ($PID % 100000)) + ('{0:D6}' -f (Get-Random -Maximum 1000000))
    }

    It 'creates nothing with -WhatIf and returns the LDIF' {
        $r = New-KubeGmsaAccount -AccountName $script:Account -PrincipalsAllowedToRetrieveManagedPassword WebHosts -Credential $script:Admin @script:DcArgs -WhatIf
        $r.dry_run | Should -BeTrue
        $r.ldif | Should -Match 'msDS-GroupManagedServiceAccount'
        # A missing gMSA is a failed check, not an error.
        $check = Test-KubeGmsaAccount -AccountName $script:Account -Credential $script:Admin @script:DcArgs
        $check.passed | Should -BeFalse
        ($check.checks | Where-Object check -EQ 'exists').status | Should -Be 'fail'
    }

    It 'creates a gMSA, checks it and makes its credential spec' {
        $r = New-KubeGmsaAccount -AccountName $script:Account -PrincipalsAllowedToRetrieveManagedPassword WebHosts -Credential $script:Admin @script:DcArgs -Confirm:$false
        $r.dry_run | Should -BeFalse
        $check = Test-KubeGmsaAccount -AccountName $script:Account -Credential $script:Admin @script:DcArgs
        $check.account | Should -Be $script:Account
        ($check.checks | Where-Object check -EQ 'exists').status | Should -Be 'pass'
        $spec = New-KubeGmsaCredentialSpec -AccountName $script:Account -Credential $script:Admin @script:DcArgs -WarningAction SilentlyContinue
        $spec.credspec.DomainJoinConfig.MachineAccountName | Should -Be $script:Account
        $spec.default_file_name | Should -BeLike '*_*.json'
    }

    It 'writes no file with -Path and -WhatIf' {
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) "pester-$PID-$(Get-Random)"
        New-Item -ItemType Directory -Path $dir | Out-Null
        try {
            New-KubeGmsaCredentialSpec -AccountName $script:Account -Credential $script:Admin @script:DcArgs -Path $dir -WhatIf -WarningAction SilentlyContinue | Out-Null
            @(Get-ChildItem $dir).Count | Should -Be 0
        } finally {
            Remove-Item -Recurse -Force $dir
        }
    }

    It 'refuses a wrong password without showing it' {
        $wrong = ConvertTo-SecureString "Wrong-Pester-$(Get-Random)" -AsPlainText -Force
        $cred = New-Object System.Management.Automation.PSCredential -ArgumentList $script:Dc.GMSA_TEST_DC_ADMIN_USER, $wrong
        $e = $null
        try { Test-KubeGmsaAccount -AccountName $script:Account -Credential $cred @script:DcArgs } catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -Be 'KubeGmsa.unauthorized,Test-KubeGmsaAccount'
        ($e | Out-String) | Should -Not -Match 'Wrong-Pester-'
    }
}
