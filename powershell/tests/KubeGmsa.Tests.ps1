# KubeGmsa.Tests.ps1: Pester 5 tests of the KubeGmsa module, for a CI that has PowerShell
# (Windows PowerShell 5.1 or PowerShell 7). They need the native library in
# powershell/KubeGmsa/bin/<rid>/ (cargo build --release -p gmsa-ffi, then copy). The
# cluster tests run when $env:GMSA_TEST_KUBECONFIG names a test cluster's kubeconfig
# (scripts/test-cluster.sh ensure prints one) and are skipped otherwise.
# Run: Invoke-Pester -Path powershell/tests

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
                'Remove-KubeGmsaRoleBinding', 'Test-KubeGmsaAccess', 'Test-KubeGmsaCredentialSpec') | Sort-Object)
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
        foreach ($name in 'Add-KubeGmsaCredentialSpec', 'Remove-KubeGmsaCredentialSpec', 'Add-KubeGmsaRoleBinding', 'Remove-KubeGmsaRoleBinding', 'New-KubeGmsaDomainUserSecret') {
            (Get-Command $name).Parameters.Keys | Should -Contain 'WhatIf'
        }
    }
}

Describe 'Local operations' {
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
        { Get-KubeGmsaCredentialSpec -CredSpecName $script:Name -KubeConfig $script:KubeConfig } | Should -Throw -ErrorId 'KubeGmsa.not_found,Get-KubeGmsaCredentialSpec'
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

    It 'removes the credential spec' {
        $r = Remove-KubeGmsaCredentialSpec -CredSpecName $script:Name -ClusterRoleName $script:Role -Namespace default -KubeConfig $script:KubeConfig -Confirm:$false
        @($r.objects | Where-Object action -EQ 'deleted').Count | Should -BeGreaterOrEqual 2
        { Get-KubeGmsaCredentialSpec -CredSpecName $script:Name -KubeConfig $script:KubeConfig } | Should -Throw -ErrorId 'KubeGmsa.not_found,Get-KubeGmsaCredentialSpec'
    }
}
