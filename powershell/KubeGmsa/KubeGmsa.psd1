# KubeGmsa.psd1: the manifest of the KubeGmsa module (gMSA credential specs on Kubernetes,
# backed by the gmsa_ffi native library of kubectl-gmsa). ModuleVersion is the workspace version.
@{
    RootModule           = 'KubeGmsa.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0c8a8e-3a4b-4f7e-9d2c-6b1e2a7c9d41'
    Author               = 'The kubectl-gmsa authors'
    CompanyName          = 'kubectl-gmsa'
    Copyright            = '(c) The kubectl-gmsa authors. MIT License.'
    Description          = 'gMSA credential specs for Windows containers on Kubernetes: add, remove, bind, check and lint them, install and check the admission webhook, and make gMSAs and their credential specs from Active Directory, with the same operations as the kubectl gmsa plugin.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FunctionsToExport    = @(
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
    FileList             = @(
        'KubeGmsa.psd1',
        'KubeGmsa.psm1',
        'KubeGmsa.Native.cs',
        'Common.ps1',
        'CredentialSpecs.ps1',
        'Webhook.ps1',
        'Directory.ps1',
        'Doctor.ps1',
        'LICENSE'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('gMSA', 'Kubernetes', 'Windows', 'containers', 'ActiveDirectory')
            LicenseUri = 'https://github.com/kubectl-gmsa/kubectl-gmsa/blob/main/LICENSE'
            ProjectUri = 'https://github.com/kubectl-gmsa/kubectl-gmsa'
        }
    }
}
