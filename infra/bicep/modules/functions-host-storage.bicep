// The Functions host's own storage account (AzureWebJobsStorage): its leases, keys (azure-webjobs-
// secrets), blob receipts and blob-trigger dispatch queue, its diagnostic events table, and the Flex
// Consumption deployment package. Separate from the data account (storage.bicep) so that the roles the
// host needs account-wide (Blob Data Owner, Queue and Table Data Contributor) cover nothing but this
// bookkeeping: an attacker who gets code running behind the internet-facing webhook does not thereby
// own every user's photo, result and the model files the GPU worker loads.
// Keyless like the data account: shared-key access off, Entra ID only.

@description('Azure region of the account.')
param location string

@description('Tags applied to the account (carries azd-env-name).')
param tags object

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Container Flex Consumption deploys the Function app package from.')
param deploymentContainerName string

@description('Days after which blob receipts (they carry the uploaded blob\'s name) are deleted.')
@minValue(1)
param retentionDays int

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      // Flex Consumption is not in a virtual network here.
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: storageAccount
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// The blob trigger writes one receipt per processed upload, named
// azure-webjobs-hosts/blobreceipts/<host>/<function>/<etag>/<container>/<blob name>: the upload's name
// outlives the upload unless it is deleted on the same schedule. Lifecycle policies run about once a
// day. (Deleting a receipt cannot re-trigger anything: Event Grid delivers each BlobCreated once, and the
// upload itself is deleted at the same age.)
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2024-01-01' = {
  parent: storageAccount
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-blob-receipts-after-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'azure-webjobs-hosts/blobreceipts/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: retentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

output storageAccountName string = storageAccount.name
output blobEndpoint string = storageAccount.properties.primaryEndpoints.blob
output deploymentContainerName string = deploymentContainer.name
